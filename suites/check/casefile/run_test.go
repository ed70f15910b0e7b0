package casefile

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeSCIM is a tiny SCIM-shaped service for exercising Run: POST /Users
// echoes the body with an id, GET /Users/{id} returns it, and anything
// without the right token gets 401.
func fakeSCIM(t *testing.T) *httptest.Server {
	t.Helper()
	users := map[string]map[string]any{}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json; charset=utf-8")
			if r.Header.Get("Authorization") != "Bearer good" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"no"}`)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /scim/Users", auth(func(w http.ResponseWriter, r *http.Request) {
		var u map[string]any
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":"400","scimType":"invalidSyntax"}`)
			return
		}
		id := "id" + string(rune('0'+len(users)))
		u["id"] = id
		users[id] = u
		w.Header().Set("Location", "/scim/Users/"+id)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(u)
	}))
	mux.HandleFunc("GET /scim/Users/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.PathValue("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"status":"404"}`)
			return
		}
		json.NewEncoder(w).Encode(u)
	}))
	mux.HandleFunc("GET /scim/text", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain text") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	srv := fakeSCIM(t)
	create := `{"method":"POST","path":"/Users","body":{"userName":"a.{{rand}}","emails":[{"value":"x","type":"work"}],"active":true},
		"capture":{"u":"id","loc":"header:Location"},"expect":{"status":[201]}}`
	tests := []struct {
		name     string
		steps    string
		wantErrs []string // substrings of the error; none means success
	}{
		{
			name: "passes",
			steps: create + `,{"method":"GET","path":"/Users/{{u}}","expect":{"status":[200],
				"equals":{"id":"{{u}}","active":true,"emails.0.type":"work"},"has":{"EMAILS":[{"value":"x"}]},
				"absent":["title"],"len":{"emails":1},"none":{"emails":[{"type":"home"}]},"contentType":"application/scim+json"}}`,
		},
		{
			name:  "header capture",
			steps: create + `,{"method":"GET","path":"{{loc}}","expect":{"status":[404]}}`, // /scim/Users/x under base /scim → 404
		},
		{
			name: "every failure listed",
			steps: create + `,{"method":"GET","path":"/Users/{{u}}","expect":{"status":[204],
				"equals":{"active":false},"absent":["active"],"len":{"emails":3},"none":{"emails":[{"type":"work"}]}}}`,
			wantErrs: []string{"1 step(s) failed", "→ 200", "status 200, want one of [204]",
				"equals active: got true, want false", "absent active", "len emails: got 1, want 3", "none emails", "response: {"},
		},
		{
			name:     "wrong token and headers",
			steps:    `{"method":"GET","path":"/Users/x","token":"bad","expect":{"status":[401],"headerHas":{"WWW-Authenticate":"Bearer"},"has":{"status":"401"}}},{"method":"GET","path":"/Users/x","noAuth":true,"expect":{"status":[200]}}`,
			wantErrs: []string{"step 2: GET /Users/x → 401", "status 401"},
		},
		{
			name:     "unknown variable stops the case",
			steps:    `{"method":"GET","path":"/Users/{{nope}}","expect":{"status":[200]}},{"method":"GET","path":"/Users","expect":{"status":[200]}}`,
			wantErrs: []string{"unknown variable {{nope}}", "steps 2-2 not run"},
		},
		{
			name:     "non-JSON body",
			steps:    `{"method":"GET","path":"/text","noAuth":true,"expect":{"status":[200],"equals":{"a":1}}}`,
			wantErrs: []string{"body is not JSON", "response: plain text"},
		},
		{
			name:     "raw body",
			steps:    `{"method":"POST","path":"/Users","rawBody":"{not json","expect":{"status":[201]}}`,
			wantErrs: []string{"status 400", "invalidSyntax"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(`{"id":"T","title":"` + tt.name + `","steps":[` + tt.steps + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Run(context.Background(), srv.URL+"/scim/", "good", srv.Client())
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("Run() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Run() = nil, want an error")
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Run() error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}
