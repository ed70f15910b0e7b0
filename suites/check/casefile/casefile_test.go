package casefile

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Case
		wantErr string
	}{
		{
			name: "minimal",
			in:   `{"id":"X1","title":"t","steps":[{"method":"GET","path":"/Users","expect":{"status":[200]}}]}`,
			want: Case{ID: "X1", Title: "t", Steps: []Step{{Method: "GET", Path: "/Users", Expect: Expect{Status: []int{200}}}}},
		},
		{
			name: "capture and token",
			in:   `{"id":"X2","steps":[{"method":"GET","path":"/Users","token":"bad","capture":{"u":"Resources.0.id"},"expect":{"status":[401],"len":{"Resources":0}}}]}`,
			want: Case{ID: "X2", Steps: []Step{{Method: "GET", Path: "/Users", Token: ptr("bad"), Capture: map[string]string{"u": "Resources.0.id"},
				Expect: Expect{Status: []int{401}, Len: map[string]int{"Resources": 0}}}}},
		},
		{name: "unknown field", in: `{"id":"X","steps":[{"method":"GET","path":"/","expect":{"status":[200],"hass":{}}}]}`, wantErr: "unknown field"},
		{name: "no id", in: `{"steps":[{"method":"GET","path":"/","expect":{"status":[200]}}]}`, wantErr: "no id"},
		{name: "no steps", in: `{"id":"X"}`, wantErr: "no steps"},
		{name: "no status", in: `{"id":"X","steps":[{"method":"GET","path":"/","expect":{}}]}`, wantErr: "expects no status"},
		{name: "relative path", in: `{"id":"X","steps":[{"method":"GET","path":"Users","expect":{"status":[200]}}]}`, wantErr: "does not start with /"},
		{name: "body and rawBody", in: `{"id":"X","steps":[{"method":"POST","path":"/Users","body":{},"rawBody":"{","expect":{"status":[400]}}]}`, wantErr: "both body and rawBody"},
		{name: "capture rand", in: `{"id":"X","steps":[{"method":"GET","path":"/","capture":{"rand":"id"},"expect":{"status":[200]}}]}`, wantErr: "bad capture"},
		{name: "trailing data", in: `{"id":"X","steps":[{"method":"GET","path":"/","expect":{"status":[200]}}]} {}`, wantErr: "after the case"},
		{name: "not json", in: `nope`, wantErr: "casefile:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestLoad(t *testing.T) {
	step := `"steps":[{"method":"GET","path":"/","expect":{"status":[200]}}]`
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr string
	}{
		{
			name: "sorted by name, other files ignored",
			fsys: fstest.MapFS{
				"c/b.json":   {Data: []byte(`{"id":"B",` + step + `}`)},
				"c/a.json":   {Data: []byte(`{"id":"A",` + step + `}`)},
				"c/notes.md": {Data: []byte("x")},
			},
			want: []string{"A", "B"},
		},
		{
			name:    "duplicate id",
			fsys:    fstest.MapFS{"c/a.json": {Data: []byte(`{"id":"A",` + step + `}`)}, "c/b.json": {Data: []byte(`{"id":"A",` + step + `}`)}},
			wantErr: "both have id A",
		},
		{name: "bad file named", fsys: fstest.MapFS{"c/a.json": {Data: []byte(`{`)}}, wantErr: "c/a.json"},
		{name: "empty dir", fsys: fstest.MapFS{"c/x.txt": {}}, wantErr: "no *.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases, err := Load(tt.fsys, "c")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			var got []string
			for _, c := range cases {
				got = append(got, c.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load() ids mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The project's own case files must always parse.
func TestLoadProjectCases(t *testing.T) {
	cases, err := Load(os.DirFS("../../../testdata/cases/scim"), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 12 {
		t.Errorf("Load() = %d cases, want at least 12", len(cases))
	}
}

func TestLookup(t *testing.T) {
	doc := mustDecode(t, `{"Resources":[{"id":"a","Name":{"givenName":"A"}}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"},"n":null}`)
	tests := []struct {
		path      string
		want      any
		wantFound bool
	}{
		{"Resources.0.id", "a", true},
		{"resources.0.name.GIVENNAME", "A", true},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber", "7", true},
		{"Resources.1.id", nil, false},
		{"Resources.x", nil, false},
		{"Resources.-1", nil, false},
		{"n", nil, true},
		{"missing", nil, false},
		{"Resources.0.id.deeper", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, found := Lookup(doc, tt.path)
			if diff := cmp.Diff([]any{tt.want, tt.wantFound}, []any{got, found}); diff != "" {
				t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	got := `{"schemas":["urn:x:List"],"totalResults":1,"Resources":[{"id":"a","members":[{"value":"u1"},{"value":"u2"}]}]}`
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{"empty object", `{}`, true},
		{"scalar number", `{"totalResults":1}`, true},
		{"case-insensitive key", `{"totalresults":1}`, true},
		{"wrong number", `{"totalResults":2}`, false},
		{"number vs string", `{"totalResults":"1"}`, false},
		{"array element anywhere", `{"Resources":[{"members":[{"value":"u2"}]}]}`, true},
		{"array element missing", `{"Resources":[{"members":[{"value":"u3"}]}]}`, false},
		{"absent key", `{"detail":"x"}`, false},
		{"object vs array", `{"schemas":{"a":1}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why := subset(mustDecode(t, tt.want), mustDecode(t, got), "")
			if (why == "") != tt.ok {
				t.Errorf("subset(%s) = %q, want ok=%v", tt.want, why, tt.ok)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
