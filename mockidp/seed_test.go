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

// TestSeedYAMLMergeKeys: YAML merge keys (<<), from one mapping and from
// a list, fill a seed's entries the way the YAML decoder does, and the
// entry's own fields win.
func TestSeedYAMLMergeKeys(t *testing.T) {
	yamlSeed := `
users:
  - &base {login: a@example.com, firstName: A, lastName: Smith, status: ACTIVE}
  - {<<: *base, login: b@example.com, firstName: B}
  - <<: [*base]
    login: c@example.com
`
	jsonSeed := `{"users": [
	  {"login": "a@example.com", "firstName": "A", "lastName": "Smith", "status": "ACTIVE"},
	  {"login": "b@example.com", "firstName": "B", "lastName": "Smith", "status": "ACTIVE"},
	  {"login": "c@example.com", "firstName": "A", "lastName": "Smith", "status": "ACTIVE"}
	]}`
	got, err := LoadSeed(strings.NewReader(yamlSeed))
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadSeed(strings.NewReader(jsonSeed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged YAML (-want +got):\n%s", diff)
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
		{"unknown yaml field", "people: []\n", `unknown field "people"; a seed has users, groups, apps, assignments, trustedOrigins, authServers (line 1)`},
		{"unknown nested yaml field", "users:\n  - login: a@example.com\n    nick: a\n", `users[0]: unknown field "nick"; a user has login, email, firstName`},
		{"field in another case, json", `{"users":[{"login":"a@example.com"},{"login":"b@example.com"},` + "\n" + `{"login":"c@example.com","firstname":"C"}]}`,
			`users[2]: unknown field "firstname" (did you mean "firstName"?) (line 2)`},
		{"field in another case, yaml", "users:\n  - login: a@example.com\n  - login: b@example.com\n  - login: c@example.com\n    firstname: C\n",
			`users[2]: unknown field "firstname" (did you mean "firstName"?) (line 5)`},
		{"misspelt field", "apps:\n  - label: a\n    type: oidc\n    redirectUri: [http://x/cb]\n", `apps[0]: unknown field "redirectUri" (did you mean "redirectUris"?) (line 4)`},
		{"misspelt list", `{"user":[]}`, `unknown field "user" (did you mean "users"?)`},
		{"field twice", `{"users":[{"login":"a@example.com","login":"b@example.com"}]}`, `users[0]: field "login" appears twice`},
		{"json number for text", `{"users":[{"login":7}]}`, `users[0]: "login" must be text (a string), not a number (line 1)`},
		{"one value for a list", "apps:\n  - {label: a, type: oidc, redirectUris: http://x/cb}\n", `apps[0]: "redirectUris" must be a list, not text (write one value as a list of one: [value]) (line 2)`},
		{"text for a switch", `{"apps":[{"label":"a","type":"scim","create":"yes"}]}`, `apps[0]: "create" must be true or false, not text`},
		{"yaml word for a switch", "apps:\n  - {label: a, type: scim, create: maybe}\n", `apps[0]: "create" must be true or false, not text (line 2)`},
		{"object for a list", `{"users":{}}`, `"users" must be a list, not an object`},
		{"list for an entry", `{"users":["a@example.com"]}`, `users[0]: must be an object with the fields login, email`},
		{"not an object", "- a\n", `a seed is an object with the lists users, groups, apps`},
		{"bad access", `{"apps":[{"label":"a","type":"oidc","access":"all","redirectUris":["http://x/cb"]}]}`, `access "all": use "everyone"`},
		{"access on scim", `{"apps":[{"label":"a","type":"scim","access":"everyone"}]}`, `access is for oidc apps only`},
		{"alias loop", "users: &a [*a]\n", `line 1: an alias (*name) refers to a value that contains it`},
		{"merge-key loop", "a: &a {<<: *a}\n", `line 1: an alias (*name) refers to a value that contains it`},
		{"merge-key loop through a list", "users:\n  - &u {login: a@example.com, <<: [*u]}\n", `an alias (*name) refers to a value that contains it`},
		{"merge-key bomb", "a: &a {x: 1, y: 2}\nb: &b {<<: [*a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b]}\nd: &d {<<: [*c, *c, *c, *c]}\ne: &e {<<: [*d, *d, *d, *d]}\nf: &f {<<: [*e, *e, *e, *e]}\ng: &g {<<: [*f, *f, *f, *f]}\nh: &h {<<: [*g, *g, *g, *g]}\ni: &i {<<: [*h, *h, *h, *h]}\nj: &j {<<: [*i, *i, *i, *i]}\nk: &k {<<: [*j, *j, *j, *j]}\nl: {<<: [*k, *k, *k, *k]}\n", `aliases (*name) stand for more than 100000 values`},
		{"alias bomb", "a: &a [1,2,3,4,5,6,7,8,9,10]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", `aliases (*name) stand for more than 100000 values`},
		{"a group named Everyone", `{"groups":[{"name":"everyone"}]}`, `groups[0]: "everyone" is Okta's built-in group`},
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
		{"bad auth method", `{"apps":[{"label":"a","type":"oidc","redirectUris":["http://127.0.0.1:1/cb"],"tokenEndpointAuthMethod":"client_secret_pst"}]}`, `tokenEndpointAuthMethod "client_secret_pst": use client_secret_basic (the default), client_secret_post or none`},
		{"bad grant type", `{"apps":[{"label":"a","type":"oidc","redirectUris":["http://127.0.0.1:1/cb"],"grantTypes":["authorization_code","refresh"]}]}`, `grantTypes: "refresh": use authorization_code, refresh_token or client_credentials`},
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
			for _, goName := range []string{"mockidp.", "json: ", "yaml: ", "!!", "Go struct"} {
				if err != nil && strings.Contains(err.Error(), goName) {
					t.Errorf("err = %v: it shows the decoder's %q", err, goName)
				}
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
