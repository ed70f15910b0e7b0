package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

func TestParse(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		in   string
		want Expr
		str  string // String(); "" means equal to in
	}{
		{`userName eq "bjensen"`, cmpEq("userName", "bjensen"), ""},
		{`USERNAME EQ "a"`, &Compare{Attr: AttrPath{Name: "USERNAME"}, Op: "eq", Value: "a"}, `USERNAME eq "a"`},
		{`name.familyName co "O'Malley"`, &Compare{Attr: AttrPath{Name: "name", Sub: "familyName"}, Op: "co", Value: "O'Malley"}, ""},
		{`title pr`, &Present{Attr: AttrPath{Name: "title"}}, ""},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, &Compare{Attr: AttrPath{Name: "meta", Sub: "lastModified"}, Op: "gt", Value: "2011-05-13T04:42:34Z"}, ""},
		{`active eq TRUE`, &Compare{Attr: AttrPath{Name: "active"}, Op: "eq", Value: true}, `active eq true`},
		{`x eq null`, &Compare{Attr: AttrPath{Name: "x"}, Op: "eq", Value: nil}, ""},
		{`n ge -1.5e3`, &Compare{Attr: AttrPath{Name: "n"}, Op: "ge", Value: -1500.0}, `n ge -1500`},
		{`a eq "é\u00e9\n\"x\""`, &Compare{Attr: AttrPath{Name: "a"}, Op: "eq", Value: "éé\n\"x\""}, `a eq "éé\n\"x\""`},
		{ent + `:manager.value eq "m"`, &Compare{Attr: AttrPath{URN: ent, Name: "manager", Sub: "value"}, Op: "eq", Value: "m"}, ""},
		{`a pr or b pr and c pr`, &Or{Left: &Present{AttrPath{Name: "a"}}, Right: &And{Left: &Present{AttrPath{Name: "b"}}, Right: &Present{AttrPath{Name: "c"}}}}, ""},
		{`(a pr or b pr) and c pr`, &And{Left: &Or{Left: &Present{AttrPath{Name: "a"}}, Right: &Present{AttrPath{Name: "b"}}}, Right: &Present{AttrPath{Name: "c"}}}, ""},
		{`a pr or b pr or c pr`, &Or{Left: &Or{Left: &Present{AttrPath{Name: "a"}}, Right: &Present{AttrPath{Name: "b"}}}, Right: &Present{AttrPath{Name: "c"}}}, ""},
		{`a pr or (b pr or c pr)`, &Or{Left: &Present{AttrPath{Name: "a"}}, Right: &Or{Left: &Present{AttrPath{Name: "b"}}, Right: &Present{AttrPath{Name: "c"}}}}, ""},
		{`not (a pr) and b pr`, &And{Left: &Not{X: &Present{AttrPath{Name: "a"}}}, Right: &Present{AttrPath{Name: "b"}}}, ""},
		{`NOT(a pr)`, &Not{X: &Present{AttrPath{Name: "a"}}}, `not (a pr)`},
		{`emails[type eq "work" and value co "@example.com"]`, &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &And{Left: cmpEq("type", "work"), Right: &Compare{Attr: AttrPath{Name: "value"}, Op: "co", Value: "@example.com"}}}, ""},
		{`emails[type eq "work"].value eq "x"`, &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &And{Left: cmpEq("type", "work"), Right: cmpEq("value", "x")}}, `emails[type eq "work" and value eq "x"]`},
		{`emails[type eq "a" or type eq "b"].value pr`, &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &And{Left: &Or{Left: cmpEq("type", "a"), Right: cmpEq("type", "b")}, Right: &Present{AttrPath{Name: "value"}}}}, `emails[(type eq "a" or type eq "b") and value pr]`},
		{"  userName\teq \"a\"  ", cmpEq("userName", "a"), `userName eq "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if diff := cmp.Diff(str, got.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, detail string
	}{
		{"empty", ``, "empty filter"},
		{"blank", `   `, "empty filter"},
		{"no operator", `userName`, "expected an operator"},
		{"unknown operator", `userName is "a"`, "unknown operator"},
		{"no value", `userName eq`, "expected a value"},
		{"bare word value", `userName eq bjensen`, "expected a value"},
		{"unterminated string", `userName eq "a`, "unterminated string"},
		{"bad escape", `userName eq "\x"`, "invalid string"},
		{"unterminated paren", `userName eq "p1" and (`, "expected an attribute name"},
		{"unclosed paren", `(userName eq "p1"`, `expected ")"`},
		{"stray paren", `userName eq "p1")`, `expected "and", "or" or the end`},
		{"comma pseudo-filter", `members[display eq x,value eq y]`, `unexpected ","`},
		{"comma with quotes", `members[display eq "x",value eq "y"]`, `unexpected ","`},
		{"nested value path", `a[b[c pr]]`, "cannot be nested"},
		{"urn inside value path", `emails[urn:x:y pr]`, "plain sub-attribute"},
		{"unterminated bracket", `emails[type eq "a"`, `expected "]"`},
		{"bad name", `1abc pr`, "invalid attribute name"},
		{"bad name 2", `a..b pr`, "invalid sub-attribute"},
		{"three levels", `a.b.c pr`, "invalid sub-attribute"},
		{"bad number", `a eq 01`, "invalid number"},
		{"not without paren", `not a pr`, "unknown operator"},
		{"and at start", `and`, "expected an operator"},
		{"trailing and", `a pr and`, "expected an attribute name"},
		{"unicode outside string", `é pr`, `unexpected character 'é'`},
		{"a long filter is cut between characters", `userName eq "` + strings.Repeat("é", 2000), `é"…`},
		{"control char", "a eq \"\x01\"", "invalid string"},
		{"deep", strings.Repeat("(", 70) + "a pr" + strings.Repeat(")", 70), "nested too deeply"},
		{"deep not", strings.Repeat("not (", 70) + "a pr" + strings.Repeat(")", 70), "nested too deeply"},
		{"sub after value path with space", `emails[type eq "a"] .value pr`, `expected "and", "or" or the end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, scim.ErrInvalidFilter) {
				t.Fatalf("err = %v, want invalidFilter", err)
			}
			var se *scim.Error
			errors.As(err, &se)
			if se.Status != 400 || !strings.Contains(se.Detail, tt.detail) || !strings.Contains(se.Detail, "offset") {
				t.Errorf("detail = %q, want it to contain %q and an offset", se.Detail, tt.detail)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	ok := strings.Repeat("(", MaxDepth) + "a pr" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(ok); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	long := "a pr" + strings.Repeat(" or a pr", MaxNodes)
	_, err := Parse(long)
	if !errors.Is(err, scim.ErrInvalidFilter) {
		t.Fatalf("too many nodes: err = %v", err)
	}
	if n := len(err.Error()); n > 200 {
		t.Errorf("error is %d bytes long; it must not echo the whole filter", n)
	}
}

func TestParsePath(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		in   string
		want Path
	}{
		{"active", Path{Attr: AttrPath{Name: "active"}}},
		{"name.givenName", Path{Attr: AttrPath{Name: "name", Sub: "givenName"}}},
		{ent + ":employeeNumber", Path{Attr: AttrPath{URN: ent, Name: "employeeNumber"}}},
		{ent + ":manager.value", Path{Attr: AttrPath{URN: ent, Name: "manager", Sub: "value"}}},
		{`members[value eq "2819c223"]`, Path{Attr: AttrPath{Name: "members"}, Filter: cmpEq("value", "2819c223")}},
		{`emails[type eq "work"].value`, Path{Attr: AttrPath{Name: "emails"}, Filter: cmpEq("type", "work"), Sub: "value"}},
		{`addresses[type eq "work" and primary eq true].streetAddress`, Path{Attr: AttrPath{Name: "addresses"}, Filter: &And{Left: cmpEq("type", "work"), Right: &Compare{Attr: AttrPath{Name: "primary"}, Op: "eq", Value: true}}, Sub: "streetAddress"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.in, got.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
	bad := []string{
		"", " ", "members[", `members[value eq "x"`, "members[display eq x,value eq y]",
		"name.givenName.x", `name.givenName[value eq "x"]`, "a b", `members[value eq "x"].`, `members[value eq "x"].1`,
		`members[value eq "x"]x`, "(a)", `members[a[b pr]]`, "urn:", `"x"`,
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			_, err := ParsePath(in)
			if !errors.Is(err, scim.ErrInvalidPath) {
				t.Errorf("ParsePath(%q) err = %v, want invalidPath", in, err)
			}
		})
	}
}
