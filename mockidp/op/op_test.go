package op

import (
	"crypto"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewConfig(t *testing.T) {
	dir := newFakeDirectory()
	base := func() string { return "http://127.0.0.1:9090" }
	keys := testKeys(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"generated keys", Config{BaseURL: base, Directory: dir}, false},
		{"fixed keys", Config{BaseURL: base, Directory: dir, SigningKeys: keys}, false},
		{"no BaseURL", Config{Directory: dir, SigningKeys: keys}, true},
		{"no Directory", Config{BaseURL: base, SigningKeys: keys}, true},
		{"one key", Config{BaseURL: base, Directory: dir, SigningKeys: keys[:1]}, true},
		{"same key twice", Config{BaseURL: base, Directory: dir, SigningKeys: []crypto.Signer{keys[0], keys[0]}}, true},
		{"bad server id", Config{BaseURL: base, Directory: dir, SigningKeys: keys, AuthServers: []string{"a/b"}}, true},
		{"v1 server id", Config{BaseURL: base, Directory: dir, SigningKeys: keys, AuthServers: []string{"v1"}}, true},
		{"default repeated", Config{BaseURL: base, Directory: dir, SigningKeys: keys, AuthServers: []string{"default"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && len(p.keys.jwks().Keys) != 2 {
				t.Errorf("want 2 published keys")
			}
		})
	}
}

func TestIssuer(t *testing.T) {
	p, err := New(Config{BaseURL: func() string { return "http://127.0.0.1:9090/" }, Directory: newFakeDirectory(), SigningKeys: testKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{p.Issuer(""), p.Issuer("default"), p.Issuer("aus1")}
	want := []string{"http://127.0.0.1:9090", "http://127.0.0.1:9090/oauth2/default", "http://127.0.0.1:9090/oauth2/aus1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	type doc struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		UserinfoEndpoint      string   `json:"userinfo_endpoint"`
		JWKSURI               string   `json:"jwks_uri"`
		EndSessionEndpoint    string   `json:"end_session_endpoint"`
		ResponseModes         []string `json:"response_modes_supported"`
		CodeChallenge         []string `json:"code_challenge_methods_supported"`
		Algs                  []string `json:"id_token_signing_alg_values_supported"`
		Subjects              []string `json:"subject_types_supported"`
		AuthMethods           []string `json:"token_endpoint_auth_methods_supported"`
	}
	common := doc{
		ResponseModes: []string{"query", "fragment", "form_post", "okta_post_message"},
		CodeChallenge: []string{"S256"}, Algs: []string{"RS256"}, Subjects: []string{"public"},
		AuthMethods: []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
	}
	withURLs := func(iss, ep string) doc {
		d := common
		d.Issuer = iss
		d.AuthorizationEndpoint, d.TokenEndpoint, d.UserinfoEndpoint = ep+"/authorize", ep+"/token", ep+"/userinfo"
		d.JWKSURI, d.EndSessionEndpoint = ep+"/keys", ep+"/logout"
		return d
	}
	u := e.srv.URL
	tests := []struct {
		path string
		want doc
	}{
		{"/.well-known/openid-configuration", withURLs(u, u+"/oauth2/v1")},
		{"/oauth2/default/.well-known/openid-configuration", withURLs(u+"/oauth2/default", u+"/oauth2/default/v1")},
		{"/oauth2/default/.well-known/oauth-authorization-server", withURLs(u+"/oauth2/default", u+"/oauth2/default/v1")},
		{"/oauth2/aus1custom/.well-known/openid-configuration", withURLs(u+"/oauth2/aus1custom", u+"/oauth2/aus1custom/v1")},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := e.get(t, tt.path, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			var got doc
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("unknown server is 404", func(t *testing.T) {
		if r := e.get(t, "/oauth2/nope/.well-known/openid-configuration", nil); r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
	})
}
