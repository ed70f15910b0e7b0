package tenant

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/scim/adminapi"
)

// testKeys are two RSA keys and one P-256 key, made once per test binary.
var testKeys = sync.OnceValue(func() []any {
	var keys []any
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys = append(keys, k)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return append(keys, k)
})

// publicJWK is the public JWK of testKeys()[i].
func publicJWK(i int, alg string) json.RawMessage {
	var pub any
	switch k := testKeys()[i].(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	}
	b, err := jose.JSONWebKey{Key: pub, KeyID: "k" + string(rune('0'+i)), Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

// jwks is a JWK Set of keys.
func jwks(keys ...json.RawMessage) []byte {
	if keys == nil {
		keys = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// rsaJWKS is a JWK Set of the first n RSA test keys.
func rsaJWKS(n int) []byte {
	var keys []json.RawMessage
	for i := range n {
		keys = append(keys, publicJWK(i, "RS256"))
	}
	return jwks(keys...)
}

// fakeOkta is a provider with an org server ("") and the custom servers
// it lists; keys and token override its keys endpoint and token endpoint.
type fakeOkta struct {
	servers []string
	keys    http.HandlerFunc
	token   http.HandlerFunc
}

func (f fakeOkta) serve(w http.ResponseWriter, r *http.Request, base string) {
	prefix, rest := "", r.URL.Path
	if strings.HasPrefix(rest, "/oauth2/") {
		id, more, _ := strings.Cut(strings.TrimPrefix(rest, "/oauth2/"), "/")
		if id != "v1" {
			prefix, rest = "/oauth2/"+id, "/"+more
			found := false
			for _, s := range f.servers {
				found = found || s == id
			}
			if !found {
				http.NotFound(w, r)
				return
			}
		}
	}
	v1 := strings.TrimPrefix(prefix, "/oauth2/") // "" or the server id
	ep := base + prefix + "/v1"
	if v1 == "" {
		ep = base + "/oauth2/v1"
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case rest == "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": base + prefix, "authorization_endpoint": ep + "/authorize",
			"token_endpoint": ep + "/token", "jwks_uri": ep + "/keys", "userinfo_endpoint": ep + "/userinfo",
		})
	case strings.HasSuffix(rest, "/v1/keys") && f.keys != nil:
		f.keys(w, r)
	case strings.HasSuffix(rest, "/v1/keys"):
		w.Write(rsaJWKS(2))
	case strings.HasSuffix(rest, "/v1/token") && f.token != nil:
		f.token(w, r)
	case strings.HasSuffix(rest, "/v1/token"):
		if id, sec, ok := r.BasicAuth(); !ok || id != "0oa1" || sec != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid value for 'client_id' parameter."}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`))
	default:
		http.NotFound(w, r)
	}
}

func keysBody(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }
}

// TestCheckSignIn runs the sign-in check against fake providers and
// checks every step's outcome and sentence; on a failure nothing is saved.
func TestCheckSignIn(t *testing.T) {
	good := SignIn{ClientID: "0oa1", ClientSecret: "s3cret"}
	with := func(domain, authServer string) func(string) SignIn {
		return func(u string) SignIn {
			in := good
			in.OktaDomain = strings.ReplaceAll(domain, "URL", u)
			in.AuthServer = authServer
			return in
		}
	}
	ok := func(name, detail string) Check { return Check{Name: name, OK: true, Detail: detail} }
	bad := func(name, has string) Check { return Check{Name: name, Detail: has} }
	passed := func(u string, keys string) []Check {
		return []Check{ok(adminapi.CheckDomain, u), ok(adminapi.CheckDiscovery, "issuer "+u), ok(adminapi.CheckKeys, keys)}
	}
	tests := []struct {
		name string
		op   fakeOkta
		tls  bool
		in   func(u string) SignIn
		// want: the steps; a failed step's Detail is a substring of the
		// sentence, the others are exact.
		want func(u string) []Check
		is   error
	}{
		{
			name: "all pass",
			in:   with("URL", ""),
			want: func(u string) []Check {
				return append(passed(u, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret"))
			},
		},
		{
			name: "trailing slash",
			in:   with(" URL/", ""),
			want: func(u string) []Check {
				c := append(passed(u, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret"))
				c[0].Detail = u + " (the spaces around it were removed and the trailing slash was dropped)"
				return c
			},
		},
		{
			name: "https added",
			tls:  true,
			in: func(u string) SignIn {
				in := good
				in.OktaDomain = strings.TrimPrefix(u, "https://") + "/"
				return in
			},
			want: func(u string) []Check {
				c := append(passed(u, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret"))
				c[0].Detail = u + " (https:// was added and the trailing slash was dropped)"
				return c
			},
		},
		{
			name: "custom server",
			op:   fakeOkta{servers: []string{"default"}},
			in:   with("URL", "default"),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), ok(adminapi.CheckDiscovery, "issuer "+u+"/oauth2/default"), ok(adminapi.CheckKeys, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret")}
			},
		},
		{
			name: "default server path in the domain",
			op:   fakeOkta{servers: []string{"default"}},
			in:   with("URL/oauth2/default", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u+" (the /oauth2/default path was moved to Authorization server)"), ok(adminapi.CheckDiscovery, "issuer "+u+"/oauth2/default"), ok(adminapi.CheckKeys, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret")}
			},
		},
		{
			name: "default server path in the domain and in Authorization server",
			op:   fakeOkta{servers: []string{"default"}},
			in:   with("URL/oauth2/default/ ", "default"),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u+" (the /oauth2/default path was moved to Authorization server)"), ok(adminapi.CheckDiscovery, "issuer "+u+"/oauth2/default"), ok(adminapi.CheckKeys, "2 keys (RS256)"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret")}
			},
		},
		{
			name: "another server's path in the domain",
			op:   fakeOkta{servers: []string{"default"}},
			in:   with("URL/oauth2/default", "aus9"),
			want: func(u string) []Check {
				return []Check{bad(adminapi.CheckDomain, `The Okta domain "`+u+`/oauth2/default" ends in the path /oauth2/default of the authorization server "default", but Authorization server is "aus9"; enter only the domain, `+u+`, and in Authorization server the one you mean ("default" or "aus9")`)}
			},
			is: ErrInvalidDomain,
		},
		{
			name: "org server path in the domain",
			in:   with("URL/oauth2/v1/authorize", ""),
			want: func(u string) []Check {
				return []Check{bad(adminapi.CheckDomain, `contains the path "/oauth2/v1/authorize"; enter only the domain, `+u+`, and leave Authorization server empty`)}
			},
			is: ErrInvalidDomain,
		},
		{
			name: "https to a server that speaks http",
			in: func(u string) SignIn {
				in := good
				in.OktaDomain = strings.Replace(u, "http://", "https://", 1)
				return in
			},
			want: func(u string) []Check {
				h := strings.Replace(u, "http://", "https://", 1)
				return []Check{ok(adminapi.CheckDomain, h), bad(adminapi.CheckDiscovery, h+" speaks http, not https; if this is a local mock Okta, enter its address with http://")}
			},
			is: ErrDiscovery,
		},
		{
			name: "admin console domain",
			in:   with("https://dev-1-admin.okta.com", ""),
			want: func(string) []Check {
				return []Check{bad(adminapi.CheckDomain, "The domain dev-1-admin.okta.com is Okta's Admin Console; use the org domain without -admin: dev-1.okta.com")}
			},
			is: ErrInvalidDomain,
		},
		{
			name: "unreachable host",
			in:   with("http://127.0.0.1:1", ""),
			want: func(string) []Check {
				return []Check{ok(adminapi.CheckDomain, "http://127.0.0.1:1"), bad(adminapi.CheckDiscovery, "Could not reach http://127.0.0.1:1/.well-known/openid-configuration (")}
			},
			is: ErrDiscovery,
		},
		{
			name: "unknown custom server",
			op:   fakeOkta{servers: []string{"default"}},
			in:   with("URL", "aus9"),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, `answered HTTP 404: this org has no authorization server "aus9"; leave Authorization server empty for the org server`)}
			},
			is: ErrDiscovery,
		},
		{
			name: "bad custom server id",
			in:   with("URL", "a/b"),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, `The authorization server id "a/b" may contain only letters`)}
			},
			is: ErrInvalidSignIn,
		},
	}
	// The table is split: rows whose provider is a fakeOkta, and rows
	// with their own handler.
	type row struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, string)
		tls     bool
		in      func(u string) SignIn
		want    func(u string) []Check
		is      error
	}
	var rows []row
	for _, tt := range tests {
		rows = append(rows, row{tt.name, tt.op.serve, tt.tls, tt.in, tt.want, tt.is})
	}
	docWith := func(edit func(doc map[string]any, base string)) func(http.ResponseWriter, *http.Request, string) {
		return func(w http.ResponseWriter, r *http.Request, base string) {
			if r.URL.Path != "/.well-known/openid-configuration" {
				fakeOkta{}.serve(w, r, base)
				return
			}
			doc := map[string]any{"issuer": base, "authorization_endpoint": base + "/oauth2/v1/authorize",
				"token_endpoint": base + "/oauth2/v1/token", "jwks_uri": base + "/oauth2/v1/keys"}
			edit(doc, base)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc)
		}
	}
	withKeys := func(h http.HandlerFunc) func(http.ResponseWriter, *http.Request, string) {
		return fakeOkta{keys: h}.serve
	}
	throughKeys := func(u string) []Check {
		return []Check{ok(adminapi.CheckDomain, u), ok(adminapi.CheckDiscovery, "issuer "+u)}
	}
	rows = append(rows, []row{
		{
			name:    "wrong issuer",
			handler: docWith(func(doc map[string]any, _ string) { doc["issuer"] = "https://other.okta.com" }),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, `names the issuer "https://other.okta.com", but "`+u+`" was expected; check the Okta domain`)}
			},
			is: ErrDiscovery,
		},
		{
			name:    "issuer with a trailing slash",
			handler: docWith(func(doc map[string]any, base string) { doc["issuer"] = base + "/" }),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, "they differ only by a trailing slash")}
			},
			is: ErrDiscovery,
		},
		{
			name:    "custom server document for the org server",
			handler: docWith(func(doc map[string]any, base string) { doc["issuer"] = base + "/oauth2/default" }),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, `so enter "default" as the authorization server`)}
			},
			is: ErrDiscovery,
		},
		{
			name: "not an Okta domain",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				http.NotFound(w, r)
			},
			in: with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, "answered HTTP 404, so "+u+" is not an Okta domain")}
			},
			is: ErrDiscovery,
		},
		{
			name: "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>sign in</html>"))
			},
			in: with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, "did not return a JSON discovery document")}
			},
			is: ErrDiscovery,
		},
		{
			name:    "no jwks_uri",
			handler: docWith(func(doc map[string]any, _ string) { delete(doc, "jwks_uri") }),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return []Check{ok(adminapi.CheckDomain, u), bad(adminapi.CheckDiscovery, "lists no jwks_uri")}
			},
			is: ErrDiscovery,
		},
		{
			name: "keys unreachable",
			handler: withKeys(func(w http.ResponseWriter, r *http.Request) {
				c, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					c.Close()
				}
			}),
			in: with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), bad(adminapi.CheckKeys, "Could not reach the signing keys at "+u+"/oauth2/v1/keys"))
			},
			is: ErrDiscovery,
		},
		{
			name:    "keys 404",
			handler: withKeys(http.NotFound),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), bad(adminapi.CheckKeys, "answered HTTP 404 instead of the signing keys"))
			},
			is: ErrDiscovery,
		},
		{
			name:    "not a key set",
			handler: withKeys(keysBody(`<html>keys</html>`)),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), bad(adminapi.CheckKeys, "did not return a JWK Set"))
			},
			is: ErrDiscovery,
		},
		{
			name:    "empty key set",
			handler: withKeys(keysBody(`{"keys":[]}`)),
			in:      with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), bad(adminapi.CheckKeys, "has no key sign-in can use (it is empty)"))
			},
			is: ErrDiscovery,
		},
		{
			name: "only HS256 and unknown keys",
			handler: withKeys(keysBody(string(jwks(
				json.RawMessage(`{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0","alg":"HS256"}`),
				json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`),
				json.RawMessage(`{"kty":"RSA","alg":"RS512","n":"AQAB","e":"AQAB"}`),
				json.RawMessage(`"not a key"`),
			)))),
			in: with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), bad(adminapi.CheckKeys, "none of its 4 keys is an RS256 or ES256 signing key"))
			},
			is: ErrDiscovery,
		},
		{
			name: "one bad key does not spoil the set",
			handler: withKeys(keysBody(string(jwks(
				json.RawMessage(`{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"}`),
				publicJWK(0, "RS256"), publicJWK(1, ""), publicJWK(2, "ES256"),
			)))),
			in: with("URL", ""),
			want: func(u string) []Check {
				return append(throughKeys(u), ok(adminapi.CheckKeys, "3 keys (ES256, RS256); 1 other key not used"), ok(adminapi.CheckCredentials, "Okta accepted the Client ID and secret"))
			},
		},
		{
			name:    "wrong client secret",
			handler: fakeOkta{}.serve,
			in: func(u string) SignIn {
				return SignIn{OktaDomain: u, ClientID: "0oa1", ClientSecret: "wrong"}
			},
			want: func(u string) []Check {
				return append(passed(u, "2 keys (RS256)"), bad(adminapi.CheckCredentials, "Okta refused the Client ID or Client secret (invalid_client); copy both again from the OIDC app's General tab"))
			},
			is: ErrInvalidSignIn,
		},
		{
			name: "grant not allowed",
			handler: fakeOkta{token: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"unauthorized_client","error_description":"The client is not authorized to use the provided grant type."}`))
			}}.serve,
			in: with("URL", ""),
			want: func(u string) []Check {
				return append(passed(u, "2 keys (RS256)"), bad(adminapi.CheckCredentials, "allow the grant type Authorization Code"))
			},
			is: ErrInvalidSignIn,
		},
		{
			name: "token endpoint fails",
			handler: fakeOkta{token: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}}.serve,
			in: with("URL", ""),
			want: func(u string) []Check {
				return append(passed(u, "2 keys (RS256)"), bad(adminapi.CheckCredentials, "failed (HTTP 503); try again in a moment"))
			},
			is: ErrDiscovery,
		},
		{
			name:    "missing client id",
			handler: fakeOkta{}.serve,
			in:      func(u string) SignIn { return SignIn{OktaDomain: u, ClientSecret: "s3cret"} },
			want: func(u string) []Check {
				return append(passed(u, "2 keys (RS256)"), bad(adminapi.CheckCredentials, "The client id is missing"))
			},
			is: ErrInvalidSignIn,
		},
	}...)
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.handler(w, r, srv.URL) })
			if tt.tls {
				srv = httptest.NewTLSServer(h)
			} else {
				srv = httptest.NewServer(h)
			}
			t.Cleanup(srv.Close)
			s, st, _ := newService(t)
			s.HTTPClient = srv.Client()
			ctx := context.Background()
			if _, err := s.Create(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			want := tt.want(srv.URL)
			for _, run := range []string{"CheckSignIn", "ConfigureChecked"} {
				var got []Check
				var err error
				if run == "CheckSignIn" {
					got, err = s.CheckSignIn(ctx, "acme", tt.in(srv.URL))
				} else {
					_, got, err = s.ConfigureChecked(ctx, "acme", tt.in(srv.URL))
				}
				if tt.is == nil && err != nil {
					t.Fatalf("%s: %v", run, err)
				}
				if tt.is != nil {
					var ce *CheckError
					if !errors.Is(err, tt.is) || !errors.As(err, &ce) {
						t.Fatalf("%s: error %v does not match %v as a *CheckError", run, err, tt.is)
					}
					if diff := cmp.Diff(got, ce.Checks); diff != "" {
						t.Errorf("%s: the error's checks differ from the result (-result +error):\n%s", run, diff)
					}
					if last := got[len(got)-1]; last.OK || last.Detail != Message(err) {
						t.Errorf("%s: the last check %+v is not the failure %q", run, last, Message(err))
					}
				}
				// A failed step's Detail need only contain the wanted text.
				for i := range got {
					if i < len(want) && !want[i].OK && !got[i].OK && strings.Contains(got[i].Detail, want[i].Detail) {
						got[i].Detail = want[i].Detail
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s steps (-want +got):\n%s", run, diff)
				}
			}
			stored, err := st.GetTenant(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			saved := stored.Issuer != "" || stored.ClientID != "" || stored.OktaDomain != ""
			if saved != (tt.is == nil) {
				t.Errorf("saved settings %+v, want them saved only when every step passes", stored)
			}
		})
	}
}

// TestCheckSignInMockOkta runs the check against the mock Okta, which
// authenticates the client before it looks at the code, as Okta does.
func TestCheckSignInMockOkta(t *testing.T) {
	okta := mockidp.NewServer()
	t.Cleanup(okta.Close)
	app, err := okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{
		RedirectURIs: []string{"http://127.0.0.1:8080/t/acme/oidc/callback"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := app.OAuthClient.ClientID, app.OAuthClient.ClientSecret
	accepted := Check{Name: adminapi.CheckCredentials, OK: true, Detail: "Okta accepted the Client ID and secret"}
	tests := []struct {
		name string
		in   SignIn
		last Check // the last step; every one before it passes
		n    int   // steps that ran
	}{
		{"org server", SignIn{OktaDomain: okta.URL + "/", ClientID: id, ClientSecret: secret}, accepted, 4},
		{"default server", SignIn{OktaDomain: okta.URL, ClientID: id, ClientSecret: secret, AuthServer: "default"}, accepted, 4},
		{"default server's issuer as the domain", SignIn{OktaDomain: okta.URL + "/oauth2/default", ClientID: id, ClientSecret: secret}, accepted, 4},
		{"https to the mock", SignIn{OktaDomain: strings.Replace(okta.URL, "http://", "https://", 1), ClientID: id, ClientSecret: secret},
			Check{Name: adminapi.CheckDiscovery, Detail: strings.Replace(okta.URL, "http://", "https://", 1) + " speaks http, not https; if this is a local mock Okta, enter its address with http://"}, 2},
		{"wrong client secret", SignIn{OktaDomain: okta.URL, ClientID: id, ClientSecret: secret + "x"},
			Check{Name: adminapi.CheckCredentials, Detail: "Okta refused the Client ID or Client secret (invalid_client); copy both again from the OIDC app's General tab."}, 4},
		{"unknown client id", SignIn{OktaDomain: okta.URL, ClientID: "0oanope", ClientSecret: secret},
			Check{Name: adminapi.CheckCredentials, Detail: "Okta refused the Client ID or Client secret (invalid_client); copy both again from the OIDC app's General tab."}, 4},
		{"unknown authorization server", SignIn{OktaDomain: okta.URL, ClientID: id, ClientSecret: secret, AuthServer: "aus9nope"},
			Check{Name: adminapi.CheckDiscovery, Detail: okta.URL + `/oauth2/aus9nope/.well-known/openid-configuration answered HTTP 404: this org has no authorization server "aus9nope"; leave Authorization server empty for the org server, or copy the id from Security › API in Okta`}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st, _ := newService(t)
			s.HTTPClient = okta.Client()
			ctx := context.Background()
			if _, err := s.Create(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			_, got, err := s.ConfigureChecked(ctx, "acme", tt.in)
			if (err == nil) != tt.last.OK {
				t.Fatalf("ConfigureChecked: %v, want success %v", err, tt.last.OK)
			}
			if len(got) != tt.n {
				t.Fatalf("%d steps ran, want %d: %+v", len(got), tt.n, got)
			}
			for _, c := range got[:len(got)-1] {
				if !c.OK {
					t.Errorf("step %+v failed", c)
				}
			}
			// The sentences end with a period only when a page shows them.
			tt.last.Detail = strings.TrimSuffix(tt.last.Detail, ".")
			if diff := cmp.Diff(tt.last, got[len(got)-1]); diff != "" {
				t.Errorf("last step (-want +got):\n%s", diff)
			}
			stored, _ := st.GetTenant(ctx, "acme")
			server := tt.in.AuthServer
			if strings.HasSuffix(tt.in.OktaDomain, "/oauth2/default") {
				server = "default"
			}
			if tt.last.OK != (stored.ClientID == id && stored.Issuer == Issuer(okta.URL, server) && stored.AuthServer == server) {
				t.Errorf("stored %+v after a check that passed: %v", stored, tt.last.OK)
			}
		})
	}
}
