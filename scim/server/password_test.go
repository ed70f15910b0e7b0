package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// storedPassword returns the "password" kept in a stored resource.
func storedPassword(t *testing.T, f *fixture, typ, id string) (string, bool) {
	t.Helper()
	pw, ok := f.stored(t, typ, id)["password"].(string)
	return pw, ok
}

// TestPasswordStoredAsHash: with KeepPasswordHashes the password is kept
// as a PBKDF2 hash and never shown.
func TestPasswordStoredAsHash(t *testing.T) {
	f := newFixtureWith(t, Config{KeepPasswordHashes: true})
	r := f.call(t, "POST", "/Users", `{"userName":"pw@example.com","password":"Tr0ub4dor&3"}`, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %s", r.raw)
	}
	id := r.body["id"].(string)
	stored, _ := storedPassword(t, f, store.TypeUser, id)
	got := map[string]any{
		"format":    strings.HasPrefix(stored, "pbkdf2-sha256$"+strconv.Itoa(secret.PasswordIterations)+"$"),
		"verifies":  secret.VerifyPassword(stored, "Tr0ub4dor&3"),
		"plaintext": strings.Contains(stored, "Tr0ub4dor"),
	}
	if diff := cmp.Diff(map[string]any{"format": true, "verifies": true, "plaintext": false}, got); diff != "" {
		t.Errorf("stored %q (-want +got):\n%s", stored, diff)
	}
	if strings.Contains(r.raw, "password") || strings.Contains(r.raw, "pbkdf2") {
		t.Errorf("POST response shows the password: %s", r.raw)
	}
	reads := []struct{ name, method, path, body string }{
		{"GET", "GET", "/Users/" + id, ""},
		{"GET attributes=password", "GET", "/Users/" + id + "?attributes=password,userName", ""},
		{"GET excludedAttributes", "GET", "/Users/" + id + "?excludedAttributes=emails", ""},
		{"list", "GET", "/Users", ""},
		{"list attributes=password", "GET", "/Users?attributes=password", ""},
		{"search attributes", "POST", "/Users/.search", `{"attributes":["password","userName"]}`},
		{"root search", "POST", "/.search", `{"attributes":["password"]}`},
		{"PATCH response", "PATCH", "/Users/" + id + "?attributes=password", `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`},
		{"PUT response", "PUT", "/Users/" + id, `{"userName":"pw@example.com","title":"y"}`},
	}
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			r := f.call(t, rd.method, rd.path, rd.body, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if strings.Contains(r.raw, `"password"`) || strings.Contains(r.raw, "pbkdf2") {
				t.Errorf("response shows the password: %s", r.raw)
			}
		})
	}
}

func TestPasswordNotQueryable(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "pwq@example.com")
	tests := []struct {
		name, method, path, body, scimType string
	}{
		{"filter eq", "GET", "/Users?filter=" + escapeQuery(`password eq "S3cret!"`), "", "invalidFilter"},
		{"filter pr", "GET", "/Users?filter=password%20pr", "", "invalidFilter"},
		{"filter qualified", "GET", "/Users?filter=" + escapeQuery(`urn:ietf:params:scim:schemas:core:2.0:User:password sw "S"`), "", "invalidFilter"},
		{"filter inside or", "GET", "/Users?filter=" + escapeQuery(`userName pr or not (PASSWORD pr)`), "", "invalidFilter"},
		{"search filter", "POST", "/Users/.search", `{"filter":"password co \"3\""}`, "invalidFilter"},
		{"root search filter", "POST", "/.search", `{"filter":"password pr"}`, "invalidFilter"},
		{"sortBy", "GET", "/Users?sortBy=password", "", "invalidValue"},
		{"search sortBy", "POST", "/Users/.search", `{"sortBy":"Password"}`, "invalidValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(scimError(400, tt.scimType), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// TestPasswordChanges: with KeepPasswordHashes, password is writeOnly:
// PUT without it keeps it; PUT or PATCH with one hashes the new one;
// PATCH remove clears it.
func TestPasswordChanges(t *testing.T) {
	f := newFixtureWith(t, Config{KeepPasswordHashes: true})
	id := f.createUser(t, "pwc@example.com") // password S3cret!
	first, _ := storedPassword(t, f, store.TypeUser, id)
	steps := []struct {
		name, method, body string
		verifies           string // the password the stored hash must verify; "" for none stored
		same               bool   // the stored hash must be unchanged
	}{
		{"PUT without password keeps it", "PUT", `{"userName":"pwc@example.com","title":"a"}`, "S3cret!", true},
		{"PATCH of another attribute keeps it", "PATCH", `{"Operations":[{"op":"replace","path":"title","value":"b"}]}`, "S3cret!", true},
		{"PUT with a password hashes it", "PUT", `{"userName":"pwc@example.com","password":"n3w-one"}`, "n3w-one", false},
		{"PUT with an empty password keeps it", "PUT", `{"userName":"pwc@example.com","password":""}`, "n3w-one", true},
		{"PATCH replace with a path", "PATCH", `{"Operations":[{"op":"replace","path":"password","value":"p4tched"}]}`, "p4tched", false},
		{"PATCH replace without a path", "PATCH", `{"Operations":[{"op":"Replace","value":{"password":"p4th-less","title":"c"}}]}`, "p4th-less", false},
		{"PATCH add", "PATCH", `{"Operations":[{"op":"add","path":"password","value":"add3d"}]}`, "add3d", false},
		{"PATCH remove clears it", "PATCH", `{"Operations":[{"op":"remove","path":"password"}]}`, "", false},
		{"PUT without one when none is stored", "PUT", `{"userName":"pwc@example.com"}`, "", true},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := f.call(t, st.method, "/Users/"+id, st.body, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if _, has := r.body["password"]; has {
				t.Errorf("response shows the password: %s", r.raw)
			}
			got, ok := storedPassword(t, f, store.TypeUser, id)
			if st.verifies == "" {
				if ok {
					t.Errorf("stored password %q, want none", got)
				}
			} else if !secret.VerifyPassword(got, st.verifies) {
				t.Errorf("stored %q does not verify %q", got, st.verifies)
			}
			if diff := cmp.Diff(st.same, got == prev); diff != "" {
				t.Errorf("hash unchanged (-want +got):\n%s", diff)
			}
			prev = got
		})
	}
	t.Run("groups keep no password", func(t *testing.T) {
		g := f.call(t, "POST", "/Groups", `{"displayName":"pw-g","password":"x"}`, nil)
		if _, ok := storedPassword(t, f, store.TypeGroup, g.body["id"].(string)); ok || g.status != http.StatusCreated {
			t.Errorf("group stored a password: %d %s", g.status, g.raw)
		}
	})
	t.Run("a rejected PATCH keeps the old hash", func(t *testing.T) {
		f.call(t, "PATCH", "/Users/"+id, `{"Operations":[{"op":"add","path":"password","value":"kept"}]}`, nil)
		before, _ := storedPassword(t, f, store.TypeUser, id)
		r := f.call(t, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"password","value":"lost"},{"op":"replace","path":"shoeSize","value":1}]}`, nil)
		after, _ := storedPassword(t, f, store.TypeUser, id)
		if r.status != http.StatusBadRequest || after != before {
			t.Errorf("status %d, hash changed %v: %s", r.status, after != before, r.raw)
		}
	})
}

// TestPasswordDropped: by default a pushed password is accepted and
// never stored in any form, on POST, PUT, PATCH, bulk and Import, and the
// write answers as it would with the password kept.
func TestPasswordDropped(t *testing.T) {
	f := newFixture(t)
	id := f.createUser(t, "drop@example.com") // sends password S3cret!
	steps := []struct{ name, method, path, body string }{
		{"PUT", "PUT", "/Users/" + id, `{"userName":"drop@example.com","password":"n3w-one"}`},
		{"PATCH with a path", "PATCH", "/Users/" + id, `{"Operations":[{"op":"replace","path":"password","value":"p4tched"}]}`},
		{"PATCH without a path", "PATCH", "/Users/" + id, `{"Operations":[{"op":"Replace","value":{"password":"p4th-less","title":"c"}}]}`},
		{"bulk POST", "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","bulkId":"b","path":"/Users","data":{"userName":"bulkpw@example.com","password":"bulk-S3cret"}}]}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := f.call(t, st.method, st.path, st.body, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if strings.Contains(r.raw, "password") {
				t.Errorf("response shows the password: %s", r.raw)
			}
		})
	}
	if _, err := f.server.Import(t.Context(), "acme", store.TypeUser, []scim.Resource{{"userName": "imp@example.com", "password": "imp-S3cret"}}); err != nil {
		t.Fatal(err)
	}
	for key, data := range snapshot(t, f.store, "acme") {
		for _, pw := range []string{"password", "S3cret", "n3w-one", "p4t", "pbkdf2"} {
			if strings.Contains(data, pw) {
				t.Errorf("%s stores %q: %s", key, pw, data)
			}
		}
	}
}

// BenchmarkCreateWithPassword measures a POST /Users that carries a
// password, as Okta sends on every create, against one without.
func BenchmarkCreateWithPassword(b *testing.B) {
	f := newFixtureWith(b, Config{KeepPasswordHashes: true})
	c := f.srv.Client()
	n := 0
	for _, bc := range []struct{ name, password string }{{"with password", `,"password":"S3cret!"`}, {"without", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				n++
				body := `{"userName":"bench-` + strconv.Itoa(n) + `@example.com"` + bc.password + `}`
				req, _ := http.NewRequest("POST", f.base("acme")+"/Users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+f.acmeToken)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
