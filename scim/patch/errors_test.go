package patch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// TestRequiredErrorsNameTheOperation: removing, emptying or blanking a
// required attribute names the operation that did it.
func TestRequiredErrorsNameTheOperation(t *testing.T) {
	tests := []struct {
		name, base, ops, scimType, want string
	}{
		{"remove userName", userJSON, `[{"op":"add","path":"title","value":"T"},{"op":"remove","path":"userName"}]`,
			scim.TypeMutability, `operation 2 (remove): attribute "userName"`},
		{"empty displayName", groupJSON, `[{"op":"Replace","path":"displayName","value":""}]`,
			scim.TypeMutability, `operation 1 (Replace): attribute "displayName"`},
		{"path-less null userName", userJSON, `[{"op":"replace","value":{"userName":null}},{"op":"add","path":"title","value":"T"}]`,
			scim.TypeMutability, `operation 1 (replace): attribute "userName"`},
		{"blank userName", userJSON, `[{"op":"replace","path":"userName","value":"   "}]`,
			scim.TypeMutability, `operation 1 (replace): attribute "userName"`},
		{"displayName of tab and no-break space", groupJSON, `[{"op":"replace","path":"displayName","value":"\t\u00a0"}]`,
			scim.TypeMutability, `operation 1 (replace): attribute "displayName"`},
		{"last of two removes", userJSON, `[{"op":"remove","path":"userName"},{"op":"add","path":"userName","value":"b"},{"op":"remove","path":"userName"}]`,
			scim.TypeMutability, `operation 3 (remove): attribute "userName"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := applyError(t, tt.base, tt.ops)
			if diff := cmp.Diff(tt.scimType, se.ScimType); diff != "" {
				t.Errorf("scimType (-want +got):\n%s", diff)
			}
			if !strings.Contains(se.Detail, tt.want) {
				t.Errorf("detail %q does not contain %q", se.Detail, tt.want)
			}
		})
	}
	t.Run("remove then add back succeeds", func(t *testing.T) {
		got, err := Apply(decode(t, userJSON), ops(t, `[{"op":"remove","path":"userName"},{"op":"add","path":"userName","value":"b"}]`), schema.UserType())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("b", got["userName"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// TestErrorsNameTheOperation checks that an error says which operation
// failed, so an administrator can find it in a batch.
func TestErrorsNameTheOperation(t *testing.T) {
	se := applyError(t, userJSON, `[{"op":"add","path":"title","value":"T"},{"op":"Replace","path":"active","value":"maybe"}]`)
	for _, want := range []string{"operation 2", "Replace", "active"} {
		if !strings.Contains(se.Detail, want) {
			t.Errorf("detail %q does not mention %q", se.Detail, want)
		}
	}
}
