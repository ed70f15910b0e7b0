package mockidp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// TestSeedJSONAndYAML: the example seed in JSON and in YAML is the same
// seed, whether told apart by extension or by content.
func TestSeedJSONAndYAML(t *testing.T) {
	fromJSON, err := LoadSeedFile("../testdata/mockokta/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := LoadSeedFile("../testdata/mockokta/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
		t.Errorf("seed.json and seed.yaml differ (-json +yaml):\n%s", diff)
	}
	for _, name := range []string{"seed.json", "seed.yaml"} {
		t.Run("by content "+name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("../testdata/mockokta", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := LoadSeed(f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fromJSON, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("other extension", func(t *testing.T) {
		b, err := os.ReadFile("../testdata/mockokta/seed.yaml")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "seed.txt")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadSeedFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fromJSON, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	want := SeedApp{Label: "Q.wiki SCIM", Type: SeedAppSCIM, Kind: directory.KindCustom, Create: true, Update: true, Deactivate: true}
	if diff := cmp.Diff(want, fromYAML.Apps[1]); diff != "" {
		t.Errorf("SCIM app (-want +got):\n%s", diff)
	}
}

// TestSeedNewFields: every field added for issue 5, in both formats, and
// what it becomes in the org.
func TestSeedNewFields(t *testing.T) {
	jsonSeed := `{
	  "users": [{"login": "a@example.com", "firstName": "A", "lastName": "A", "password": "Correct-Horse-9"}],
	  "apps": [
	    {"label": "es", "type": "oidc", "redirectUris": ["http://127.0.0.1:1/cb"], "idTokenSignedResponseAlg": "ES256"},
	    {"label": "cat", "type": "scim", "kind": "catalogue", "password": true}
	  ],
	  "trustedOrigins": ["http://localhost:3000"],
	  "authServers": ["api", "partners"]
	}`
	yamlSeed := `
users:
  - {login: a@example.com, firstName: A, lastName: A, password: Correct-Horse-9}
apps:
  - label: es
    type: oidc
    redirectUris: ["http://127.0.0.1:1/cb"]
    idTokenSignedResponseAlg: ES256
  - {label: cat, type: scim, kind: catalogue, password: true}
trustedOrigins: ["http://localhost:3000"]
authServers: [api, partners]
`
	a, err := LoadSeed(strings.NewReader(jsonSeed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadSeed(strings.NewReader(yamlSeed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("JSON and YAML differ (-json +yaml):\n%s", diff)
	}
	s := NewServer(WithSeed(b))
	defer s.Close()
	es, _ := s.Directory().App(s.Seeded().Apps["es"].ID)
	cat, _ := s.Directory().App(s.Seeded().Apps["cat"].ID)
	got := []string{es.OAuthClient.IDTokenSignedResponseAlg, cat.Provisioning.Kind, map[bool]string{true: "sync password"}[cat.Provisioning.Password]}
	if diff := cmp.Diff([]string{"ES256", "catalogue", "sync password"}, got); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
	for _, path := range []string{"/oauth2/api/.well-known/openid-configuration", "/oauth2/partners/.well-known/openid-configuration"} {
		resp, err := s.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestLoadSeedErrors(t *testing.T) {
	for _, tc := range []struct{ name, seed, want string }{
		{"not json", `{`, "unexpected EOF"},
		{"empty", ` `, "the file is empty"},
		{"two json values", `{} {}`, "unexpected data after"},
		{"unknown field", `{"people":[]}`, `unknown field "people"`},
		{"unknown yaml field", "people: []\n", `field people not found`},
		{"unknown nested yaml field", "users:\n  - login: a@example.com\n    nick: a\n", `field nick not found`},
		{"two yaml documents", "users: []\n---\nusers: []\n", "one YAML document"},
		{"bad yaml", "users: [\n", "did not find expected"},
		{"unknown member", `{"groups":[{"name":"g","members":["x@example.com"]}]}`, `member "x@example.com" is not a seeded user`},
		{"unknown app", `{"assignments":[{"app":"nope"}]}`, `app "nope" is not a seeded app`},
		{"bad type", `{"apps":[{"label":"a","type":"saml"}]}`, `type must be "oidc" or "scim"`},
		{"bad status", `{"users":[{"login":"a@example.com","status":"GONE"}]}`, `unknown status "GONE"`},
		{"no login", `{"users":[{"firstName":"A"}]}`, `users[0]: login is required`},
		{"group twice", `{"groups":[{"name":"g"},{"name":"G"}]}`, `name "G" appears twice`},
		{"bad kind", `{"apps":[{"label":"a","type":"scim","kind":"saml"}]}`, `kind "saml"`},
		{"kind on oidc", `{"apps":[{"label":"a","type":"oidc","kind":"custom","redirectUris":["http://x/cb"]}]}`, `kind is for scim apps only`},
		{"bad alg", `{"apps":[{"label":"a","type":"oidc","idTokenSignedResponseAlg":"HS256"}]}`, `idTokenSignedResponseAlg "HS256": use RS256 or ES256`},
		{"alg on scim", `{"apps":[{"label":"a","type":"scim","idTokenSignedResponseAlg":"ES256"}]}`, `idTokenSignedResponseAlg is for oidc apps only`},
		{"password on oidc", `{"apps":[{"label":"a","type":"oidc","password":true}]}`, `are for scim apps only`},
		{"bad origin", `{"trustedOrigins":["localhost:3000"]}`, `trustedOrigins[0]: "localhost:3000" is not an origin`},
		{"origin with path", `{"trustedOrigins":["https://app.example.com/login"]}`, `is not an origin`},
		{"bad auth server", `{"authServers":["v1"]}`, `authServers[0]: "v1" is not an authorization server id`},
		{"bad auth server chars", "authServers: [a/b]\n", `"a/b" is not an authorization server id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSeed(strings.NewReader(tc.seed))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mockidp: seed: ") {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadSeedFile(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.HasPrefix(err.Error(), "mockidp: seed: ") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("json by extension", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "seed.json")
		os.WriteFile(path, []byte("users: []\n"), 0o600)
		if _, err := LoadSeedFile(path); err == nil || !strings.Contains(err.Error(), "invalid character") {
			t.Errorf("YAML in a .json file: err = %v, want a JSON syntax error", err)
		}
	})
}
