package sealed_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// key returns a fixed test key filled with b.
func key(b byte) []byte { return bytes.Repeat([]byte{b}, sealed.KeySize) }

// keys returns Keys sealing with primary and opening older too.
func keys(t *testing.T, primary []byte, older ...[]byte) *sealed.Keys {
	t.Helper()
	k, err := sealed.NewKeys(primary, older...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// backend is a database the tests run on: its DSN, and the driver and
// source database/sql reads its raw rows with.
type backend struct {
	name           string
	dsn            string
	driver, source string
}

// backends returns a fresh SQLite file and a fresh PostgreSQL schema
// (pgtest: outside CI an unreachable server skips that one).
func backends(t *testing.T) []func(t *testing.T) backend {
	return []func(t *testing.T) backend{
		func(t *testing.T) backend {
			path := filepath.Join(t.TempDir(), "idpkit.db")
			driver := "sqlite"
			if !slices.Contains(sql.Drivers(), driver) {
				driver = "sqlite3"
			}
			return backend{name: "sqlite", dsn: "sqlite:" + path, driver: driver, source: path}
		},
		func(t *testing.T) backend {
			dsn := pgtest.Schema(t, "idpkit_sealed_", true)
			return backend{name: "postgres", dsn: dsn, driver: "pgx", source: dsn}
		},
	}
}

// open opens the backend's store and closes it when the test ends.
func (b backend) open(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), b.dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rawSecret reads a tenant's client_secret column with database/sql,
// past every Go type of idpkit.
func (b backend) rawSecret(t *testing.T, tenant string) string {
	t.Helper()
	db, err := sql.Open(b.driver, b.source)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `SELECT client_secret FROM tenants WHERE name = $1`
	var v string
	if err := db.QueryRow(q, tenant).Scan(&v); err != nil {
		t.Fatalf("read raw row of %q: %v", tenant, err)
	}
	return v
}

// rawRow reads the whole tenants row as text, to look for the clear secret
// in any column.
func (b backend) rawRow(t *testing.T, tenant string) string {
	t.Helper()
	db, err := sql.Open(b.driver, b.source)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT * FROM tenants WHERE name = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var sb strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				sb.Write(v)
			case string:
				sb.WriteString(v)
			}
			sb.WriteByte('|')
		}
	}
	return sb.String()
}

func TestRoundTrip(t *testing.T) {
	for _, mk := range backends(t) {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			k := keys(t, key(1))
			st := sealed.New(b.open(t), k)
			tests := []struct{ name, secret string }{
				{"plain", "s3cr3t-client-secret"},
				{"unicode", "clé secrète ✓"},
				{"long", strings.Repeat("x", 4096)},
				{"empty", ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					name := "t-" + tt.name
					if err := st.CreateTenant(ctx, store.Tenant{Name: name, TokenHash: []byte{1}, ClientID: "0oa1", ClientSecret: tt.secret}); err != nil {
						t.Fatal(err)
					}
					got, err := st.GetTenant(ctx, name)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.secret, got.ClientSecret); diff != "" {
						t.Errorf("GetTenant ClientSecret (-want +got):\n%s", diff)
					}
					raw := b.rawSecret(t, name)
					if tt.secret == "" {
						if raw != "" {
							t.Errorf("raw = %q, want an empty secret to stay empty", raw)
						}
						return
					}
					if want := sealed.Prefix + k.ID() + ":"; !strings.HasPrefix(raw, want) {
						t.Errorf("raw = %q, want prefix %q", raw, want)
					}
					if row := b.rawRow(t, name); strings.Contains(row, tt.secret) {
						t.Errorf("the raw row holds the clear secret: %q", row)
					}
					// An update through the store keeps the secret sealed and
					// hands the callback the clear value.
					var seen string
					up, err := st.UpdateTenant(ctx, name, func(t *store.Tenant) error {
						seen = t.ClientSecret
						t.ClientID = "0oa2"
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff([]string{tt.secret, tt.secret, "0oa2"}, []string{seen, up.ClientSecret, up.ClientID}); diff != "" {
						t.Errorf("UpdateTenant (-want +got):\n%s", diff)
					}
					if row := b.rawRow(t, name); strings.Contains(row, tt.secret) {
						t.Errorf("after update the raw row holds the clear secret: %q", row)
					}
				})
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	k1 := keys(t, key(1))
	good, err := k1.Seal("s3cr3t", "acme")
	if err != nil {
		t.Fatal(err)
	}
	id, body, _ := strings.Cut(strings.TrimPrefix(good, sealed.Prefix), ":")
	rawBody, _ := base64.RawStdEncoding.DecodeString(body)
	rawBody[len(rawBody)-1] ^= 1
	tampered := sealed.Prefix + id + ":" + base64.RawStdEncoding.EncodeToString(rawBody)
	tests := []struct {
		name  string
		keys  *sealed.Keys
		value string
		aad   string
		want  error
	}{
		{"no key", nil, good, "acme", sealed.ErrNoKey},
		{"wrong key", keys(t, key(2)), good, "acme", sealed.ErrUnknownKey},
		{"other tenant", k1, good, "globex", sealed.ErrDecrypt},
		{"tampered", k1, tampered, "acme", sealed.ErrDecrypt},
		{"no key id", k1, sealed.Prefix + "abc", "acme", sealed.ErrMalformed},
		{"not base64", k1, sealed.Prefix + id + ":!!!", "acme", sealed.ErrMalformed},
		{"too short", k1, sealed.Prefix + id + ":AAAA", "acme", sealed.ErrMalformed},
		{"empty body", k1, sealed.Prefix + id + ":", "acme", sealed.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.Open(tt.value, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tt.want)
			}
			if got != "" {
				t.Errorf("Open returned %q with an error", got)
			}
		})
	}
	t.Run("clear passes", func(t *testing.T) {
		got, err := (*sealed.Keys)(nil).Open("clear", "acme")
		if diff := cmp.Diff("clear", got); diff != "" || err != nil {
			t.Errorf("Open(clear) = %v (-want +got):\n%s", err, diff)
		}
	})
}

// TestStoreErrors: a value moved to another tenant's row, or read with the
// wrong key or none, never reads as a wrong value or panics: the tenant
// comes back with an empty ClientSecret and the error in ClientSecretErr
// (its SCIM service needs no secret), an update that leaves the secret
// alone writes the stored value back untouched, and Check and Rotate
// report the error.
func TestStoreErrors(t *testing.T) {
	ctx := context.Background()
	b := backends(t)[0](t)
	inner := b.open(t)
	k1 := keys(t, key(1))
	st := sealed.New(inner, k1)
	for _, n := range []string{"acme", "globex"} {
		if err := st.CreateTenant(ctx, store.Tenant{Name: n, TokenHash: []byte{1}, ClientSecret: "secret-of-" + n}); err != nil {
			t.Fatal(err)
		}
	}
	// Copy acme's sealed value into globex's row, past the decorator.
	moved := b.rawSecret(t, "acme")
	if _, err := inner.UpdateTenant(ctx, "globex", func(t *store.Tenant) error { t.ClientSecret = moved; return nil }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		st     *sealed.Store
		tenant string
		want   error
	}{
		{"moved", st, "globex", sealed.ErrDecrypt},
		{"wrong key", sealed.New(inner, keys(t, key(2))), "acme", sealed.ErrUnknownKey},
		{"no key", sealed.New(inner, nil), "acme", sealed.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := b.rawSecret(t, tt.tenant)
			got, err := tt.st.GetTenant(ctx, tt.tenant)
			if err != nil || got.ClientSecret != "" || !errors.Is(got.ClientSecretErr, tt.want) || !strings.Contains(got.ClientSecretErr.Error(), tt.tenant) {
				t.Errorf("GetTenant = %q, %v, ClientSecretErr %v; want no error, no secret and %v naming %q", got.ClientSecret, err, got.ClientSecretErr, tt.want, tt.tenant)
			}
			var seen error
			upd, err := tt.st.UpdateTenant(ctx, tt.tenant, func(tn *store.Tenant) error {
				seen = tn.ClientSecretErr
				tn.AdminGroup = "Admins"
				return nil
			})
			if err != nil || !errors.Is(seen, tt.want) || !errors.Is(upd.ClientSecretErr, tt.want) || upd.AdminGroup != "Admins" {
				t.Errorf("UpdateTenant = %+v, %v (the callback saw %v), want the group saved and %v", upd, err, seen, tt.want)
			}
			if after := b.rawSecret(t, tt.tenant); after != raw {
				t.Errorf("an update that left the secret alone rewrote it: %q, was %q", after, raw)
			}
			if err := tt.st.Check(ctx, []string{"acme", "globex"}); !errors.Is(err, tt.want) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
			// (A value under the primary key is skipped by Rotate, moved or not.)
			if done, err := tt.st.Rotate(ctx, []string{tt.tenant}); tt.name != "moved" && !errors.Is(err, tt.want) || len(done) != 0 {
				t.Errorf("Rotate = %q, %v, want none, %v", done, err, tt.want)
			}
		})
	}
	t.Run("no key: a new secret over an encrypted one is refused", func(t *testing.T) {
		raw := b.rawSecret(t, "acme")
		_, err := sealed.New(inner, nil).UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.ClientSecret = "typed-in-clear"; return nil })
		if !errors.Is(err, sealed.ErrNoKey) {
			t.Errorf("UpdateTenant = %v, want ErrNoKey", err)
		}
		if after := b.rawSecret(t, "acme"); after != raw {
			t.Errorf("the refused update wrote %q, was %q", after, raw)
		}
	})
	t.Run("wrong key: a new secret replaces the unreadable one", func(t *testing.T) {
		k2 := keys(t, key(2))
		if _, err := sealed.New(inner, k2).UpdateTenant(ctx, "globex", func(tn *store.Tenant) error { tn.ClientSecret = "new-secret"; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := sealed.New(inner, k2).GetTenant(ctx, "globex")
		if err != nil || got.ClientSecret != "new-secret" || got.ClientSecretErr != nil {
			t.Errorf("GetTenant = %q, %v, %v; want the new secret", got.ClientSecret, err, got.ClientSecretErr)
		}
	})
	if _, err := st.GetTenant(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTenant(nobody) = %v, want ErrNotFound", err)
	}
}

// TestClearThenKey: without a key values stay clear; once a key is given,
// clear values still read and are sealed on the next write.
func TestClearThenKey(t *testing.T) {
	ctx := context.Background()
	b := backends(t)[0](t)
	inner := b.open(t)
	if err := sealed.New(inner, nil).CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte{1}, ClientSecret: "clear-secret"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("clear-secret", b.rawSecret(t, "acme")); diff != "" {
		t.Errorf("without a key (-want +got):\n%s", diff)
	}
	st := sealed.New(inner, keys(t, key(1)))
	if err := st.Check(ctx, []string{"acme"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetTenant(ctx, "acme")
	if err != nil || got.ClientSecret != "clear-secret" {
		t.Fatalf("GetTenant = %q, %v", got.ClientSecret, err)
	}
	if _, err := st.UpdateTenant(ctx, "acme", func(*store.Tenant) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if raw := b.rawSecret(t, "acme"); !sealed.IsSealed(raw) || strings.Contains(raw, "clear-secret") {
		t.Errorf("after a write with a key, raw = %q, want it sealed", raw)
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	b := backends(t)[0](t)
	inner := b.open(t)
	old, nw := key(1), key(2)
	names := []string{"a", "b", "c", "clear", "empty"}
	for _, n := range names[:3] {
		if err := sealed.New(inner, keys(t, old)).CreateTenant(ctx, store.Tenant{Name: n, TokenHash: []byte{1}, ClientSecret: "secret-" + n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := inner.CreateTenant(ctx, store.Tenant{Name: "clear", TokenHash: []byte{1}, ClientSecret: "secret-clear"}); err != nil {
		t.Fatal(err)
	}
	if err := inner.CreateTenant(ctx, store.Tenant{Name: "empty", TokenHash: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	// Without the old key, the first sealed tenant stops the rotation.
	if done, err := sealed.New(inner, keys(t, nw)).Rotate(ctx, names); !errors.Is(err, sealed.ErrUnknownKey) || len(done) != 0 {
		t.Errorf("Rotate without the old key = %q, %v; want none, ErrUnknownKey", done, err)
	}
	rot := sealed.New(inner, keys(t, nw, old))
	// Half a rotation, then the whole: the second run finishes the rest.
	if done, err := rot.Rotate(ctx, names[:1]); err != nil || !slices.Equal(done, names[:1]) {
		t.Fatalf("Rotate(a) = %q, %v", done, err)
	}
	if done, err := rot.Rotate(ctx, append(names, "gone")); err != nil || len(done) != 3 || slices.Contains(done, names[0]) {
		t.Fatalf("Rotate(all) = %q, %v; want the 3 others (b, c, clear)", done, err)
	}
	if done, err := rot.Rotate(ctx, names); err != nil || len(done) != 0 {
		t.Fatalf("Rotate again = %q, %v; want none", done, err)
	}
	only := sealed.New(inner, keys(t, nw))
	var got []string
	for _, n := range names {
		tn, err := only.GetTenant(ctx, n)
		if err != nil {
			t.Fatalf("with the new key only: %v", err)
		}
		got = append(got, tn.ClientSecret)
		if raw := b.rawSecret(t, n); n != "empty" && sealed.SealedKeyID(raw) != sealed.KeyID(nw) {
			t.Errorf("%s: raw = %q, want it under key %s", n, raw, sealed.KeyID(nw))
		}
	}
	if diff := cmp.Diff([]string{"secret-a", "secret-b", "secret-c", "secret-clear", ""}, got); diff != "" {
		t.Errorf("secrets after rotation (-want +got):\n%s", diff)
	}
	if tn, err := sealed.New(inner, keys(t, old)).GetTenant(ctx, "a"); err != nil || !errors.Is(tn.ClientSecretErr, sealed.ErrUnknownKey) {
		t.Errorf("old key after rotation = %v, %v, want ClientSecretErr ErrUnknownKey", err, tn.ClientSecretErr)
	}
}

func TestParseKey(t *testing.T) {
	k := key(7)
	tests := []struct {
		name, text string
		want       []byte
		wantErr    string
	}{
		{"std", base64.StdEncoding.EncodeToString(k), k, ""},
		{"with newline", base64.StdEncoding.EncodeToString(k) + "\n", k, ""},
		{"raw url", base64.RawURLEncoding.EncodeToString(k), k, ""},
		{"empty", "  \n", nil, "empty"},
		{"short", base64.StdEncoding.EncodeToString(k[:16]), nil, "16 bytes"},
		{"not base64", "not a key!", nil, "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sealed.ParseKey([]byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "sealed: ") {
					t.Fatalf("ParseKey = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := sealed.NewKeys(k[:31]); err == nil {
		t.Error("NewKeys accepted a 31-byte key")
	}
}

// TestSealNonce: sealing twice gives two different values (a fresh nonce
// each time) that both open.
func TestSealNonce(t *testing.T) {
	k := keys(t, key(3))
	a, _ := k.Seal("x", "acme")
	b, _ := k.Seal("x", "acme")
	if a == b {
		t.Fatalf("two seals are equal: %q", a)
	}
	for _, v := range []string{a, b} {
		if got, err := k.Open(v, "acme"); err != nil || got != "x" {
			t.Errorf("Open(%q) = %q, %v", v, got, err)
		}
	}
}
