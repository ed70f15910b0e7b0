package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serveInProcess runs `idpkit serve` on db with extra flags until the test
// ends and returns its base URL.
func serveInProcess(t *testing.T, db string, extra ...string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs syncBuffer
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--db", db}, extra...), io.Discard, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, logs.String())
		}
	})
	waitHealthy(t, "http://"+addr)
	return "http://" + addr
}

// scimGet sends an authenticated GET and decodes the JSON answer.
func scimGet(t *testing.T, u, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestSeed loads 2,000 users and two groups into a SQLite tenant, then
// serves it and finds them through the SCIM API.
func TestSeed(t *testing.T) {
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_TENANT", "")
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", "http://127.0.0.1:1")
	if code != 0 {
		t.Fatalf("tenant create exited %d: %s", code, errs)
	}
	var created struct{ Token string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd(t, context.Background(), "seed", "--db", db, "--tenant", "acme", "--users", "2000", "--groups", "2", "--members", "150", "--batch", "700")
	if code != 0 {
		t.Fatalf("seed exited %d:\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.HasPrefix(out, "seeded 2000 users and 2 groups (150 members each) into tenant acme in ") || !regexp.MustCompile(`\(users [0-9.mµs]+, [0-9]+ users/s\)\n$`).MatchString(out) {
		t.Errorf("seed's final line is %q", out)
	}
	if !strings.Contains(errs, "seed: 2000/2000 users, ") || !strings.Contains(errs, "users/s") {
		t.Errorf("seed's progress on stderr does not end at 2000/2000 users with a rate:\n%s", errs)
	}

	base := serveInProcess(t, db) + "/t/acme/scim/v2"
	list := func(typ, filter string) (float64, []any) {
		t.Helper()
		status, body := scimGet(t, base+"/"+typ+"?filter="+url.QueryEscape(filter), created.Token)
		if status != http.StatusOK {
			t.Fatalf("GET /%s?filter=%s: %d %v", typ, filter, status, body)
		}
		n, _ := body["totalResults"].(float64)
		rs, _ := body["Resources"].([]any)
		return n, rs
	}
	tests := []struct {
		name, typ, filter string
		want              float64
	}{
		{"every user", "Users", "userName pr", 2000},
		{"one by userName", "Users", `userName eq "user0001234@example.com"`, 1},
		{"by email, another case", "Users", `emails.value eq "USER0002000@example.com"`, 1},
		{"by externalId", "Users", `externalId eq "00u00000000000000042"`, 1},
		{"a range of userNames", "Users", `userName sw "user00019"`, 100},
		{"past the last", "Users", `userName eq "user0002001@example.com"`, 0},
		{"both groups", "Groups", `displayName sw "group"`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, _ := list(tt.typ, tt.filter); n != tt.want {
				t.Errorf("totalResults %v, want %v", n, tt.want)
			}
		})
	}
	_, rs := list("Users", `userName eq "user0000007@example.com"`)
	if len(rs) != 1 {
		t.Fatalf("user 7: %v", rs)
	}
	u := rs[0].(map[string]any)
	got := map[string]any{"name": u["name"], "active": u["active"], "emails": u["emails"], "externalId": u["externalId"], "groups": len(asSlice(u["groups"]))}
	want := map[string]any{
		"name":       map[string]any{"givenName": "User", "familyName": "0000007"},
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "value": "user0000007@example.com", "type": "work"}},
		"externalId": "00u00000000000000007",
		"groups":     2,
	}
	if diff := cmp.Diff(want, got, cmpIgnoreFormatted); diff != "" {
		t.Errorf("user 7 (-want +got):\n%s", diff)
	}
	_, gs := list("Groups", `displayName eq "group0002"`)
	if len(gs) != 1 {
		t.Fatalf("group0002: %v", gs)
	}
	if n := len(asSlice(gs[0].(map[string]any)["members"])); n != 150 {
		t.Errorf("group0002 has %d members, want 150", n)
	}
	if n, _ := list("Users", `groups.value pr`); n != 150 {
		t.Errorf("users in a group: %v, want 150", n)
	}
}

// cmpIgnoreFormatted leaves out name.formatted, which the server may add.
var cmpIgnoreFormatted = cmp.FilterPath(func(p cmp.Path) bool {
	return strings.HasSuffix(p.GoString(), `["formatted"]`)
}, cmp.Ignore())

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestSeedErrors(t *testing.T) {
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_TENANT", "")
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", "http://127.0.0.1:1"); code != 0 {
		t.Fatalf("tenant create: %s", errs)
	}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"no tenant", nil, []string{"--db", db, "--users", "1"}, 2, "seed needs --tenant"},
		{"no users", nil, []string{"--db", db, "--tenant", "acme"}, 2, "--users must be at least 1"},
		{"more members than users", nil, []string{"--db", db, "--tenant", "acme", "--users", "3", "--groups", "1", "--members", "4"}, 2, "--members must be between 0 and --users (3), got 4"},
		{"negative groups", nil, []string{"--db", db, "--tenant", "acme", "--users", "3", "--groups", "-1"}, 2, "--groups must not be negative, got -1"},
		{"members without groups", nil, []string{"--db", db, "--tenant", "acme", "--users", "3", "--members", "2"}, 2, "--members needs --groups"},
		{"zero batch", nil, []string{"--db", db, "--tenant", "acme", "--users", "3", "--batch", "0"}, 2, "--batch must be at least 1"},
		{"unknown tenant", nil, []string{"--db", db, "--tenant", "nope", "--users", "3"}, 1, `seed: no tenant "nope" in ` + db + "; create it first with idpkit tenant create nope"},
		{"from the environment", map[string]string{"IDPKIT_DB": db, "IDPKIT_TENANT": "acme"}, []string{"--users", "3"}, 0, "seed: 3/3 users"},
		{"the same users again", map[string]string{"IDPKIT_DB": db, "IDPKIT_TENANT": "acme"}, []string{"--users", "3"}, 1, "0 users and 0 groups were written before the failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errs := runCmd(t, context.Background(), append([]string{"seed"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d (want %d); stderr want %q:\n%s\nstdout:\n%s", code, tt.code, tt.stderr, errs, out)
			}
		})
	}
}

// TestServeStorePasswordHashes: a pushed password leaves no trace in the
// database unless --store-password-hashes (or its variable) is given, and
// then only as a PBKDF2 hash.
func TestServeStorePasswordHashes(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want bool // a hash is stored
	}{
		{"default drops it", "", nil, false},
		{"flag keeps a hash", "", []string{"--store-password-hashes"}, true},
		{"variable keeps a hash", "true", nil, true},
		{"flag wins over the variable", "true", []string{"--store-password-hashes=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range serveVars() {
				t.Setenv(k, "")
			}
			t.Setenv("IDPKIT_STORE_PASSWORD_HASHES", tt.env)
			path := filepath.Join(t.TempDir(), "idpkit.db")
			db := "sqlite:" + path
			code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", "http://127.0.0.1:1")
			if code != 0 {
				t.Fatalf("tenant create: %s", errs)
			}
			var created struct{ Token string }
			json.Unmarshal([]byte(out), &created)
			{
				// The database is read while serve runs: a committed
				// write is in the file or its write-ahead log.
				base := serveInProcess(t, db, tt.args...)
				body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"pw@example.com","password":"Pl41n-text-s3cret!","active":true}`
				req, _ := http.NewRequest("POST", base+"/t/acme/scim/v2/Users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+created.Token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("POST a user with a password: %d", resp.StatusCode)
				}
			}
			var raw []byte
			for _, p := range []string{path, path + "-wal"} {
				b, _ := os.ReadFile(p)
				raw = append(raw, b...)
			}
			if bytes.Contains(raw, []byte("Pl41n-text-s3cret!")) {
				t.Fatal("the password is stored in clear")
			}
			if got := bytes.Contains(raw, []byte("pbkdf2-sha256$")); got != tt.want {
				t.Errorf("a PBKDF2 hash in the database: %v, want %v", got, tt.want)
			}
		})
	}
}
