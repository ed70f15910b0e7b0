package filter

import (
	"encoding/json"
	"testing"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// thingType has the types User and Group lack: integer and decimal.
func thingType() *schema.ResourceType {
	return &schema.ResourceType{
		ID: "Thing", Name: "Thing", Endpoint: "/Things",
		Schema: &schema.Schema{ID: "urn:example:Thing", Name: "Thing", Attributes: []*schema.Attribute{
			{Name: "count", Type: schema.TypeInteger, Mutability: schema.ReadWrite},
			{Name: "ratio", Type: schema.TypeDecimal, Mutability: schema.ReadWrite},
			{Name: "blob", Type: schema.TypeBinary, Mutability: schema.ReadWrite},
			{Name: "flag", Type: schema.TypeBoolean, Mutability: schema.ReadWrite},
		}},
	}
}

// mustDecode decodes a JSON resource.
func mustDecode(t *testing.T, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// decodeJSON decodes a JSON object, for benchmarks and fuzzers that have no
// *testing.T.
func decodeJSON(s string) (map[string]any, error) {
	var r map[string]any
	err := json.Unmarshal([]byte(s), &r)
	return r, err
}

// cmpEq is the AST of name eq "v".
func cmpEq(name, v string) *Compare {
	return &Compare{Attr: AttrPath{Name: name}, Op: "eq", Value: v}
}

// mustEval parses filter and evaluates it against r; either failing
// fails the test.
func mustEval(t *testing.T, filter string, r scim.Resource, rt *schema.ResourceType) bool {
	t.Helper()
	e, err := Parse(filter)
	if err != nil {
		t.Fatalf("Parse(%q): %v", filter, err)
	}
	got, err := Eval(e, r, rt)
	if err != nil {
		t.Fatalf("Eval(%q): %v", filter, err)
	}
	return got
}

// evalEmpty parses filter, which must parse, and returns the error of
// evaluating it against an empty resource.
func evalEmpty(t *testing.T, filter string, rt *schema.ResourceType) error {
	t.Helper()
	e, err := Parse(filter)
	if err != nil {
		t.Fatalf("Parse(%q): %v", filter, err)
	}
	_, err = Eval(e, scim.Resource{}, rt)
	return err
}
