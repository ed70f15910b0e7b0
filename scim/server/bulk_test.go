package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// bulkBody builds a BulkRequest body from its operations (JSON texts)
// and extra top-level members.
func bulkBody(extra string, ops ...string) string {
	if extra != "" {
		extra += ","
	}
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],` + extra + `"Operations":[` + strings.Join(ops, ",") + `]}`
}

// opSummary is what the tests compare of one BulkResponse operation.
type opSummary struct {
	Method, BulkID, Status, ScimType string
	Location, Version                bool
}

// bulkOps posts a bulk request as acme, expects 200 and returns the
// response's operations.
func (f *fixture) bulkOps(t *testing.T, body string) []map[string]any {
	t.Helper()
	r := f.call(t, "POST", "/Bulk", body, nil)
	if r.status != http.StatusOK {
		t.Fatalf("POST /Bulk: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]any{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}, r.body["schemas"]); diff != "" {
		t.Fatalf("BulkResponse schemas (-want +got):\n%s", diff)
	}
	list, _ := r.body["Operations"].([]any)
	out := make([]map[string]any, len(list))
	for i, o := range list {
		out[i] = o.(map[string]any)
		checkOpError(t, out[i])
	}
	return out
}

// checkOpError asserts that a failed operation carries a SCIM error body
// whose status is the operation's, with a detail and, for 400 and 409,
// a scimType.
func checkOpError(t *testing.T, op map[string]any) {
	t.Helper()
	status, _ := op["status"].(string)
	code, err := strconv.Atoi(status)
	if err != nil {
		t.Fatalf("operation status %v is not a number as a string: %v", op["status"], op)
	}
	resp, _ := op["response"].(map[string]any)
	if code < 400 {
		if resp != nil {
			t.Errorf("successful operation carries a response: %v", op)
		}
		return
	}
	detail, _ := resp["detail"].(string)
	scimType, _ := resp["scimType"].(string)
	if !cmp.Equal([]any{scim.SchemaError}, resp["schemas"]) || resp["status"] != status || detail == "" ||
		((code == 400 || code == 409) && scimType == "") {
		t.Errorf("operation error is not a full SCIM error: %v", op)
	}
}

func summarize(ops []map[string]any) []opSummary {
	out := make([]opSummary, len(ops))
	for i, op := range ops {
		s := opSummary{Location: op["location"] != nil, Version: op["version"] != nil}
		s.Method, _ = op["method"].(string)
		s.BulkID, _ = op["bulkId"].(string)
		s.Status, _ = op["status"].(string)
		if resp, ok := op["response"].(map[string]any); ok {
			s.ScimType, _ = resp["scimType"].(string)
		}
		out[i] = s
	}
	return out
}

// idOf is the id at the end of an operation's location.
func idOf(op map[string]any) string {
	loc, _ := op["location"].(string)
	return loc[strings.LastIndex(loc, "/")+1:]
}

const (
	opUser1  = `{"method":"POST","bulkId":"u1","path":"/Users","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk1@example.com","password":"S3cret!"}}`
	opGroup1 = `{"method":"post","bulkId":"g1","path":"/Groups","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Bulk","members":[{"value":"bulkId:u1"}]}}`
)

func TestBulkVersions(t *testing.T) {
	f := newFixture(t)
	a, b, c := f.createUser(t, "va@example.com"), f.createUser(t, "vb@example.com"), f.createUser(t, "vc@example.com")
	ops := f.bulkOps(t, bulkBody("",
		`{"method":"PUT","path":"/Users/`+a+`","version":"W/\"1\"","data":{"userName":"va2@example.com"}}`,
		`{"method":"PATCH","path":"/Users/`+b+`","version":"W/\"7\"","data":{"Operations":[{"op":"replace","value":{"active":false}}]}}`,
		`{"method":"DELETE","path":"/Users/`+c+`","version":"W/\"1\""}`,
		`{"method":"PATCH","path":"/Users/`+a+`","version":"W/\"1\"","data":{"Operations":[{"op":"replace","value":{"active":false}}]}}`,
		`{"method":"PATCH","path":"/Users/`+a+`","version":"W/\"2\"","data":{"Operations":[{"op":"replace","value":{"displayName":"A"}}]}}`,
	))
	want := []opSummary{
		{Method: "PUT", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "412", Location: true},
		{Method: "DELETE", Status: "204", Location: true},
		{Method: "PATCH", Status: "412", Location: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
	}
	if diff := cmp.Diff(want, summarize(ops)); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	ua, ub, uc := f.call(t, "GET", "/Users/"+a, "", nil), f.call(t, "GET", "/Users/"+b, "", nil), f.call(t, "GET", "/Users/"+c, "", nil)
	got := []any{ops[0]["version"], ops[4]["version"], ops[0]["location"], ua.body["userName"], ua.body["displayName"], ub.body["active"], ub.header.Get("ETag"), uc.status}
	wantState := []any{`W/"2"`, `W/"3"`, f.base("acme") + "/Users/" + a, "va2@example.com", "A", true, `W/"1"`, 404}
	if diff := cmp.Diff(wantState, got); diff != "" {
		t.Errorf("after the bulk (-want +got):\n%s", diff)
	}
}

func TestBulkFailOnErrors(t *testing.T) {
	bad := func(n int) string {
		return fmt.Sprintf(`{"method":"POST","bulkId":"bad%d","path":"/Users","data":{"name":{"givenName":"no userName"}}}`, n)
	}
	good := func(n int) string {
		return fmt.Sprintf(`{"method":"POST","bulkId":"ok%d","path":"/Users","data":{"userName":"foe%d@example.com"}}`, n, n)
	}
	tests := []struct {
		name  string
		extra string
		ops   []string
		want  []string // bulkId:status of the results
		users int
	}{
		{"absent runs all", "", []string{bad(1), good(1), bad(2), good(2)}, []string{"bad1:400", "ok1:201", "bad2:400", "ok2:201"}, 2},
		{"null runs all", `"failOnErrors":null`, []string{bad(1), good(1)}, []string{"bad1:400", "ok1:201"}, 1},
		{"1 stops after the first error", `"failOnErrors":1`, []string{good(1), bad(1), good(2), bad(2)}, []string{"ok1:201", "bad1:400"}, 1},
		{"2 stops after the second error", `"failOnErrors":2`, []string{bad(1), good(1), bad(2), good(2)}, []string{"bad1:400", "ok1:201", "bad2:400"}, 1},
		{"not reached", `"failOnErrors":5`, []string{bad(1), good(1)}, []string{"bad1:400", "ok1:201"}, 1},
		{"huge", `"failOnErrors":99999999999999999999`, []string{bad(1), good(1)}, []string{"bad1:400", "ok1:201"}, 1},
		// g1 waits for ok1, which comes after bad1: bad1 runs first and stops the bulk.
		{"errors count in execution order", `"failOnErrors":1`,
			[]string{strings.Replace(opGroup1, "bulkId:u1", "bulkId:ok1", 1), bad(1), good(1)}, []string{"bad1:400"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var got []string
			for _, op := range f.bulkOps(t, bulkBody(tt.extra, tt.ops...)) {
				got = append(got, op["bulkId"].(string)+":"+op["status"].(string))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			l := f.call(t, "GET", "/Users", "", nil)
			if diff := cmp.Diff(float64(tt.users), l.body["totalResults"]); diff != "" {
				t.Errorf("users stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBulkRequestErrors(t *testing.T) {
	f := newFixture(t)
	op := `{"method":"DELETE","path":"/Users/x"}`
	many := make([]string, MaxBulkOperations+1)
	for i := range many {
		many[i] = op
	}
	big := bulkBody(`"pad":"`+strings.Repeat("a", MaxBulkPayload)+`"`, op)
	tests := []struct {
		name   string
		body   string
		want   map[string]any
		detail string // a part of the detail, when it matters
	}{
		{"too deep", bulkBody("", `{"method":"POST","bulkId":"d","path":"/Users","data":{"userName":"d@example.com","x":`+strings.Repeat("[", MaxJSONDepth)+strings.Repeat("]", MaxJSONDepth)+`}}`),
			scimError(400, "invalidSyntax"), "deeper"},
		{"no schemas", `{"Operations":[` + op + `]}`, scimError(400, "invalidSyntax"), "BulkRequest"},
		{"wrong schema", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`, scimError(400, "invalidSyntax"), ""},
		{"schemas not a list", `{"schemas":"urn:ietf:params:scim:api:messages:2.0:BulkRequest","Operations":[` + op + `]}`, scimError(400, "invalidSyntax"), ""},
		{"empty Operations", bulkBody(""), scimError(400, "invalidValue"), "Operations"},
		{"missing Operations", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]}`, scimError(400, "invalidValue"), ""},
		{"Operations not a list", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":{}}`, scimError(400, "invalidSyntax"), ""},
		{"failOnErrors 0", bulkBody(`"failOnErrors":0`, op), scimError(400, "invalidValue"), "failOnErrors"},
		{"failOnErrors negative", bulkBody(`"failOnErrors":-1`, op), scimError(400, "invalidValue"), ""},
		{"failOnErrors a string", bulkBody(`"failOnErrors":"1"`, op), scimError(400, "invalidValue"), ""},
		{"failOnErrors a fraction", bulkBody(`"failOnErrors":1.5`, op), scimError(400, "invalidValue"), ""},
		{"not JSON", `{"schemas":`, scimError(400, "invalidSyntax"), ""},
		{"JSON null", `null`, scimError(400, "invalidSyntax"), ""},
		{"JSON array", `[]`, scimError(400, "invalidSyntax"), ""},
		{"empty body", ``, scimError(400, "invalidSyntax"), ""},
		{"trailing data", bulkBody("", op) + `{}`, scimError(400, "invalidSyntax"), ""},
		{"too many operations", bulkBody("", many...), scimError(413, ""), "maximum (maxOperations) is 1000"},
		{"body too big", big, scimError(413, ""), "larger than 4194304 bytes"},
	}
	before := snapshot(t, f.store, "acme")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "POST", "/Bulk", tt.body, nil)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q does not mention %q", d, tt.detail)
			}
		})
	}
	t.Run("exactly MaxBulkOperations", func(t *testing.T) {
		ops := f.bulkOps(t, bulkBody("", many[1:]...))
		if diff := cmp.Diff([]any{MaxBulkOperations, "404"}, []any{len(ops), ops[len(ops)-1]["status"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("text/plain", func(t *testing.T) {
		r := f.call(t, "POST", "/Bulk", bulkBody("", opUser1), map[string]string{"Content-Type": "text/plain"})
		if diff := cmp.Diff(scimError(415, ""), errorOf(r)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
		t.Errorf("rejected bulk requests changed stored data:\n%s", diff)
	}
}

func TestBulkOperationErrors(t *testing.T) {
	f := newFixture(t)
	id := f.createUser(t, "taken@example.com")
	tests := []struct {
		name string
		op   string
		want opSummary
	}{
		{"method GET", `{"method":"GET","path":"/Users/` + id + `"}`, opSummary{Method: "GET", Status: "400", ScimType: "invalidValue"}},
		{"no method", `{"path":"/Users/` + id + `"}`, opSummary{Status: "400", ScimType: "invalidValue"}},
		{"method not a string", `{"method":1,"path":"/Users/` + id + `"}`, opSummary{Status: "400", ScimType: "invalidSyntax"}},
		{"operation not an object", `"DELETE /Users"`, opSummary{Status: "400", ScimType: "invalidSyntax"}},
		{"operation null", `null`, opSummary{Status: "400", ScimType: "invalidSyntax"}},
		{"POST without bulkId", `{"method":"POST","path":"/Users","data":{"userName":"nb@example.com"}}`, opSummary{Method: "POST", Status: "400", ScimType: "invalidValue"}},
		{"unknown endpoint", `{"method":"POST","bulkId":"x","path":"/Devices","data":{}}`, opSummary{Method: "POST", BulkID: "x", Status: "400", ScimType: "invalidValue"}},
		{"POST to a resource", `{"method":"POST","bulkId":"x","path":"/Users/` + id + `","data":{}}`, opSummary{Method: "POST", BulkID: "x", Status: "400", ScimType: "invalidValue"}},
		{"PUT to a collection", `{"method":"PUT","path":"/Users","data":{"userName":"p@example.com"}}`, opSummary{Method: "PUT", Status: "400", ScimType: "invalidValue"}},
		{"no path", `{"method":"DELETE"}`, opSummary{Method: "DELETE", Status: "400", ScimType: "invalidValue"}},
		{"path too deep", `{"method":"DELETE","path":"/Users/` + id + `/x"}`, opSummary{Method: "DELETE", Status: "400", ScimType: "invalidValue"}},
		{"path with query", `{"method":"DELETE","path":"/Users/` + id + `?x=1"}`, opSummary{Method: "DELETE", Status: "400", ScimType: "invalidValue"}},
		{"other tenant's path", `{"method":"DELETE","path":"/t/beta/scim/v2/Users/` + id + `"}`, opSummary{Method: "DELETE", Status: "400", ScimType: "invalidValue"}},
		{"unknown bulkId", `{"method":"PATCH","path":"/Users/bulkId:nope","data":{"Operations":[{"op":"remove","path":"title"}]}}`, opSummary{Method: "PATCH", Status: "400", ScimType: "invalidValue"}},
		{"unknown bulkId in data", `{"method":"POST","bulkId":"g","path":"/Groups","data":{"displayName":"G","members":[{"value":"bulkId:nope"}]}}`, opSummary{Method: "POST", BulkID: "g", Status: "400", ScimType: "invalidValue"}},
		{"invalid resource", `{"method":"POST","bulkId":"x","path":"/Users","data":{"userName":5}}`, opSummary{Method: "POST", BulkID: "x", Status: "400", ScimType: "invalidValue"}},
		{"no data", `{"method":"POST","bulkId":"x","path":"/Users"}`, opSummary{Method: "POST", BulkID: "x", Status: "400", ScimType: "invalidSyntax"}},
		{"taken userName", `{"method":"POST","bulkId":"x","path":"/Users","data":{"userName":"taken@example.com"}}`, opSummary{Method: "POST", BulkID: "x", Status: "409", ScimType: "uniqueness"}},
		{"unknown id", `{"method":"PUT","path":"/Users/nope","data":{"userName":"n@example.com"}}`, opSummary{Method: "PUT", Status: "404", Location: true}},
		{"bad PATCH", `{"method":"PATCH","path":"/Users/` + id + `","data":{"Operations":[]}}`, opSummary{Method: "PATCH", Status: "400", ScimType: "invalidSyntax", Location: true}},
		{"data too big", `{"method":"POST","bulkId":"x","path":"/Users","data":{"userName":"big@example.com","title":"` + strings.Repeat("t", MaxBody) + `"}}`,
			opSummary{Method: "POST", BulkID: "x", Status: "413"}},
	}
	before := snapshot(t, f.store, "acme")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := f.bulkOps(t, bulkBody("", tt.op))
			if diff := cmp.Diff([]opSummary{tt.want}, summarize(ops)); diff != "" {
				t.Errorf("result (-want +got):\n%s\n%v", diff, ops)
			}
		})
	}
	if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
		t.Errorf("failed operations changed stored data:\n%s", diff)
	}
	t.Run("all in one request", func(t *testing.T) {
		var body []string
		var want []opSummary
		for i, tt := range tests {
			// bulkIds must be distinct within one request.
			body = append(body, strings.Replace(tt.op, `"bulkId":"x"`, `"bulkId":"x`+strconv.Itoa(i)+`"`, 1))
			if tt.want.BulkID == "x" {
				tt.want.BulkID += strconv.Itoa(i)
			}
			want = append(want, tt.want)
		}
		if diff := cmp.Diff(want, summarize(f.bulkOps(t, bulkBody("", body...)))); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

func TestBulkTenantIsolation(t *testing.T) {
	f := newFixture(t)
	betaID := f.createUserIn(t, "beta", f.betaToken, "beta@example.com")
	beta := snapshot(t, f.store, "beta")
	ops := f.bulkOps(t, bulkBody("",
		`{"method":"PUT","path":"/Users/`+betaID+`","data":{"userName":"stolen@example.com"}}`,
		`{"method":"PATCH","path":"/Users/`+betaID+`","data":{"Operations":[{"op":"replace","value":{"active":false}}]}}`,
		`{"method":"DELETE","path":"/Users/`+betaID+`"}`,
		`{"method":"POST","bulkId":"g","path":"/Groups","data":{"displayName":"G","members":[{"value":"`+betaID+`"}]}}`,
	))
	want := []opSummary{
		{Method: "PUT", Status: "404", Location: true},
		{Method: "PATCH", Status: "404", Location: true},
		{Method: "DELETE", Status: "404", Location: true},
		{Method: "POST", BulkID: "g", Status: "400", ScimType: "invalidValue"},
	}
	if diff := cmp.Diff(want, summarize(ops)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(beta, snapshot(t, f.store, "beta")); diff != "" {
		t.Errorf("a bulk of acme changed tenant beta:\n%s", diff)
	}
	r := f.callTenant(t, "acme", f.betaToken, "POST", "/Bulk", bulkBody("", opUser1), nil)
	if diff := cmp.Diff(scimError(401, ""), errorOf(r)); diff != "" {
		t.Errorf("bulk with beta's token on acme (-want +got):\n%s", diff)
	}
}

func TestBulkResponseShape(t *testing.T) {
	f := newFixture(t)
	pad := `"pad":"` + strings.Repeat("p", 2*MaxBody) + `"` // over MaxBody, under MaxBulkPayload
	r := f.call(t, "POST", "/Bulk", bulkBody(pad, opUser1, `{"method":"DELETE","path":"/Users/nope"}`), nil)
	var got map[string]any
	json.Unmarshal([]byte(r.raw), &got)
	ops, _ := got["Operations"].([]any)
	id := ""
	if len(ops) > 0 {
		id = idOf(ops[0].(map[string]any))
	}
	want := map[string]any{
		"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"},
		"Operations": []any{
			map[string]any{"method": "POST", "bulkId": "u1", "status": "201", "version": `W/"1"`, "location": f.base("acme") + "/Users/" + id},
			map[string]any{"method": "DELETE", "status": "404", "location": f.base("acme") + "/Users/nope", "response": map[string]any{
				"schemas": []any{scim.SchemaError}, "status": "404", "detail": `User "nope" not found`}},
		},
	}
	if diff := cmp.Diff([]any{200, ContentType}, []any{r.status, r.header.Get("Content-Type")}); diff != "" {
		t.Errorf("status and type (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BulkResponse (-want +got):\n%s", diff)
	}
}

// FuzzBulk sends random bodies to POST /Bulk: the answer is 200 with a
// BulkResponse whose failed operations carry SCIM errors, or a SCIM 4xx
// that changed nothing; tenant beta never changes. Seeds are in
// testdata/fuzz/FuzzBulk; USER and BETA stand for user ids of acme and beta.
func FuzzBulk(f *testing.F) {
	fx := newFixture(f)
	h := fx.srv.Config.Handler
	userID := fuzzCreate(f, h, "acme", fx.acmeToken, "/Users", `{"userName":"a@example.com"}`)
	betaID := fuzzCreate(f, h, "beta", fx.betaToken, "/Users", `{"userName":"b@example.com"}`)
	beta := snapshot(f, fx.store, "beta")
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.NewReplacer("USER", userID, "BETA", betaID).Replace(body)
		before := snapshot(t, fx.store, "acme")
		rec := serve(h, "acme", fx.acmeToken, "POST", "/Bulk", body)
		checkReply(t, "POST", "/Bulk", rec)
		switch {
		case rec.Code >= 400:
			if diff := cmp.Diff(before, snapshot(t, fx.store, "acme")); diff != "" {
				t.Fatalf("bulk rejected with %d changed stored data:\n%s", rec.Code, diff)
			}
		case rec.Code == http.StatusOK:
			var resp struct {
				Schemas    []string
				Operations []struct {
					Status   string
					Response *scim.Error
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("BulkResponse is not JSON: %v: %s", err, rec.Body.String())
			}
			allFailed := true
			for _, op := range resp.Operations {
				code, err := strconv.Atoi(op.Status)
				switch {
				case err != nil || code < 200 || code >= 500:
					t.Fatalf("operation status %q: %s", op.Status, rec.Body.String())
				case code < 400:
					allFailed = false
				case op.Response == nil || op.Response.Status != code || op.Response.Detail == "" ||
					((code == 400 || code == 409) && op.Response.ScimType == ""):
					t.Fatalf("operation %d without a full SCIM error: %s", code, rec.Body.String())
				}
			}
			if allFailed {
				if diff := cmp.Diff(before, snapshot(t, fx.store, "acme")); diff != "" {
					t.Fatalf("bulk whose operations all failed changed stored data:\n%s", diff)
				}
			}
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.String())
		}
		if diff := cmp.Diff(beta, snapshot(t, fx.store, "beta")); diff != "" {
			t.Fatalf("bulk as acme changed tenant beta:\n%s", diff)
		}
	})
}

// BenchmarkBulk measures one bulk request of 100 user creations and a
// group of those 100 users referenced by bulkId, on SQLite through HTTP;
// with passwords, every user also costs a PBKDF2 hash.
func BenchmarkBulk(b *testing.B) {
	for _, password := range []string{"", `,"password":"S3cret!"`} {
		b.Run("password="+strconv.FormatBool(password != ""), func(b *testing.B) {
			f := newFixture(b)
			c := f.srv.Client()
			for i := 0; b.Loop(); i++ {
				ops := make([]string, 0, 101)
				members := make([]string, 0, 100)
				for j := range 100 {
					ops = append(ops, fmt.Sprintf(`{"method":"POST","bulkId":"u%d","path":"/Users","data":{"userName":"b%d-%d@example.com"%s}}`, j, i, j, password))
					members = append(members, fmt.Sprintf(`{"value":"bulkId:u%d"}`, j))
				}
				ops = append(ops, fmt.Sprintf(`{"method":"POST","bulkId":"g","path":"/Groups","data":{"displayName":"G%d","members":[%s]}}`, i, strings.Join(members, ",")))
				req, _ := http.NewRequest("POST", f.base("acme")+"/Bulk", strings.NewReader(bulkBody("", ops...)))
				req.Header.Set("Authorization", "Bearer "+f.acmeToken)
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var out struct{ Operations []struct{ Status string } }
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if len(out.Operations) != 101 || out.Operations[100].Status != "201" {
					b.Fatalf("bulk: %d operations: %v", len(out.Operations), out.Operations)
				}
			}
		})
	}
}

// An operation of a bulk request does not see the query string of the
// bulk request itself.
func TestBulkIgnoresOuterQuery(t *testing.T) {
	f := newFixture(t)
	r := f.call(t, "POST", "/Bulk?attributes=userName", bulkBody("", `{"method":"POST","bulkId":"a","path":"/Users","data":{"userName":"outer@example.com"}}`), nil)
	if r.status != http.StatusOK {
		t.Fatalf("bulk: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]opSummary{{Method: "POST", BulkID: "a", Status: "201", Location: true, Version: true}}, summarize(asMaps(r.body["Operations"]))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
