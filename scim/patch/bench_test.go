package patch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

func BenchmarkApply(b *testing.B) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	var members []string
	for i := range 256 {
		members = append(members, fmt.Sprintf(`{"value":"00u%017d","display":"user%d@example.com"}`, i, i))
	}
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Wiki Editors","members":[{"value":"x"}]}`
	tests := []struct {
		name, base, ops string
		rt              *schema.ResourceType
	}{
		{"okta deactivate", userJSON, `[{"op":"replace","value":{"active":false}}]`, schema.UserType()},
		{"entra path-less dotted replace", userJSON,
			`[{"op":"Replace","value":{"displayName":"Al Ex","name.givenName":"Al","name.familyName":"Ex","` + ent + `:employeeNumber":"701984","active":"True"}}]`,
			schema.UserType()},
		{"okta 256-member add", group, `[{"op":"add","path":"members","value":[` + strings.Join(members, ",") + `]}]`, schema.GroupType()},
	}
	for _, tt := range tests {
		var base map[string]any
		if err := json.Unmarshal([]byte(tt.base), &base); err != nil {
			b.Fatal(err)
		}
		var o []scim.PatchOperation
		if err := json.Unmarshal([]byte(tt.ops), &o); err != nil {
			b.Fatal(err)
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Apply(base, o, tt.rt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
