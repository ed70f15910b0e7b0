package login_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// post sends body to POST …/admin/api/PATH with the session's CSRF token.
func (b *adminBrowser) post(path, body string) (int, []byte) {
	b.t.Helper()
	_, sb := b.get(b.e.srv.URL + "/t/acme/admin/api/settings")
	var s adminapi.Settings
	if err := json.Unmarshal([]byte(sb), &s); err != nil {
		b.t.Fatalf("settings %s: %v", sb, err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/t/acme/admin/api/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(adminapi.CSRFHeader, s.CSRF)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestSignInCheckAPI: POST …/admin/api/oidc runs the sign-in check against
// the mock Okta and answers its steps; nothing is saved unless every step
// passes.
func TestSignInCheckAPI(t *testing.T) {
	e := newTestSignInEnv(t, "query")
	b := e.admin(t, "query")
	_, before := b.get(e.srv.URL + "/t/acme/admin/api/settings")
	var saved adminapi.Settings
	json.Unmarshal([]byte(before), &saved)
	clientID := saved.ClientID
	app, err := e.okta.Directory().App(clientID)
	if err != nil {
		t.Fatal(err)
	}
	secret := app.OAuthClient.ClientSecret
	body := func(domain, id, secret, authServer string) string {
		b, _ := json.Marshal(adminapi.SignIn{OktaDomain: domain, ClientID: id, ClientSecret: secret, AuthServer: authServer})
		return string(b)
	}
	ok := func(name, detail string) adminapi.Check { return adminapi.Check{Name: name, OK: true, Detail: detail} }
	allOK := func(issuer, domainDetail string) []adminapi.Check {
		return []adminapi.Check{
			ok(adminapi.CheckDomain, domainDetail), ok(adminapi.CheckDiscovery, "issuer "+issuer),
			ok(adminapi.CheckKeys, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret"),
		}
	}
	refused := "Okta refused the Client ID or Client secret (invalid_client); copy both again from the OIDC app's General tab"
	tests := []struct {
		name   string
		body   string
		status int
		checks []adminapi.Check
		desc   string // of a 400
		issuer string // saved after the request
	}{
		{"wrong client secret", body(e.okta.URL, clientID, secret+"x", ""), http.StatusBadRequest,
			append(allOK(e.okta.URL, e.okta.URL)[:3], adminapi.Check{Name: adminapi.CheckCredentials, Detail: refused}), refused, e.okta.URL},
		{"admin console domain", body("dev-1-admin.okta.com", clientID, secret, ""), http.StatusBadRequest,
			[]adminapi.Check{{Name: adminapi.CheckDomain, Detail: "The domain dev-1-admin.okta.com is Okta's Admin Console; use the org domain without -admin: dev-1.okta.com"}},
			"The domain dev-1-admin.okta.com is Okta's Admin Console; use the org domain without -admin: dev-1.okta.com", e.okta.URL},
		{"default server, the saved secret", body(e.okta.URL+"/", clientID, "", "default"), http.StatusOK,
			allOK(e.okta.URL+"/oauth2/default", e.okta.URL+" (the trailing slash was dropped)"), "", e.okta.URL + "/oauth2/default"},
		{"org server", body(e.okta.URL, clientID, secret, ""), http.StatusOK, allOK(e.okta.URL, e.okta.URL), "", e.okta.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := b.post("oidc", tt.body)
			if status != tt.status {
				t.Fatalf("POST oidc = %d, want %d: %s", status, tt.status, out)
			}
			var got []adminapi.Check
			if status == http.StatusOK {
				var s adminapi.Settings
				if err := json.Unmarshal(out, &s); err != nil {
					t.Fatal(err)
				}
				got = s.Checks
				if s.Issuer != tt.issuer || s.ClientID != clientID || !s.ClientSecretSet || s.CSRF == "" {
					t.Errorf("settings %+v", s)
				}
			} else {
				var ae adminapi.Error
				if err := json.Unmarshal(out, &ae); err != nil {
					t.Fatal(err)
				}
				got = ae.Checks
				if diff := cmp.Diff([]string{"invalid_request", tt.desc}, []string{ae.Error, ae.Description}); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.checks, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			_, sb := b.get(e.srv.URL + "/t/acme/admin/api/settings")
			var now adminapi.Settings
			json.Unmarshal([]byte(sb), &now)
			if now.Issuer != tt.issuer || now.Checks != nil {
				t.Errorf("saved issuer %q (checks %v), want %q", now.Issuer, now.Checks, tt.issuer)
			}
		})
	}
}
