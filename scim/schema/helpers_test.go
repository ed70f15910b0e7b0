package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// decode decodes a JSON resource.
func decode(t *testing.T, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// roundTrip is r marshalled and decoded again, as a client sees it.
func roundTrip(t *testing.T, r scim.Resource) scim.Resource {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

// normCase is a row of a Normalize table: the result wanted, or the
// error type and a part of its detail.
type normCase struct {
	name    string
	rt      *ResourceType
	in      string
	want    string // JSON; "" when an error is expected
	errType string
	detail  string // a part of the error detail, usually the attribute's name
}

// runNormalize runs Normalize on each case, checking that the input is
// left as it was.
func runNormalize(t *testing.T, tests []normCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(t, tt.in)
			before := decode(t, tt.in)
			got, err := tt.rt.Normalize(in)
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("input modified (-before +after):\n%s", diff)
			}
			if tt.want == "" {
				var se *scim.Error
				if !errors.As(err, &se) || se.ScimType != tt.errType || se.Status != 400 {
					t.Fatalf("err = %v, want 400 %s", err, tt.errType)
				}
				if !strings.Contains(se.Detail, tt.detail) {
					t.Errorf("detail %q does not name %q", se.Detail, tt.detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decode(t, tt.want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
