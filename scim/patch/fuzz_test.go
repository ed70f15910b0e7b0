package patch

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// FuzzApply checks that Apply never panics, never modifies its input, fails
// only with a 400 *scim.Error and returns only resources that Normalize
// accepts. The seed corpus in testdata/fuzz/FuzzApply holds the Okta and
// Entra ID shapes and hostile ones.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		`[{"op":"replace","value":{"active":false}}]`,
		`[{"op":"Replace","path":"active","value":"False"}]`,
		`[{"op":"Add","path":"emails[type eq \"home\"].value","value":"x"}]`,
		`[{"op":"remove","path":"emails[value eq \"alice@example.com\"]"}]`,
		`[{"op":"Remove","path":"members","value":[{"value":"b"}]}]`,
		`[{"op":"add","path":"members","value":["a","d"]}]`,
		`[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}}]`,
		`[{"op":"replace","path":"name","value":{"givenName":null}}]`,
		`[{"op":"replace","value":{"id":"u1","emails":[[1]],"name.x":1}}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var o []scim.PatchOperation
		if json.Unmarshal([]byte(s), &o) != nil {
			return
		}
		for _, base := range []string{userJSON, groupJSON} {
			rt := schema.UserType()
			if base == groupJSON {
				rt = schema.GroupType()
			}
			var in, before map[string]any
			json.Unmarshal([]byte(base), &in)
			json.Unmarshal([]byte(base), &before)
			got, err := Apply(in, o, rt)
			if diff := cmp.Diff(before, in); diff != "" {
				t.Fatalf("input modified:\n%s", diff)
			}
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 {
					t.Fatalf("error %v is not a 400 *scim.Error", err)
				}
				continue
			}
			if _, err := json.Marshal(got); err != nil {
				t.Fatalf("result does not marshal: %v", err)
			}
			// What Apply accepts must be storable: the server normalises it
			// again before it writes.
			if _, err := rt.Normalize(got); err != nil {
				t.Fatalf("result of %s does not normalise: %v\n%v", s, err, got)
			}
		}
	})
}
