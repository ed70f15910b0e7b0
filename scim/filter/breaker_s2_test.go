package filter

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// alice has two emails, a work and a home one; nobody has no emails,
// no title and an email without a value.
const (
	alice = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"a","userName":"alice",
	  "title":"Engineer","name":{"givenName":"Alice"},
	  "emails":[{"value":"alice@x.com","type":"work"},{"value":"alice@home.org","type":"home"}],
	  "meta":{"created":"2026-03-01T10:00:00Z"}}`
	onlyWork = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"w","userName":"w",
	  "emails":[{"value":"w@x.com","type":"work"}]}`
	nobody  = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"n","userName":"nobody"}`
	noValue = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"v","userName":"v",
	  "emails":[{"type":"work"}]}`
)

// TestMultiValuedAnyValue: every operator on a multi-valued attribute (or
// a sub-attribute reached through one) holds when any value satisfies it,
// ne included (RFC 7644 §3.4.2.2), the same as the value-path form; not
// (… eq …) stays the negation of eq.
func TestMultiValuedAnyValue(t *testing.T) {
	tests := []struct {
		name, filter, resource string
		want                   bool
	}{
		{"ne sub, another value differs", `emails.value ne "alice@x.com"`, alice, true},
		{"ne value path, another value differs", `emails[value ne "alice@x.com"]`, alice, true},
		{"ne implicit value", `emails ne "alice@x.com"`, alice, true},
		{"ne type with work and home", `emails.type ne "work"`, alice, true},
		{"ne type with only work", `emails.type ne "work"`, onlyWork, false},
		{"ne type value path only work", `emails[type ne "work"]`, onlyWork, false},
		{"ne only value", `emails.value ne "w@x.com"`, onlyWork, false},
		{"ne case-insensitive", `emails.value ne "W@X.COM"`, onlyWork, false},
		{"not eq is the negation", `not (emails.value eq "alice@x.com")`, alice, false},
		{"not eq without that value", `not (emails.value eq "zz@x.com")`, alice, true},
		{"eq any", `emails.value eq "alice@home.org"`, alice, true},
		{"gt any", `emails.value gt "alice@i"`, alice, true},
		{"sw any", `emails.type sw "ho"`, alice, true},

		// absent attribute / empty list (the documented decision)
		{"ne absent single-valued", `title ne "x"`, nobody, true},
		{"ne absent sub of single complex", `name.givenName ne "x"`, nobody, true},
		{"ne no emails", `emails.value ne "x"`, nobody, false},
		{"ne no emails value path", `emails[value ne "x"]`, nobody, false},
		{"ne email without value", `emails.value ne "x"`, noValue, true},
		{"ne email without value, value path", `emails[value ne "x"]`, noValue, true},
		{"gt absent", `title gt "a"`, nobody, false},
		{"not eq no emails", `not (emails.value eq "x")`, nobody, true},
		{"eq null no emails", `emails.value eq null`, nobody, true},
		{"ne null no emails", `emails.value ne null`, nobody, false},
		{"ne null with emails", `emails.value ne null`, alice, true},
		{"ne null email without value", `emails.value ne null`, noValue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var r scim.Resource
			if err := json.Unmarshal([]byte(tt.resource), &r); err != nil {
				t.Fatal(err)
			}
			got, err := Eval(e, r, schema.UserType())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

// TestLowercaseDateTime: RFC 3339 §5.6 allows "t" and "z" in lower case.
func TestLowercaseDateTime(t *testing.T) {
	tests := []struct {
		name, filter, resource string
		want                   bool
	}{
		{"lowercase literal", `meta.created eq "2026-03-01t10:00:00z"`, alice, true},
		{"lowercase literal gt", `meta.created gt "2026-02-28t10:00:00z"`, alice, true},
		{"lowercase stored value", `meta.created eq "2026-03-01T10:00:00Z"`, `{"userName":"l","meta":{"created":"2026-03-01t10:00:00z"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var r scim.Resource
			if err := json.Unmarshal([]byte(tt.resource), &r); err != nil {
				t.Fatal(err)
			}
			got, err := Eval(e, r, schema.UserType())
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("still refuses a non-date", func(t *testing.T) {
		e, err := Parse(`meta.created gt "2026-03-01x10:00:00z"`)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Eval(e, scim.Resource{}, schema.UserType())
		if !errors.Is(err, scim.ErrInvalidFilter) {
			t.Errorf("err = %v, want invalidFilter", err)
		}
	})
}
