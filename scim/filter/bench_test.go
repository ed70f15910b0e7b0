package filter

import (
	"testing"

	"github.com/idpkit/idpkit/scim/schema"
)

// benchFilters are the filters Okta and Entra ID send, and the RFC's
// longest example.
var benchFilters = []struct{ name, filter string }{
	{"okta userName eq", `userName eq "alice@example.com"`},
	{"entra email value path", `emails[type eq "work"].value eq "chloe.martin@example.com"`},
	{"entra group member", `id eq "g-42" and members[value eq "a1B2c3"]`},
	{"rfc complex", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org") and not (meta.lastModified lt "2011-05-13T04:42:34Z")`},
}

func BenchmarkParse(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bf.filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEval(b *testing.B) {
	var user, group map[string]any
	for _, p := range []struct {
		s   string
		dst *map[string]any
	}{{oktaUser, &user}, {oktaGroup, &group}} {
		r, err := decodeJSON(p.s)
		if err != nil {
			b.Fatal(err)
		}
		*p.dst = r
	}
	ut, gt := schema.UserType(), schema.GroupType()
	for _, bf := range benchFilters {
		e, err := Parse(bf.filter)
		if err != nil {
			b.Fatal(err)
		}
		r, rt := user, ut
		if bf.name == "entra group member" {
			r, rt = group, gt
		}
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Eval(e, r, rt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
