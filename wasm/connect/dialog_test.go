package connect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/wasm/connect"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// fakePage records the last value of every element property.
type fakePage struct {
	mu    sync.Mutex
	props map[string]any // "id.prop" → value
}

func newPage() *fakePage { return &fakePage{props: map[string]any{}} }

func (p *fakePage) Apply(sets []connect.Set) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range sets {
		p.props[s.ID+"."+s.Prop] = s.Value
	}
}

func (p *fakePage) Value(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, _ := p.props[id+"."+connect.PropValue].(string)
	return v
}

func (p *fakePage) get(id, prop string) any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.props[id+"."+prop]
}

func (p *fakePage) typeInto(id, v string) {
	p.Apply([]connect.Set{{ID: id, Prop: connect.PropValue, Value: v}})
}

// signedIn returns a dialog talking to admin through a client holding the
// admin session cookie.
func signedIn(t *testing.T, admin *admintest.Admin) (*connect.Dialog, *fakePage, string) {
	t.Helper()
	srv := httptest.NewServer(admin)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	resp, err := c.Get(srv.URL + admin.AdminPath())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin link: %s", resp.Status)
	}
	page := newPage()
	return &connect.Dialog{API: &connect.API{Base: connect.BaseURL(srv.URL, "acme"), Client: c}, Page: page}, page, srv.URL
}

func TestDialogLoad(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 3, 1)
	d, page, _ := signedIn(t, admin)
	d.Load(context.Background())
	want := map[string]any{
		"scim-url.value":            "http://app.test/t/acme/scim/v2",
		"redirect-uri.value":        "http://app.test/t/acme/oidc/callback",
		"user-count.textContent":    "3",
		"group-count.textContent":   "1",
		"generate-secret.disabled":  false,
		"save.disabled":             false,
		"client-secret.placeholder": "",
		"page-status.hidden":        true,
	}
	for k, v := range want {
		id, prop, _ := strings.Cut(k, ".")
		if diff := cmp.Diff(v, page.get(id, prop)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}

	admin.SetCounts(5, 2)
	d.Refresh(context.Background())
	if diff := cmp.Diff([]any{"5", "2"}, []any{page.get("user-count", "textContent"), page.get("group-count", "textContent")}); diff != "" {
		t.Errorf("counts after refresh (-want +got):\n%s", diff)
	}
}

func TestDialogLoadWithoutSession(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	srv := httptest.NewServer(admin)
	defer srv.Close()
	page := newPage()
	d := &connect.Dialog{API: &connect.API{Base: connect.BaseURL(srv.URL, "acme"), Client: srv.Client()}, Page: page}
	d.Load(context.Background())
	got := []any{page.get("page-status", "textContent"), page.get("page-status", "hidden"), page.get("save", "disabled")}
	want := []any{"✗ Your admin session has ended; open a new admin link for this tenant.", false, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Buttons do nothing before settings are loaded.
	d.Generate(context.Background())
	d.Save(context.Background())
	if diff := cmp.Diff(0, admin.Rotations()); diff != "" {
		t.Errorf("rotations (-want +got):\n%s", diff)
	}
}

func TestDialogGenerate(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	d.Load(context.Background())
	if page.get("secret-box", "hidden") != nil {
		t.Fatalf("secret box touched before generating")
	}
	d.Generate(context.Background())
	got := []any{page.get("secret", "value"), page.get("secret-box", "hidden"), page.get("generate-secret", "disabled"), admin.Rotations()}
	want := []any{admin.Secret(), false, false, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDialogSave(t *testing.T) {
	okta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := "http://" + r.Host
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
		case "/oauth2/default/.well-known/openid-configuration":
			iss += "/oauth2/default"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"` + iss + `"}`))
	}))
	defer okta.Close()

	tests := []struct {
		name                       string
		domain, id, secret, server string
		wantStatus, wantClass      string
		wantSaved                  int
	}{
		{"org server", okta.URL, "0oa1", "s1", "", "✓ Okta's discovery document was read: issuer " + okta.URL, connect.ClassOK, 1},
		{"default server, pasted with spaces", " " + okta.URL + "\n", "0oa1", "s1", "default",
			"✓ Okta's discovery document was read: issuer " + okta.URL + "/oauth2/default", connect.ClassOK, 1},
		{"unknown server", okta.URL, "0oa1", "s1", "nope",
			"✗ Okta's discovery document at " + okta.URL + "/oauth2/nope/.well-known/openid-configuration could not be read (HTTP 404); check the Okta domain and the authorization server.",
			connect.ClassError, 0},
		{"missing secret", okta.URL, "0oa1", "", "", "✗ Enter the Client secret of the OIDC app integration in Okta.", connect.ClassError, 0},
		{"missing domain", "", "0oa1", "s", "", "✗ Enter your Okta domain, for example example.okta.com.", connect.ClassError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admintest.New("acme", "http://app.test", 0, 0)
			d, page, _ := signedIn(t, admin)
			d.Load(context.Background())
			page.typeInto(connect.IDOktaDomain, tt.domain)
			page.typeInto(connect.IDClientID, tt.id)
			page.typeInto(connect.IDClientSecret, tt.secret)
			page.typeInto(connect.IDAuthServer, tt.server)
			d.Save(context.Background())
			got := []any{page.get("save-status", "textContent"), page.get("save-status", "className"), page.get("save", "disabled"), len(admin.Saved())}
			want := []any{tt.wantStatus, tt.wantClass, false, tt.wantSaved}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.wantSaved == 1 {
				// The secret is never shown back; the placeholder says it is saved.
				got := []any{page.get("client-secret", "value"), page.get("client-secret", "placeholder"), page.get("okta-domain", "value")}
				if diff := cmp.Diff([]any{"", "saved", okta.URL}, got); diff != "" {
					t.Errorf("fields after save (-want +got):\n%s", diff)
				}
				// Saving again without a secret keeps the saved one.
				d.Save(context.Background())
				if diff := cmp.Diff("", admin.Saved()[1].ClientSecret); diff != "" {
					t.Errorf("second save secret (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDialogCopied(t *testing.T) {
	tests := []struct {
		name, button string
		err          error
		want         []connect.Set
	}{
		{"tenant url", connect.IDCopySCIMURL, nil, []connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Tenant URL copied."}}},
		{"secret failed", connect.IDCopySecret, errors.New("denied"),
			[]connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Copying failed; select the field and press Ctrl+C."}}},
		{"redirect", connect.IDCopyRedirect, nil, []connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Sign-in redirect URI copied."}}},
		{"unknown", "nope", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, connect.Copied(tt.button, tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
