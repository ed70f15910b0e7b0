package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// faultyStore fails or panics on reads of resources.
type faultyStore struct {
	store.Store
	panics bool
}

func (s faultyStore) fail() error {
	if s.panics {
		panic("boom")
	}
	return errors.New("disk on fire")
}

func (s faultyStore) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	return nil, s.fail()
}

func (s faultyStore) CountResources(ctx context.Context, tenant, typ string, where *store.Cond) (int, error) {
	return 0, s.fail()
}

func (s faultyStore) ScanResources(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	return s.fail()
}

func (s faultyStore) GetResource(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	return store.Record{}, s.fail()
}

func TestInternalErrors(t *testing.T) {
	for _, panics := range []bool{false, true} {
		name := map[bool]string{false: "store error", true: "store panic"}[panics]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			mux := http.NewServeMux()
			New(Config{Store: faultyStore{Store: f.store, panics: panics}, PublicURL: f.srv.URL}).Register(mux)
			f.srv.Config.Handler = mux
			for _, path := range []string{"/Users", "/Users/x"} {
				r := f.call(t, "GET", path, "", nil)
				if diff := cmp.Diff(scimError(500, ""), errorOf(r)); diff != "" {
					t.Errorf("GET %s mismatch (-want +got):\n%s\n%s", path, diff, r.raw)
				}
				if strings.Contains(r.raw, "fire") || strings.Contains(r.raw, "boom") {
					t.Errorf("GET %s leaks the internal error: %s", path, r.raw)
				}
			}
		})
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "s1@example.com")
	f.createUser(t, "s2@example.com")
	tests := []struct {
		name, body string
		want       []any
	}{
		{"filter and attributes", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"S1@example.com\"","attributes":["userName"]}`,
			[]any{200, float64(1), []any{"s1@example.com"}, nil}},
		{"paging", `{"startIndex":2,"count":1}`, []any{200, float64(2), []any{"s2@example.com"}, nil}},
		{"bad filter", `{"filter":"nope eq 1"}`, []any{400, nil, []any(nil), "invalidFilter"}},
		{"bad body", `{"filter":5}`, []any{400, nil, []any(nil), "invalidSyntax"}},
		{"count not a number", `{"count":"x"}`, []any{400, nil, []any(nil), "invalidValue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "POST", "/Users/.search", tt.body, nil)
			var names []any
			for _, u := range asList(r.body["Resources"]) {
				names = append(names, u.(map[string]any)["userName"])
				if _, ok := u.(map[string]any)["emails"]; ok && strings.Contains(tt.body, "attributes") {
					t.Errorf("attributes not applied: %v", u)
				}
			}
			got := []any{r.status, r.body["totalResults"], names, r.body["scimType"]}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	if r := f.call(t, "GET", "/Users/.search", "", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /Users/.search = %d with Allow %q, want 405 with Allow POST", r.status, r.header.Get("Allow"))
	}
}
