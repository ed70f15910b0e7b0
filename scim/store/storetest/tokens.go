package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// soon is an expiry the store's clock is an hour away from either way.
func soon() time.Time { return time.Now().UTC().Add(time.Hour).Truncate(time.Millisecond) }
func past() time.Time { return time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond) }

func mustPut(t *testing.T, s store.Store, tok store.Token) {
	t.Helper()
	if err := s.PutToken(ctxOf(t), tok); err != nil {
		t.Fatalf("PutToken(%s, %s): %v", tok.Kind, tok.Key, err)
	}
}

var tokenTests = []test{
	{"PutGet", func(t *testing.T, s store.Store) {
		want := store.Token{Kind: "session", Key: "k1", Tenant: "acme", Value: []byte{0, 1, 2, 0xff}, Expires: soon()}
		mustPut(t, s, want)
		got, err := s.GetToken(ctxOf(t), "session", "k1")
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("GetToken (-want +got):\n%s", diff)
		}
		checkUTC(t, "GetToken", got.Expires)
		// Get does not consume.
		if _, err := s.GetToken(ctxOf(t), "session", "k1"); err != nil {
			t.Errorf("second GetToken: %v", err)
		}
	}},
	{"NotFound", func(t *testing.T, s store.Store) {
		mustPut(t, s, store.Token{Kind: "session", Key: "k1", Expires: soon()})
		for _, c := range []struct{ name, kind, key string }{
			{"unknown key", "session", "k2"},
			{"other kind", "login-state", "k1"},
			{"key in other case", "session", "K1"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.GetToken(ctxOf(t), c.kind, c.key)
				wantErr(t, "GetToken", err, store.ErrNotFound)
				_, err = s.TakeToken(ctxOf(t), c.kind, c.key)
				wantErr(t, "TakeToken", err, store.ErrNotFound)
			})
		}
	}},
	{"PutReplaces", func(t *testing.T, s store.Store) {
		mustPut(t, s, store.Token{Kind: "session", Key: "k1", Tenant: "a", Value: []byte("old"), Expires: soon()})
		want := store.Token{Kind: "session", Key: "k1", Tenant: "b", Value: []byte("new"), Expires: soon().Add(time.Minute)}
		mustPut(t, s, want)
		got, err := s.GetToken(ctxOf(t), "session", "k1")
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("GetToken after replace (-want +got):\n%s", diff)
		}
	}},
	{"KindsAreNamespaces", func(t *testing.T, s store.Store) {
		a := store.Token{Kind: "admin-link", Key: "same", Value: []byte("a"), Expires: soon()}
		b := store.Token{Kind: "session", Key: "same", Value: []byte("b"), Expires: soon()}
		mustPut(t, s, a)
		mustPut(t, s, b)
		got, err := s.TakeToken(ctxOf(t), "admin-link", "same")
		if err != nil {
			t.Fatalf("TakeToken: %v", err)
		}
		if diff := cmp.Diff(a, got, opts); diff != "" {
			t.Errorf("TakeToken (-want +got):\n%s", diff)
		}
		got, err = s.GetToken(ctxOf(t), "session", "same")
		if err != nil {
			t.Fatalf("GetToken of the other kind after Take: %v", err)
		}
		if diff := cmp.Diff(b, got, opts); diff != "" {
			t.Errorf("GetToken (-want +got):\n%s", diff)
		}
	}},
	{"Take", func(t *testing.T, s store.Store) {
		want := store.Token{Kind: "admin-link", Key: "k1", Tenant: "acme", Value: []byte("v"), Expires: soon()}
		mustPut(t, s, want)
		got, err := s.TakeToken(ctxOf(t), "admin-link", "k1")
		if err != nil {
			t.Fatalf("TakeToken: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("TakeToken (-want +got):\n%s", diff)
		}
		_, err = s.TakeToken(ctxOf(t), "admin-link", "k1")
		wantErr(t, "second TakeToken", err, store.ErrNotFound)
		_, err = s.GetToken(ctxOf(t), "admin-link", "k1")
		wantErr(t, "GetToken after TakeToken", err, store.ErrNotFound)
	}},
	{"Delete", func(t *testing.T, s store.Store) {
		mustPut(t, s, store.Token{Kind: "session", Key: "k1", Expires: soon()})
		if err := s.DeleteToken(ctxOf(t), "session", "k1"); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
		_, err := s.GetToken(ctxOf(t), "session", "k1")
		wantErr(t, "GetToken after DeleteToken", err, store.ErrNotFound)
		if err := s.DeleteToken(ctxOf(t), "session", "k1"); err != nil {
			t.Errorf("DeleteToken of an absent token: %v, want nil", err)
		}
		if err := s.DeleteToken(ctxOf(t), "never", "there"); err != nil {
			t.Errorf("DeleteToken of a never-stored token: %v, want nil", err)
		}
	}},
	{"Expired", func(t *testing.T, s store.Store) {
		mustPut(t, s, store.Token{Kind: "session", Key: "old", Expires: past()})
		mustPut(t, s, store.Token{Kind: "session", Key: "new", Expires: soon()})
		_, err := s.GetToken(ctxOf(t), "session", "old")
		wantErr(t, "GetToken of an expired token", err, store.ErrNotFound)
		_, err = s.TakeToken(ctxOf(t), "session", "old")
		wantErr(t, "TakeToken of an expired token", err, store.ErrNotFound)
		if _, err := s.GetToken(ctxOf(t), "session", "new"); err != nil {
			t.Errorf("GetToken of a live token: %v", err)
		}
		// Replacing an expired token revives it.
		mustPut(t, s, store.Token{Kind: "session", Key: "old", Expires: soon()})
		if _, err := s.TakeToken(ctxOf(t), "session", "old"); err != nil {
			t.Errorf("TakeToken of a renewed token: %v", err)
		}
	}},
}
