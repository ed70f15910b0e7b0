package server

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/suites/check/casefile"
)

// TestCases runs every case file of testdata/cases/scim against the server.
func TestCases(t *testing.T) {
	cases, err := casefile.Load(os.DirFS("../../testdata/cases/scim"), ".")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.Run(ctx, f.base("acme"), f.acmeToken, f.srv.Client()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		tenant string
		auth   string
		path   string
	}{
		{"missing token", "acme", "", "/Users"},
		{"wrong token", "acme", "Bearer nope", "/Users"},
		{"not bearer", "acme", "non-token", "/Users"},
		{"basic scheme", "acme", "Basic " + "YTpi", "/Users"},
		{"empty bearer", "acme", "Bearer ", "/Users"},
		{"other tenant's token", "acme", "Bearer " + f.betaToken, "/Users"},
		{"unknown tenant", "nobody", "Bearer " + f.acmeToken, "/Users"},
		{"discovery needs the token", "acme", "", "/ServiceProviderConfig"},
		{"unknown path still 401", "acme", "", "/Nope"},
		{"unknown id still 401", "acme", "Bearer x", "/Users/123"},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.callTenant(t, tt.tenant, "", "GET", tt.path, "", map[string]string{"Authorization": tt.auth})
			got := map[string]any{"error": errorOf(r), "challenge": r.header.Get("WWW-Authenticate")}
			want := map[string]any{"error": scimError(401, ""), "challenge": `Bearer realm="idpkit"`}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if first == "" {
				first = r.raw
			} else if r.raw != first {
				t.Errorf("401 body differs between cases:\n%s\n%s", first, r.raw)
			}
		})
	}
	t.Run("right token", func(t *testing.T) {
		r := f.callTenant(t, "beta", f.betaToken, "GET", "/Users", "", map[string]string{"Authorization": "bearer " + f.betaToken})
		if r.status != http.StatusOK {
			t.Errorf("status = %d, want 200: %s", r.status, r.raw)
		}
	})
}

func TestContentTypes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		contentType string
	}{
		{"scim+json", "application/scim+json"},
		{"scim+json with charset", "application/scim+json; charset=utf-8"},
		{"json", "application/json"},
		{"json with charset", "application/json; charset=UTF-8"},
		{"missing", ""},
		{"upper case", "Application/SCIM+JSON; Charset=UTF-8"},
		{"extra parameter", "application/json; charset=utf-8; profile=x"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "ct" + strconv.Itoa(i) + "@example.com"
			r := f.call(t, "POST", "/Users", `{"userName":"`+user+`"}`, map[string]string{"Content-Type": tt.contentType})
			got := []any{r.status, r.header.Get("Content-Type"), r.body["userName"]}
			want := []any{201, "application/scim+json; charset=utf-8", user}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	t.Run("ServiceProviderConfig", func(t *testing.T) {
		r := f.call(t, "GET", "/ServiceProviderConfig", "", nil)
		got := map[string]any{"status": r.status, "patch": r.body["patch"], "bulk": r.body["bulk"],
			"filter": r.body["filter"], "etag": r.body["etag"], "sort": r.body["sort"], "changePassword": r.body["changePassword"],
			"auth": r.body["authenticationSchemes"].([]any)[0].(map[string]any)["type"]}
		want := map[string]any{"status": 200, "patch": map[string]any{"supported": true},
			"bulk":   map[string]any{"supported": true, "maxOperations": float64(MaxBulkOperations), "maxPayloadSize": float64(MaxBulkPayload)},
			"filter": map[string]any{"supported": true, "maxResults": float64(MaxCount)}, "etag": map[string]any{"supported": true},
			"sort": map[string]any{"supported": true}, "changePassword": map[string]any{"supported": true}, "auth": "oauthbearertoken"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	for _, tt := range []struct {
		path string
		ids  []any
	}{
		{"/ResourceTypes", []any{"User", "Group"}},
		{"/Schemas", []any{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r := f.call(t, "GET", tt.path, "", nil)
			var ids []any
			for _, res := range r.body["Resources"].([]any) {
				ids = append(ids, res.(map[string]any)["id"])
			}
			got := []any{r.status, r.body["totalResults"], ids}
			want := []any{200, float64(len(tt.ids)), tt.ids}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			one := f.call(t, "GET", tt.path+"/"+tt.ids[0].(string), "", nil)
			if diff := cmp.Diff([]any{200, tt.ids[0]}, []any{one.status, one.body["id"]}); diff != "" {
				t.Errorf("single mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
