package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/schema"
)

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// newSortFixture is newFixture with a clock that moves one second per
// reading, so meta.created differs between resources.
func newSortFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	mux := http.NewServeMux()
	New(Config{Store: f.store, PublicURL: f.srv.URL, Now: clock}).Register(mux)
	f.srv.Config.Handler = mux
	return f
}

// sortUsers creates four users whose attributes exercise every sort rule
// and returns their ids by name.
func sortUsers(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	bodies := []struct{ name, body string }{
		{"bob", `{"userName":"bob","externalId":"b","name":{"familyName":"Zed"},"active":true,
			"emails":[{"value":"b2@x.com"},{"value":"a1@x.com","primary":true}],"` + entURN + `":{"department":"Sales"}}`},
		{"alice", `{"userName":"Alice","externalId":"B","name":{"familyName":"adams"},"active":false,"title":"Dev",
			"emails":[{"value":"c@x.com"}],"` + entURN + `":{"department":"eng"}}`},
		{"carol", `{"userName":"carol","externalId":"a","active":true,"title":"CEO"}`},
		{"dave", `{"userName":"dave","externalId":"A","name":{"familyName":"Baker"},"active":true,
			"emails":[{"value":"z@x.com"},{"value":"B@x.com","primary":true}]}`},
	}
	ids := map[string]string{}
	for _, b := range bodies {
		r := f.call(t, "POST", "/Users", b.body, nil)
		if r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", b.name, r.status, r.raw)
		}
		ids[b.name] = r.body["id"].(string)
	}
	return ids
}

// names maps a list response's resources to the fixture names of their ids.
func names(r reply, ids map[string]string) []string {
	byID := map[string]string{}
	for n, id := range ids {
		byID[id] = n
	}
	out := []string{}
	for _, res := range asList(r.body["Resources"]) {
		m, _ := res.(map[string]any)
		id, _ := m["id"].(string)
		if n, ok := byID[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, id)
		}
	}
	return out
}

func TestSort(t *testing.T) {
	f := newSortFixture(t)
	ids := sortUsers(t, f)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"bob", "alice", "carol", "dave"}}, // store order: creation
		{"sortBy=userName", []string{"alice", "bob", "carol", "dave"}},
		{"sortBy=USERNAME&sortOrder=descending", []string{"dave", "carol", "bob", "alice"}},
		{"sortBy=userName&sortOrder=DESCENDING", []string{"dave", "carol", "bob", "alice"}},
		{"sortBy=userName&sortOrder=Ascending", []string{"alice", "bob", "carol", "dave"}},
		{"sortBy=urn:ietf:params:scim:schemas:core:2.0:User:userName", []string{"alice", "bob", "carol", "dave"}},
		// caseExact: byte order, upper case first.
		{"sortBy=externalId", []string{"dave", "alice", "carol", "bob"}},
		// not caseExact; carol has no name and sorts last, then first.
		{"sortBy=name.familyName", []string{"alice", "dave", "bob", "carol"}},
		{"sortBy=name.familyName&sortOrder=descending", []string{"carol", "bob", "dave", "alice"}},
		// multi-valued: the primary value, else the first; none sorts last.
		{"sortBy=emails", []string{"bob", "dave", "alice", "carol"}},
		{"sortBy=emails.value", []string{"bob", "dave", "alice", "carol"}},
		{"sortBy=emails.value&sortOrder=descending", []string{"carol", "alice", "dave", "bob"}},
		// dateTime as time.
		{"sortBy=meta.created", []string{"bob", "alice", "carol", "dave"}},
		{"sortBy=meta.created&sortOrder=descending", []string{"dave", "carol", "alice", "bob"}},
		{"sortBy=meta.lastModified&sortOrder=descending", []string{"dave", "carol", "alice", "bob"}},
		// booleans: false before true; ties keep the store order both ways.
		{"sortBy=active", []string{"alice", "bob", "carol", "dave"}},
		{"sortBy=active&sortOrder=descending", []string{"bob", "carol", "dave", "alice"}},
		// nulls last ascending, first descending, in store order.
		{"sortBy=title", []string{"carol", "alice", "bob", "dave"}},
		{"sortBy=title&sortOrder=descending", []string{"bob", "dave", "alice", "carol"}},
		// extension attributes, qualified or not.
		{"sortBy=" + entURN + ":department", []string{"alice", "bob", "carol", "dave"}},
		{"sortBy=department&sortOrder=descending", []string{"carol", "dave", "bob", "alice"}},
		// sort then page.
		{"sortBy=userName&startIndex=2&count=2", []string{"bob", "carol"}},
		{"sortBy=title&startIndex=3&count=5", []string{"bob", "dave"}},
		// sort after filter.
		{"sortBy=userName&sortOrder=descending&filter=" + url.QueryEscape(`active eq true`), []string{"dave", "carol", "bob"}},
		// sortOrder alone does nothing.
		{"sortOrder=descending", []string{"bob", "alice", "carol", "dave"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.call(t, "GET", "/Users?"+tt.query, "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if diff := cmp.Diff(tt.want, names(r, ids)); diff != "" {
				t.Errorf("order mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("POST .search sorts", func(t *testing.T) {
		r := f.call(t, "POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
			"sortBy":"name.familyName","sortOrder":"descending","startIndex":1,"count":3}`, nil)
		if diff := cmp.Diff([]string{"carol", "bob", "dave"}, names(r, ids)); diff != "" {
			t.Errorf("order mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
	t.Run("pages of a sort with ties never overlap", func(t *testing.T) {
		for _, q := range []string{"sortBy=title", "sortBy=active&sortOrder=descending", ""} {
			var got []string
			for start := 1; start <= 4; start++ {
				r := f.call(t, "GET", "/Users?count=1&startIndex="+strconv.Itoa(start)+"&"+q, "", nil)
				got = append(got, names(r, ids)...)
			}
			all := f.call(t, "GET", "/Users?"+q, "", nil)
			if diff := cmp.Diff(names(all, ids), got); diff != "" {
				t.Errorf("%s: pages differ from the whole list (-whole +pages):\n%s", q, diff)
			}
		}
	})
	t.Run("groups sort by displayName", func(t *testing.T) {
		for _, n := range []string{"beta", "Alpha", "gamma"} {
			if r := f.call(t, "POST", "/Groups", `{"displayName":"`+n+`"}`, nil); r.status != http.StatusCreated {
				t.Fatalf("create group: %s", r.raw)
			}
		}
		r := f.call(t, "GET", "/Groups?sortBy=displayName&sortOrder=descending", "", nil)
		var got []any
		for _, g := range asList(r.body["Resources"]) {
			got = append(got, g.(map[string]any)["displayName"])
		}
		if diff := cmp.Diff([]any{"gamma", "beta", "Alpha"}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestSortErrors(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "sorterr@example.com")
	tests := []struct{ name, method, path, body string }{
		{"unknown attribute", "GET", "/Users?sortBy=shoeSize", ""},
		{"unknown sub-attribute", "GET", "/Users?sortBy=name.shoeSize", ""},
		{"singular complex", "GET", "/Users?sortBy=name", ""},
		{"schema URN", "GET", "/Users?sortBy=" + entURN, ""},
		{"unknown schema", "GET", "/Users?sortBy=urn:x:y:z", ""},
		{"password", "GET", "/Users?sortBy=password", ""},
		{"group attribute on users", "GET", "/Users?sortBy=members", ""},
		{"bad sortOrder", "GET", "/Users?sortBy=userName&sortOrder=up", ""},
		{"bad sortOrder alone", "GET", "/Users?sortOrder=sideways", ""},
		{"search unknown attribute", "POST", "/Users/.search", `{"sortBy":"shoeSize"}`},
		{"search bad sortOrder", "POST", "/Users/.search", `{"sortBy":"userName","sortOrder":"desc"}`},
		{"root search unknown attribute", "POST", "/.search", `{"sortBy":"shoeSize"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if !strings.Contains(str(r.body["detail"]), "sort") {
				t.Errorf("detail does not name the sort parameter: %s", r.raw)
			}
		})
	}
}

func TestCompareKeys(t *testing.T) {
	num := &schema.Attribute{Name: "n", Type: schema.TypeDecimal}
	rt := &schema.ResourceType{ID: "T", Name: "T", Schema: &schema.Schema{ID: "urn:t", Attributes: []*schema.Attribute{num}}}
	so, err := resolveSort("n", rt)
	if err != nil {
		t.Fatal(err)
	}
	vals := []any{10.0, 9.5, nil, -1.0, "not a number", 100.0}
	tests := []struct {
		name string
		desc bool
		want []any
	}{
		{"ascending", false, []any{-1.0, 9.5, 10.0, 100.0, nil, "not a number"}},
		{"descending", true, []any{nil, "not a number", 100.0, 10.0, 9.5, -1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]item, len(vals))
			for i, v := range vals {
				items[i] = item{res: map[string]any{"n": v}}
				items[i].key = so.key(items[i].res)
			}
			sortItems(items, true, tt.desc)
			var got []any
			for _, it := range items {
				got = append(got, it.res["n"])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("numbers compare as numbers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRootSearch(t *testing.T) {
	f := newSortFixture(t)
	ids := sortUsers(t, f)
	team := f.call(t, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+ids["bob"]+`"}]}`, nil)
	empty := f.call(t, "POST", "/Groups", `{"displayName":"bystanders"}`, nil)
	ids["Team"], ids["bystanders"] = team.body["id"].(string), empty.body["id"].(string)
	tests := []struct {
		name, body string
		want       []string
		total      float64
	}{
		{"everything, users then groups", `{}`, []string{"bob", "alice", "carol", "dave", "Team", "bystanders"}, 6},
		{"with the schema", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`, []string{"bob", "alice", "carol", "dave", "Team", "bystanders"}, 6},
		{"user-only attribute", `{"filter":"userName eq \"BOB\""}`, []string{"bob"}, 1},
		{"group-only attribute", `{"filter":"members pr"}`, []string{"Team"}, 1},
		{"either type", `{"filter":"userName eq \"carol\" or displayName eq \"team\""}`, []string{"carol", "Team"}, 2},
		{"negated user attribute matches groups", `{"filter":"not (userName pr)"}`, []string{"Team", "bystanders"}, 2},
		{"ne on a user attribute matches groups, as not eq does", `{"filter":"userName ne \"bob\""}`, []string{"alice", "carol", "dave", "Team", "bystanders"}, 5},
		{"not eq on a user attribute", `{"filter":"not (userName eq \"bob\")"}`, []string{"alice", "carol", "dave", "Team", "bystanders"}, 5},
		{"eq null on a user attribute matches groups", `{"filter":"userName eq null"}`, []string{"Team", "bystanders"}, 2},
		{"ne null on a user attribute", `{"filter":"userName ne null"}`, []string{"bob", "alice", "carol", "dave"}, 4},
		{"common attribute", `{"filter":"id eq \"` + ids["Team"] + `\""}`, []string{"Team"}, 1},
		{"sorted across types", `{"sortBy":"displayName"}`, []string{"bystanders", "Team", "bob", "alice", "carol", "dave"}, 6},
		{"sorted by a user attribute: groups are null", `{"sortBy":"userName","sortOrder":"descending"}`, []string{"Team", "bystanders", "dave", "carol", "bob", "alice"}, 6},
		{"paged across types", `{"startIndex":4,"count":2}`, []string{"dave", "Team"}, 6},
		{"count 0", `{"count":0}`, []string{}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "POST", "/.search", tt.body, nil)
			got := map[string]any{"status": r.status, "total": r.body["totalResults"], "names": names(r, ids), "perPage": r.body["itemsPerPage"]}
			want := map[string]any{"status": 200, "total": tt.total, "names": tt.want, "perPage": float64(len(tt.want))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	t.Run("results carry schemas and resourceType; attributes per type", func(t *testing.T) {
		r := f.call(t, "POST", "/.search", `{"attributes":["displayName","userName"],"filter":"userName eq \"alice\" or displayName eq \"Team\""}`, nil)
		var got []map[string]any
		for _, res := range asList(r.body["Resources"]) {
			m := res.(map[string]any)
			meta, _ := m["meta"].(map[string]any)
			keys := []string{}
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			got = append(got, map[string]any{"keys": keys, "schemas": m["schemas"], "resourceType": meta["resourceType"]})
		}
		want := []map[string]any{
			{"keys": []string{"id", "meta", "schemas", "userName"}, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User", entURN}, "resourceType": "User"},
			{"keys": []string{"displayName", "id", "meta", "schemas"}, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "resourceType": "Group"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
	errs := []struct {
		name, body, scimType string
		status               int
	}{
		{"unknown attribute everywhere", `{"filter":"shoeSize eq 1"}`, "invalidFilter", 400},
		{"one comparison unknown everywhere", `{"filter":"userName pr or shoeSize eq 1"}`, "invalidFilter", 400},
		{"unparsable filter", `{"filter":"userName eq"}`, "invalidFilter", 400},
		{"password", `{"filter":"password eq \"S3cret!\""}`, "invalidFilter", 400},
		{"wrong schemas", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}`, "invalidSyntax", 400},
		{"empty schemas", `{"schemas":[]}`, "invalidSyntax", 400},
		{"count a string", `{"count":"10"}`, "invalidValue", 400},
		{"startIndex a bool", `{"startIndex":true}`, "invalidValue", 400},
		{"count a fraction", `{"count":1.5}`, "invalidValue", 400},
		{"not an object", `[]`, "invalidSyntax", 400},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "POST", "/.search", tt.body, nil)
			if diff := cmp.Diff(scimError(tt.status, tt.scimType), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	t.Run("GET /.search is 405", func(t *testing.T) {
		r := f.call(t, "GET", "/.search", "", nil)
		if diff := cmp.Diff([]any{scimError(405, ""), "POST"}, []any{errorOf(r), r.header.Get("Allow")}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestSearchBody(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		f.createUser(t, "sb"+strconv.Itoa(i)+"@example.com")
	}
	tests := []struct {
		name, body string
		status     int
		scimType   string
		total      any
		perPage    any
	}{
		{"no schemas is tolerated", `{"count":2}`, 200, "", float64(3), float64(2)},
		{"schemas in other case", `{"schemas":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:SEARCHREQUEST"],"count":1}`, 200, "", float64(3), float64(1)},
		{"schemas without SearchRequest", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, 400, "invalidSyntax", nil, nil},
		{"count null is the default", `{"count":null}`, 200, "", float64(3), float64(3)},
		{"count 2.0 is an integer", `{"count":2.0}`, 200, "", float64(3), float64(2)},
		{"count negative", `{"count":-5}`, 200, "", float64(3), float64(0)},
		{"count huge", `{"count":1e300}`, 200, "", float64(3), float64(3)},
		{"startIndex huge", `{"startIndex":99999999999999999999}`, 200, "", float64(3), float64(0)},
		{"count a string", `{"count":"x"}`, 400, "invalidValue", nil, nil},
		{"count an object", `{"count":{}}`, 400, "invalidValue", nil, nil},
		{"count fractional", `{"count":0.5}`, 400, "invalidValue", nil, nil},
		{"startIndex a string", `{"startIndex":"1"}`, 400, "invalidValue", nil, nil},
		{"attributes as a comma string", `{"attributes":"userName","count":1}`, 200, "", float64(3), float64(1)},
		{"attributes a number", `{"attributes":5}`, 400, "invalidValue", nil, nil},
		{"filter a number", `{"filter":5}`, 400, "invalidSyntax", nil, nil},
		{"password filter", `{"filter":"password pr"}`, 400, "invalidFilter", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "POST", "/Users/.search", tt.body, nil)
			got := []any{r.status, str(r.body["scimType"]), r.body["totalResults"], r.body["itemsPerPage"]}
			if diff := cmp.Diff([]any{tt.status, tt.scimType, tt.total, tt.perPage}, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// The list rules of RFC 7644 §3.4.2.4 and the numbers' JSON types.
func TestListShape(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		f.createUser(t, "shape"+strconv.Itoa(i)+"@example.com")
	}
	tests := []struct {
		query   string
		perPage int
		start   int
	}{
		{"", 3, 1},
		{"?count=0", 0, 1},
		{"?count=-1", 0, 1},
		{"?count=2&startIndex=3", 1, 3},
		{"?startIndex=0", 3, 1},
		{"?count=" + strconv.Itoa(MaxCount+1), 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for _, path := range []string{"/Users" + tt.query} {
				r := f.call(t, "GET", path, "", nil)
				res, isList := r.body["Resources"].([]any)
				got := []any{r.status, isList, len(res), r.body["itemsPerPage"], r.body["startIndex"], r.body["totalResults"]}
				want := []any{200, true, tt.perPage, float64(tt.perPage), float64(tt.start), float64(3)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
				for _, field := range []string{`"totalResults":3`, `"itemsPerPage":` + strconv.Itoa(tt.perPage), `"startIndex":` + strconv.Itoa(tt.start)} {
					if !strings.Contains(r.raw, field) {
						t.Errorf("response lacks the JSON number %s: %s", field, r.raw)
					}
				}
			}
		})
	}
}

// attributes and excludedAttributes apply to every read and to the
// responses of POST, PUT and PATCH (RFC 7644 §3.9).
func TestProjectionOnWrites(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "pw-proj@example.com")
	g := f.call(t, "POST", "/Groups?excludedAttributes=members", `{"displayName":"P","members":[{"value":"`+uid+`"}]}`, nil)
	gid, _ := g.body["id"].(string)
	keys := func(m map[string]any) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"POST group excludes members", "", "", "", []string{"displayName", "id", "meta", "schemas"}},
		{"PUT attributes", "PUT", "/Users/" + uid + "?attributes=title", `{"userName":"pw-proj@example.com","title":"t","nickName":"n"}`, []string{"id", "meta", "schemas", "title"}},
		{"PATCH attributes", "PATCH", "/Users/" + uid + "?attributes=nickName,userName", `{"Operations":[{"op":"replace","path":"nickName","value":"m"}]}`, []string{"id", "meta", "nickName", "schemas", "userName"}},
		{"PATCH excludedAttributes", "PATCH", "/Users/" + uid + "?excludedAttributes=groups,nickName,title,userName,meta", `{"Operations":[{"op":"replace","path":"title","value":"u"}]}`, []string{"id", "meta", "schemas"}},
		{"group PATCH excludes members (Entra)", "PATCH", "/Groups/" + gid + "?excludedAttributes=members", `{"Operations":[{"op":"replace","path":"displayName","value":"Q"}]}`, []string{"displayName", "id", "meta", "schemas"}},
		{"group GET excludes members (Entra)", "GET", "/Groups/" + gid + "?excludedAttributes=members", "", []string{"displayName", "id", "meta", "schemas"}},
		{"search excludes members", "POST", "/Groups/.search", `{"excludedAttributes":["members"]}`, []string{"displayName", "id", "meta", "schemas"}},
		{"extension attribute by URN", "PUT", "/Users/" + uid + "?attributes=" + entURN + ":department", `{"userName":"pw-proj@example.com","` + entURN + `":{"department":"D","costCenter":"C"}}`, []string{"id", "meta", "schemas", entURN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := g
			if tt.method != "" {
				r = f.call(t, tt.method, tt.path, tt.body, nil)
			}
			body := r.body
			if res := asList(r.body["Resources"]); len(res) > 0 {
				body = res[0].(map[string]any)
			}
			if diff := cmp.Diff(tt.want, keys(body)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if tt.name == "extension attribute by URN" {
				if diff := cmp.Diff(map[string]any{"department": "D"}, body[entURN]); diff != "" {
					t.Errorf("extension (-want +got):\n%s", diff)
				}
			}
		})
	}
	t.Run("the write still happened", func(t *testing.T) {
		r := f.call(t, "GET", "/Groups/"+gid, "", nil)
		if diff := cmp.Diff([]any{"Q", 1}, []any{r.body["displayName"], len(asList(r.body["members"]))}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// project honours the returned characteristic (RFC 7643 §7): "always"
// stays, "never" never shows, "request" only when asked for.
func TestProjectReturned(t *testing.T) {
	ext := &schema.Schema{ID: "urn:x:ext", Attributes: []*schema.Attribute{
		{Name: "shown", Type: schema.TypeString, Returned: schema.ReturnedDefault},
		{Name: "onRequest", Type: schema.TypeString, Returned: schema.ReturnedRequest},
	}}
	rt := &schema.ResourceType{ID: "T", Name: "T", Schema: &schema.Schema{ID: "urn:x:core", Attributes: []*schema.Attribute{
		{Name: "plain", Type: schema.TypeString, Returned: schema.ReturnedDefault},
		{Name: "asked", Type: schema.TypeString, Returned: schema.ReturnedRequest},
		{Name: "secret", Type: schema.TypeString, Returned: schema.ReturnedNever, Mutability: schema.WriteOnly},
	}}, Extensions: []schema.Extension{{Schema: ext}}}
	res := map[string]any{"id": "1", "schemas": []any{"urn:x:core"}, "meta": map[string]any{"version": `W/"1"`},
		"plain": "p", "asked": "a", "secret": "s", "urn:x:ext": map[string]any{"shown": "e", "onRequest": "r"}}
	tests := []struct {
		name, attrs, excluded string
		want                  map[string]any
	}{
		{"default", "", "", map[string]any{"id": "1", "schemas": []any{"urn:x:core"}, "meta": map[string]any{"version": `W/"1"`},
			"plain": "p", "urn:x:ext": map[string]any{"shown": "e"}}},
		{"asked for", "asked,urn:x:ext:onRequest,secret", "", map[string]any{"id": "1", "schemas": []any{"urn:x:core"}, "meta": map[string]any{"version": `W/"1"`},
			"asked": "a", "urn:x:ext": map[string]any{"onRequest": "r"}}},
		{"excluded", "", "plain,id,urn:x:ext", map[string]any{"id": "1", "schemas": []any{"urn:x:core"}, "meta": map[string]any{"version": `W/"1"`}}},
		{"excluding request attributes changes nothing", "", "asked", map[string]any{"id": "1", "schemas": []any{"urn:x:core"}, "meta": map[string]any{"version": `W/"1"`},
			"plain": "p", "urn:x:ext": map[string]any{"shown": "e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, project(res, rt, tt.attrs, tt.excluded)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
