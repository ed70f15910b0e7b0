package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestUnreadableClientSecret: an instance whose secret key does not open a
// tenant's client secret (another key, or none, while other instances
// encrypt) keeps serving that tenant's SCIM API, which needs no secret,
// and refuses its sign-ins with a page that tells the operator what to
// do, instead of answering 500 to everything.
func TestUnreadableClientSecret(t *testing.T) {
	ctx := context.Background()
	raw, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	key := func(b byte) *sealed.Keys {
		k, err := sealed.NewKeys(bytes.Repeat([]byte{b}, sealed.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// Instance A has the key and stores the tenant's sign-in settings.
	a := app.Config{Store: sealed.New(raw, key(1)), PublicURL: "http://idpkit.example", DisableMetrics: true}
	acme, err := app.Tenants(a).Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error {
		tn.OktaDomain, tn.Issuer, tn.ClientID, tn.ClientSecret = "https://example.okta.com", "https://example.okta.com", "0oa1", "client-secret"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		keys *sealed.Keys
	}{
		{"another key", key(2)},
		{"no key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(app.New(app.Config{Store: sealed.New(raw, tc.keys), PublicURL: "http://idpkit.example", DisableMetrics: true}))
			defer srv.Close()
			get := func(path, token string) (int, string) {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			scimCode, _ := get("/t/acme/scim/v2/Users", acme.Token)
			loginCode, page := get("/t/acme/login", "")
			if diff := cmp.Diff([]int{http.StatusOK, http.StatusServiceUnavailable}, []int{scimCode, loginCode}); diff != "" {
				t.Errorf("SCIM and sign-in statuses (-want +got):\n%s", diff)
			}
			if !strings.Contains(page, "start every idpkit serve with the same secret key") {
				t.Errorf("the sign-in page does not say what to do:\n%s", page)
			}
		})
	}
}
