package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim/store"
)

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		errHas string // substring of the error; "" means success
	}{
		{"example.okta.com", "https://example.okta.com", ""},
		{"  Example.OKTA.com ", "https://example.okta.com", ""},
		{"https://example.okta.com", "https://example.okta.com", ""},
		{"https://example.okta.com/", "https://example.okta.com", ""},
		{"HTTPS://example.okta.com/", "https://example.okta.com", ""},
		{"https://example.okta.com:8443", "https://example.okta.com:8443", ""},
		{"http://127.0.0.1:9090", "http://127.0.0.1:9090", ""},
		{"http://127.0.0.1:9090/", "http://127.0.0.1:9090", ""},
		{"http://localhost:9090", "http://localhost:9090", ""},
		{"http://[::1]:9090", "http://[::1]:9090", ""},
		{"127.0.0.1:9090", "https://127.0.0.1:9090", ""},
		{"http://example.okta.com", "", "http is allowed only for loopback hosts; Okta domains use https"},
		{"http://10.0.0.1", "", "http is allowed only for loopback hosts"},
		{"example.okta.com/oauth2/default", "", `; enter only the domain, https://example.okta.com, and "default" as the authorization server`},
		{"https://example.okta.com/oauth2/default/", "", `, and "default" as the authorization server`},
		{"https://example.okta.com/oauth2/aus1x/.well-known/openid-configuration", "", `, and "aus1x" as the authorization server`},
		{"https://example.okta.com/oauth2/v1/authorize", "", "leave Authorization server empty"},
		{"https://example.okta.com/app/x", "", "contains the path"},
		{"", "", "empty"},
		{"   ", "", "empty"},
		{"https://", "", "no host"},
		{"not a domain!!", "", ""},
		{"https://user:pw@example.okta.com", "", "user name or password"},
		{"https://example.okta.com?x=1", "", "query"},
		{"https://example.okta.com#frag", "", "query or fragment"},
		{"ftp://example.okta.com", "", "only https"},
		{"javascript:alert(1)", "", ""},
		{"https://exa_mple.okta.com", "", "not a valid host"},
		{"https://-bad.okta.com", "", "not a valid host"},
		{"https://example.okta.com:", "", "empty port"},
		{"https://example.okta.com:abc", "", ""},
		{"%zz", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeDomain(tt.in)
			wantErr := tt.want == ""
			if wantErr {
				if err == nil {
					t.Fatalf("NormalizeDomain(%q) = %q, want an error", tt.in, got)
				}
				if !errors.Is(err, ErrInvalidDomain) {
					t.Errorf("error %v does not match ErrInvalidDomain", err)
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("error %q does not contain %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeDomain(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NormalizeDomain(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// discoveryServer runs handler with the server's own URL as base.
func discoveryServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, base string)) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(w, r, srv.URL)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveIssuer serves discovery documents whose issuer is issuer(base,
// prefix), prefix being "" for the org server or "/oauth2/ID", with a key
// set of one RS256 key at prefix/v1/keys and a token endpoint at
// prefix/v1/token that answers invalid_grant to every client.
func serveIssuer(issuer func(base, path string) string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, base string) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/v1/keys"):
			w.Write(rsaJWKS(1))
			return
		case strings.HasSuffix(r.URL.Path, "/v1/token"):
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`))
			return
		case !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			http.NotFound(w, r)
			return
		}
		prefix := strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                 issuer(base, prefix),
			"authorization_endpoint": base + prefix + "/v1/authorize",
			"token_endpoint":         base + prefix + "/v1/token",
			"jwks_uri":               base + prefix + "/v1/keys",
		})
	}
}

func TestConfigure(t *testing.T) {
	good := serveIssuer(func(base, prefix string) string { return base + prefix })
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, string)
		in      func(url string) SignIn
		want    func(url string) store.Tenant // nil when an error is expected
		is      error
		errHas  []string
	}{
		{
			name:    "org server",
			handler: good,
			in:      func(u string) SignIn { return SignIn{OktaDomain: u + "/", ClientID: "0oa1", ClientSecret: "s3cret"} },
			want: func(u string) store.Tenant {
				return store.Tenant{OktaDomain: u, Issuer: u, ClientID: "0oa1", ClientSecret: "s3cret"}
			},
		},
		{
			name:    "default server",
			handler: good,
			in: func(u string) SignIn {
				return SignIn{OktaDomain: u, ClientID: " 0oa1 ", ClientSecret: "s3cret", AuthServer: "default"}
			},
			want: func(u string) store.Tenant {
				return store.Tenant{OktaDomain: u, AuthServer: "default", Issuer: u + "/oauth2/default", ClientID: "0oa1", ClientSecret: "s3cret"}
			},
		},
		{
			name:    "wrong issuer",
			handler: serveIssuer(func(base, prefix string) string { return "https://other.okta.com" }),
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:      ErrDiscovery,
			errHas:  []string{`names the issuer "https://other.okta.com"`, "was expected"},
		},
		{
			name:    "trailing slash issuer",
			handler: serveIssuer(func(base, prefix string) string { return base + prefix + "/" }),
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:      ErrDiscovery,
			errHas:  []string{"trailing slash"},
		},
		{
			name: "a redirect instead of the document",
			handler: func(w http.ResponseWriter, r *http.Request, base string) {
				http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
			},
			in:     func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:     ErrDiscovery,
			errHas: []string{"answered a redirect (HTTP 302) to \"http://169.254.169.254/latest/meta-data\""},
		},
		{
			name: "keys on another host",
			handler: func(w http.ResponseWriter, r *http.Request, base string) {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"issuer": base, "authorization_endpoint": base + "/oauth2/v1/authorize",
					"token_endpoint": base + "/oauth2/v1/token", "jwks_uri": "https://keys.example.net/keys"})
			},
			in:     func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:     ErrDiscovery,
			errHas: []string{`puts its jwks_uri at "https://keys.example.net/keys", outside the issuer's origin`},
		},
		{
			name:    "custom server document for org setting",
			handler: serveIssuer(func(base, prefix string) string { return base + "/oauth2/default" }),
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:      ErrDiscovery,
			errHas:  []string{`so enter "default" as the authorization server`},
		},
		{
			name:    "org document for custom setting",
			handler: serveIssuer(func(base, prefix string) string { return base }),
			in: func(u string) SignIn {
				return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s", AuthServer: "default"}
			},
			is:     ErrDiscovery,
			errHas: []string{"leave the authorization server empty"},
		},
		{
			name:    "404",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) { http.NotFound(w, r) },
			in: func(u string) SignIn {
				return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s", AuthServer: "nope"}
			},
			is:     ErrDiscovery,
			errHas: []string{"HTTP 404", `authorization server "nope"`},
		},
		{
			name: "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>sign in</html>"))
			},
			in:     func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:     ErrDiscovery,
			errHas: []string{"did not return a JSON discovery document"},
		},
		{
			name: "no issuer",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				w.Write([]byte(`{"jwks_uri":"x"}`))
			},
			in:     func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s"} },
			is:     ErrDiscovery,
			errHas: []string{"has no issuer"},
		},
		{
			name:    "unreachable",
			handler: good,
			in: func(u string) SignIn {
				return SignIn{OktaDomain: "http://127.0.0.1:1", ClientID: "0oa1", ClientSecret: "s"}
			},
			is:     ErrDiscovery,
			errHas: []string{"could not reach http://127.0.0.1:1/.well-known/openid-configuration"},
		},
		{
			name:    "missing client id",
			handler: good,
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientSecret: "s"} },
			is:      ErrInvalidSignIn,
			errHas:  []string{"client id is missing"},
		},
		{
			name:    "missing client secret",
			handler: good,
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientID: "0oa1"} },
			is:      ErrInvalidSignIn,
			errHas:  []string{"client secret is missing"},
		},
		{
			name:    "bad auth server",
			handler: good,
			in: func(u string) SignIn {
				return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "s", AuthServer: "a/b"}
			},
			is: ErrInvalidSignIn,
		},
		{
			name:    "bad domain",
			handler: good,
			in: func(u string) SignIn {
				return SignIn{OktaDomain: "http://example.okta.com", ClientID: "0oa1", ClientSecret: "s"}
			},
			is:     ErrInvalidDomain,
			errHas: []string{"http is allowed only for loopback hosts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := discoveryServer(t, tt.handler)
			s, st, _ := newService(t)
			s.HTTPClient = srv.Client()
			ctx := context.Background()
			if _, err := s.Create(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			got, err := s.Configure(ctx, "acme", tt.in(srv.URL))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("Configure succeeded: %+v", got)
				}
				if !errors.Is(err, tt.is) {
					t.Errorf("error %v does not match %v", err, tt.is)
				}
				for _, h := range tt.errHas {
					if !strings.Contains(err.Error(), h) {
						t.Errorf("error %q does not contain %q", err, h)
					}
				}
				stored, _ := st.GetTenant(ctx, "acme")
				if stored.Issuer != "" || stored.ClientID != "" {
					t.Errorf("failed Configure stored settings: %+v", stored)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want(srv.URL)
			pick := func(x store.Tenant) store.Tenant {
				return store.Tenant{OktaDomain: x.OktaDomain, AuthServer: x.AuthServer, Issuer: x.Issuer, ClientID: x.ClientID, ClientSecret: x.ClientSecret}
			}
			if diff := cmp.Diff(want, pick(got)); diff != "" {
				t.Errorf("Configure (-want +got):\n%s", diff)
			}
			stored, _ := st.GetTenant(ctx, "acme")
			if diff := cmp.Diff(want, pick(stored)); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigureKeepsSecretAndUnknownTenant(t *testing.T) {
	srv := discoveryServer(t, serveIssuer(func(base, prefix string) string { return base + prefix }))
	s, _, _ := newService(t)
	s.HTTPClient = srv.Client()
	ctx := context.Background()
	if _, err := s.Configure(ctx, "nope", SignIn{OktaDomain: srv.URL, ClientID: "a", ClientSecret: "b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Configure(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Configure(ctx, "acme", SignIn{OktaDomain: srv.URL, ClientID: "a", ClientSecret: "first"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Configure(ctx, "acme", SignIn{OktaDomain: srv.URL, ClientID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "first"}, []string{got.ClientID, got.ClientSecret}); diff != "" {
		t.Errorf("client id/secret (-want +got):\n%s", diff)
	}
}

func TestConfigureTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	s, _, _ := newService(t)
	s.HTTPClient = srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Configure(ctx, "acme", SignIn{OktaDomain: srv.URL, ClientID: "a", ClientSecret: "b"})
	if !errors.Is(err, ErrDiscovery) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Configure against a hanging server = %v, want ErrDiscovery wrapping context.DeadlineExceeded", err)
	}
}
