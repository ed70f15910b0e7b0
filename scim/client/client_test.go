package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// seen is what the test server received.
type seen struct {
	Method, URI string
	Header      map[string]string
	Body        any
}

// canned is what the test server answers.
type canned struct {
	status int
	body   string
}

// recorder starts a server under /scim/v2 that records one request and
// answers with c.
func recorder(t *testing.T, c canned) (*httptest.Server, *seen) {
	t.Helper()
	got := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Method = r.Method
		got.URI = strings.TrimPrefix(r.RequestURI, "/scim/v2")
		got.Header = map[string]string{}
		for _, k := range []string{"Accept", "Accept-Charset", "Authorization", "Content-Type", "User-Agent", "X-Extra"} {
			if v := r.Header.Get(k); v != "" {
				got.Header[k] = v
			}
		}
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &got.Body); err != nil {
				got.Body = "not JSON: " + string(b)
			}
		}
		if c.body != "" {
			w.Header().Set("Content-Type", scim.MediaType)
		}
		w.WriteHeader(c.status)
		io.WriteString(w, c.body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestDoHeaders(t *testing.T) {
	tests := []struct {
		name   string
		client func(base string) *Client
		body   any
		want   map[string]string
	}{
		{
			name:   "token and no body",
			client: func(base string) *Client { return New(base, "tok") },
			want:   map[string]string{"Accept": "application/scim+json", "Authorization": "Bearer tok", "User-Agent": "Go-http-client/1.1"},
		},
		{
			name:   "body sets content type",
			client: func(base string) *Client { return New(base, "tok") },
			body:   map[string]any{"a": 1},
			want: map[string]string{"Accept": "application/scim+json", "Authorization": "Bearer tok",
				"Content-Type": "application/scim+json; charset=utf-8", "User-Agent": "Go-http-client/1.1"},
		},
		{
			name:   "no token sends no authorization",
			client: func(base string) *Client { return New(base, "") },
			want:   map[string]string{"Accept": "application/scim+json", "User-Agent": "Go-http-client/1.1"},
		},
		{
			name: "user agent and extra headers",
			client: func(base string) *Client {
				c := New(base, "tok")
				c.UserAgent = "Okta SCIM Client 1.0.0"
				c.Header = http.Header{"Accept-Charset": {"utf-8"}, "X-Extra": {"1"}}
				return c
			},
			want: map[string]string{"Accept": "application/scim+json", "Accept-Charset": "utf-8", "Authorization": "Bearer tok",
				"User-Agent": "Okta SCIM Client 1.0.0", "X-Extra": "1"},
		},
		{
			name: "extra header replaces a standard one",
			client: func(base string) *Client {
				c := New(base, "tok")
				c.Header = http.Header{"Accept": {"application/json"}}
				return c
			},
			want: map[string]string{"Accept": "application/json", "Authorization": "Bearer tok", "User-Agent": "Go-http-client/1.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := recorder(t, canned{status: 204})
			resp, err := tt.client(srv.URL+"/scim/v2/").Do(context.Background(), "POST", "/Users", tt.body, nil)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != 204 {
				t.Errorf("status = %d, want 204", resp.Status)
			}
			if diff := cmp.Diff(tt.want, got.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if got.URI != "/Users" {
				t.Errorf("URI = %q, want /Users", got.URI)
			}
		})
	}
}

func TestListQueryEncode(t *testing.T) {
	tests := []struct {
		name string
		q    ListQuery
		want string
	}{
		{"empty", ListQuery{}, ""},
		{"test credentials", ListQuery{StartIndex: 1, Count: 2}, "startIndex=1&count=2"},
		{"okta user lookup", ListQuery{Filter: `userName eq "x"`, StartIndex: 1, Count: 100}, "filter=userName%20eq%20%22x%22&startIndex=1&count=100"},
		{"address", ListQuery{Filter: `userName eq "a.b+c@example.com"`}, "filter=userName%20eq%20%22a.b%2Bc%40example.com%22"},
		{"query metacharacters", ListQuery{Filter: `displayName eq "R&D=1#?/"`}, "filter=displayName%20eq%20%22R%26D%3D1%23%3F%2F%22"},
		{"unicode", ListQuery{Filter: `displayName eq "Zoë"`}, "filter=displayName%20eq%20%22Zo%C3%AB%22"},
		{"attributes", ListQuery{Attributes: []string{"userName", "name.givenName"}, ExcludedAttributes: []string{"members"}},
			"attributes=userName%2Cname.givenName&excludedAttributes=members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.q.Encode()); diff != "" {
				t.Errorf("Encode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", `"alice@example.com"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"r&d <team>@example.com", `"r&d <team>@example.com"`},
		{"José", `"José"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FilterString(tt.in)); diff != "" {
				t.Errorf("FilterString (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoErrors(t *testing.T) {
	tests := []struct {
		name    string
		resp    canned
		is      []error
		want    *scim.Error
		message string
	}{
		{
			name:    "scim error with string status",
			resp:    canned{409, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName taken"}`},
			is:      []error{scim.ErrUniqueness},
			want:    &scim.Error{Status: 409, ScimType: "uniqueness", Detail: "userName taken"},
			message: "client: GET /Users/u1: 409 Conflict: scim: 409 uniqueness: userName taken",
		},
		{
			name:    "number status",
			resp:    canned{404, `{"status":404,"detail":"no such user"}`},
			is:      []error{scim.ErrNotFound},
			want:    &scim.Error{Status: 404, Detail: "no such user"},
			message: "client: GET /Users/u1: 404 Not Found: scim: 404: no such user",
		},
		{
			name:    "plain text body",
			resp:    canned{401, "bad token\n"},
			is:      []error{scim.ErrUnauthorized},
			want:    &scim.Error{Status: 401, Detail: "bad token"},
			message: "client: GET /Users/u1: 401 Unauthorized: scim: 401: bad token",
		},
		{
			name:    "long body with an invalid byte is cut at a character boundary",
			resp:    canned{502, "\xff" + strings.Repeat("é", 150)},
			want:    &scim.Error{Status: 502, Detail: "\xff" + strings.Repeat("é", 99) + "…"},
			message: "client: GET /Users/u1: 502 Bad Gateway: scim: 502: \xff" + strings.Repeat("é", 99) + "…",
		},
		{
			name:    "empty body",
			resp:    canned{500, ""},
			want:    &scim.Error{Status: 500},
			message: "client: GET /Users/u1: 500 Internal Server Error: scim: 500",
		},
		{
			name:    "error JSON without status takes the HTTP status",
			resp:    canned{400, `{"scimType":"invalidFilter","detail":"bad"}`},
			is:      []error{scim.ErrInvalidFilter},
			want:    &scim.Error{Status: 400, ScimType: "invalidFilter", Detail: "bad"},
			message: "client: GET /Users/u1: 400 Bad Request: scim: 400 invalidFilter: bad",
		},
		{
			name:    "success with bad JSON",
			resp:    canned{200, `{"id":`},
			message: "client: GET /Users/u1: 200 OK: decode response: unexpected EOF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recorder(t, tt.resp)
			var out scim.Resource
			resp, err := New(srv.URL+"/scim/v2", "tok").Do(context.Background(), "GET", "/Users/u1", nil, &out)
			if err == nil {
				t.Fatal("Do: no error")
			}
			if resp == nil || resp.Status != tt.resp.status {
				t.Errorf("response = %+v, want status %d", resp, tt.resp.status)
			}
			if diff := cmp.Diff(tt.message, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			var se *scim.Error
			errors.As(err, &se)
			if diff := cmp.Diff(tt.want, se); diff != "" {
				t.Errorf("scim error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := New(base, "tok").Do(context.Background(), "GET", "/Users", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "client: GET /Users: ") {
		t.Errorf("err = %v, want a client: GET /Users error", err)
	}
	if _, err := (&Client{}).Do(context.Background(), "GET", "/Users", nil, nil); err == nil {
		t.Error("no base URL: no error")
	}
}

func TestHelpers(t *testing.T) {
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"alice@example.com","active":true}`
	wantUser := scim.Resource{"schemas": []any{scim.SchemaUser}, "id": "u1", "userName": "alice@example.com", "active": true}
	list := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[` + user + `]}`
	in := scim.Resource{"userName": "alice@example.com"}
	tests := []struct {
		name     string
		resp     canned
		call     func(c *Client) (any, error)
		want     any
		wantSeen seen
		wantErr  error
	}{
		{
			name:     "get",
			resp:     canned{200, user},
			call:     func(c *Client) (any, error) { return c.Get(context.Background(), "Users", "u1") },
			want:     wantUser,
			wantSeen: seen{Method: "GET", URI: "/Users/u1"},
		},
		{
			name:     "get escapes the id",
			resp:     canned{200, user},
			call:     func(c *Client) (any, error) { return c.Get(context.Background(), "Users", "a/b c") },
			want:     wantUser,
			wantSeen: seen{Method: "GET", URI: "/Users/a%2Fb%20c"},
		},
		{
			name:     "get with empty body",
			resp:     canned{200, ""},
			call:     func(c *Client) (any, error) { return c.Get(context.Background(), "Users", "u1") },
			want:     scim.Resource(nil),
			wantSeen: seen{Method: "GET", URI: "/Users/u1"},
			wantErr:  ErrEmptyBody,
		},
		{
			name: "list",
			resp: canned{200, list},
			call: func(c *Client) (any, error) {
				return c.List(context.Background(), "Users", ListQuery{Filter: `userName eq "alice@example.com"`, StartIndex: 1, Count: 100})
			},
			want: scim.ListResponse{Schemas: []string{scim.SchemaListResponse}, TotalResults: 1, StartIndex: 1, ItemsPerPage: 1,
				Resources: []scim.Resource{wantUser}},
			wantSeen: seen{Method: "GET", URI: "/Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100"},
		},
		{
			name:     "list without query",
			resp:     canned{200, `{"totalResults":0,"Resources":[]}`},
			call:     func(c *Client) (any, error) { return c.List(context.Background(), "Groups", ListQuery{}) },
			want:     scim.ListResponse{Resources: []scim.Resource{}},
			wantSeen: seen{Method: "GET", URI: "/Groups"},
		},
		{
			name:     "create",
			resp:     canned{201, user},
			call:     func(c *Client) (any, error) { return c.Create(context.Background(), "Users", in) },
			want:     wantUser,
			wantSeen: seen{Method: "POST", URI: "/Users", Body: map[string]any{"userName": "alice@example.com"}},
		},
		{
			name:     "create answered without a body",
			resp:     canned{201, ""},
			call:     func(c *Client) (any, error) { return c.Create(context.Background(), "Users", in) },
			want:     scim.Resource(nil),
			wantSeen: seen{Method: "POST", URI: "/Users", Body: map[string]any{"userName": "alice@example.com"}},
			wantErr:  ErrEmptyBody,
		},
		{
			name:     "create conflict",
			resp:     canned{409, `{"status":"409","scimType":"uniqueness"}`},
			call:     func(c *Client) (any, error) { return c.Create(context.Background(), "Users", in) },
			want:     scim.Resource(nil),
			wantSeen: seen{Method: "POST", URI: "/Users", Body: map[string]any{"userName": "alice@example.com"}},
			wantErr:  scim.ErrUniqueness,
		},
		{
			name:     "replace",
			resp:     canned{200, user},
			call:     func(c *Client) (any, error) { return c.Replace(context.Background(), "Users", "u1", in) },
			want:     wantUser,
			wantSeen: seen{Method: "PUT", URI: "/Users/u1", Body: map[string]any{"userName": "alice@example.com"}},
		},
		{
			name: "patch 200",
			resp: canned{200, user},
			call: func(c *Client) (any, error) {
				return c.Patch(context.Background(), "Users", "u1", []scim.PatchOperation{{Op: "replace", Value: json.RawMessage(`{"active":true}`)}})
			},
			want: wantUser,
			wantSeen: seen{Method: "PATCH", URI: "/Users/u1", Body: map[string]any{
				"schemas":    []any{scim.SchemaPatchOp},
				"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": true}}},
			}},
		},
		{
			name: "patch 204",
			resp: canned{204, ""},
			call: func(c *Client) (any, error) {
				return c.Patch(context.Background(), "Groups", "g1", []scim.PatchOperation{{Op: "remove", Path: `members[value eq "u1"]`}})
			},
			want: scim.Resource(nil),
			wantSeen: seen{Method: "PATCH", URI: "/Groups/g1", Body: map[string]any{
				"schemas":    []any{scim.SchemaPatchOp},
				"Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "u1"]`}},
			}},
		},
		{
			name:     "delete",
			resp:     canned{204, ""},
			call:     func(c *Client) (any, error) { return nil, c.Delete(context.Background(), "Groups", "g1") },
			wantSeen: seen{Method: "DELETE", URI: "/Groups/g1"},
		},
		{
			name:     "delete not found",
			resp:     canned{404, `{"status":"404","detail":"no such group"}`},
			call:     func(c *Client) (any, error) { return nil, c.Delete(context.Background(), "Groups", "g1") },
			wantSeen: seen{Method: "DELETE", URI: "/Groups/g1"},
			wantErr:  scim.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := recorder(t, tt.resp)
			res, err := tt.call(New(srv.URL+"/scim/v2", "tok"))
			if tt.wantErr == nil && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, normalise(res)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			got.Header = nil
			if diff := cmp.Diff(tt.wantSeen, *got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmptyIDs(t *testing.T) {
	c := New("http://127.0.0.1:1", "tok")
	ctx := context.Background()
	calls := map[string]func() error{
		"get":     func() error { _, err := c.Get(ctx, "Users", ""); return err },
		"replace": func() error { _, err := c.Replace(ctx, "Users", "", nil); return err },
		"patch":   func() error { _, err := c.Patch(ctx, "Users", "", nil); return err },
		"delete":  func() error { return c.Delete(ctx, "Users", "") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil || !strings.Contains(err.Error(), "empty id") {
				t.Errorf("err = %v, want empty id", err)
			}
		})
	}
}

// normalise re-decodes v through JSON without UseNumber so test
// expectations can be written with plain literals.
func normalise(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case scim.Resource:
		if v == nil {
			return scim.Resource(nil)
		}
		b, _ := json.Marshal(v)
		var out scim.Resource
		json.Unmarshal(b, &out)
		return out
	case scim.ListResponse:
		for i, r := range v.Resources {
			v.Resources[i] = normalise(r).(scim.Resource)
		}
		return v
	}
	return v
}
