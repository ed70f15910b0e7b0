package filter

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

var fuzzSeeds = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J" and not (title pr)`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`emails[type eq "work"].value eq "x"`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
	`a pr or (b pr or c pr) and d eq -1.5e-7`,
	`x eq null and y eq TRUE`,
	`members[display eq x,value eq y]`,
	`userName eq "p1" and (`,
	`a eq "\u00e9\ud83d\ude00"`,
}

// FuzzParse checks that Parse never panics, fails only with 400
// invalidFilter, prints filters that parse back to the same AST, and that
// Eval and Equalities never panic. Seeds: fuzzSeeds and
// testdata/fuzz/FuzzParse (Okta's and Entra's filters and hostile ones).
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	user, group := schema.UserType(), schema.GroupType()
	r := scim.Resource{"userName": "a", "emails": []any{map[string]any{"value": "x"}}, "members": []any{"u"}, "meta": map[string]any{"created": 5.0}}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if !errors.Is(err, scim.ErrInvalidFilter) {
				t.Fatalf("Parse(%q) error %v is not invalidFilter", s, err)
			}
			return
		}
		again, err := Parse(e.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, e.String(), err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("%q re-parsed differently (-first +second):\n%s", s, diff)
		}
		for _, rt := range []*schema.ResourceType{user, group} {
			if _, err := Eval(e, r, rt); err != nil && !errors.Is(err, scim.ErrInvalidFilter) {
				t.Fatalf("Eval error %v is not invalidFilter", err)
			}
		}
		Equalities(e)
	})
}

// FuzzParsePath checks that ParsePath never panics, fails only with 400
// invalidPath and prints paths that parse back the same. Seeds:
// testdata/fuzz/FuzzParsePath.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"active", "name.givenName", `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "members[display eq x,value eq y]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, scim.ErrInvalidPath) {
				t.Fatalf("ParsePath(%q) error %v is not invalidPath", s, err)
			}
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(%q).String() = %q does not parse: %v", s, p.String(), err)
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Fatalf("%q re-parsed differently (-first +second):\n%s", s, diff)
		}
	})
}
