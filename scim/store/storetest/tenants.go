package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

func fullTenant(name string) store.Tenant {
	return store.Tenant{
		Name:         name,
		TokenHash:    []byte{0x01, 0x02, 0xfe, 0xff, 0x00, 0x10},
		OktaDomain:   "https://dev-1.okta.com",
		AuthServer:   "default",
		Issuer:       "https://dev-1.okta.com/oauth2/default",
		ClientID:     "0oa1client",
		ClientSecret: "s3cr3t",
		Created:      at(0),
		Modified:     at(1500 * time.Millisecond),
	}
}

var tenantTests = []test{
	{"CreateGet", func(t *testing.T, s store.Store) {
		want := fullTenant("acme")
		mustCreateTenant(t, s, want)
		got, err := s.GetTenant(ctxOf(t), "acme")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("GetTenant (-want +got):\n%s", diff)
		}
		checkUTC(t, "GetTenant", got.Created, got.Modified)
	}},
	{"CreateSetsTimes", func(t *testing.T, s store.Store) {
		mustCreateTenant(t, s, store.Tenant{Name: "bare", TokenHash: []byte{1}})
		got, err := s.GetTenant(ctxOf(t), "bare")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		checkUTC(t, "store-set times", got.Created, got.Modified)
		want := store.Tenant{Name: "bare", TokenHash: []byte{1}, Created: got.Created, Modified: got.Modified}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("GetTenant (-want +got):\n%s", diff)
		}
	}},
	{"CreateExists", func(t *testing.T, s store.Store) {
		want := fullTenant("acme")
		mustCreateTenant(t, s, want)
		dup := fullTenant("acme")
		dup.ClientID = "other"
		wantErr(t, "second CreateTenant", s.CreateTenant(ctxOf(t), dup), store.ErrExists)
		got, err := s.GetTenant(ctxOf(t), "acme")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("tenant changed by the failed create (-want +got):\n%s", diff)
		}
	}},
	{"NotFound", func(t *testing.T, s store.Store) {
		mustCreateTenant(t, s, fullTenant("acme"))
		_, err := s.GetTenant(ctxOf(t), "nope")
		wantErr(t, "GetTenant", err, store.ErrNotFound)
		_, err = s.GetTenant(ctxOf(t), "ACME")
		wantErr(t, "GetTenant with other case", err, store.ErrNotFound)
		called := false
		_, err = s.UpdateTenant(ctxOf(t), "nope", func(*store.Tenant) error { called = true; return nil })
		wantErr(t, "UpdateTenant", err, store.ErrNotFound)
		if called {
			t.Error("UpdateTenant called update for an absent tenant")
		}
	}},
	{"Update", func(t *testing.T, s store.Store) {
		old := fullTenant("acme")
		mustCreateTenant(t, s, old)
		got, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error {
			if diff := cmp.Diff(old, *tn, opts); diff != "" {
				t.Errorf("update saw (-want +got):\n%s", diff)
			}
			tn.ClientID = "0oa2client"
			tn.ClientSecret = ""
			tn.TokenHash = []byte{9, 9, 9}
			tn.Modified = at(time.Minute)
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		want := old
		want.ClientID, want.ClientSecret, want.TokenHash, want.Modified = "0oa2client", "", []byte{9, 9, 9}, at(time.Minute)
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("UpdateTenant returned (-want +got):\n%s", diff)
		}
		stored, err := s.GetTenant(ctxOf(t), "acme")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if diff := cmp.Diff(want, stored, opts); diff != "" {
			t.Errorf("GetTenant after update (-want +got):\n%s", diff)
		}
	}},
	{"UpdateTimes", func(t *testing.T, s store.Store) {
		old := fullTenant("acme")
		mustCreateTenant(t, s, old)
		got, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error { tn.Issuer = "x"; return nil })
		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		if !got.Modified.Equal(old.Modified) {
			t.Errorf("Modified = %v, want %v kept as the update left it", got.Modified, old.Modified)
		}
		got, err = s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error {
			tn.Created, tn.Modified = time.Time{}, time.Time{}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		if got.Modified.Equal(old.Modified) {
			t.Errorf("Modified = %v, unchanged; an update that zeroes it gets the store's time", got.Modified)
		}
		checkUTC(t, "UpdateTenant", got.Created, got.Modified)
		if !got.Created.Equal(old.Created) {
			t.Errorf("Created = %v, want %v", got.Created, old.Created)
		}
	}},
	{"UpdateAbort", func(t *testing.T, s store.Store) {
		want := fullTenant("acme")
		mustCreateTenant(t, s, want)
		_, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error {
			tn.ClientID = "changed"
			tn.TokenHash[0] = 0x77 // even an in-place change must not leak
			return errBoom
		})
		wantErr(t, "UpdateTenant", err, errBoom)
		got, err := s.GetTenant(ctxOf(t), "acme")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("aborted update changed the tenant (-want +got):\n%s", diff)
		}
	}},
	{"UpdateCannotRename", func(t *testing.T, s store.Store) {
		want := fullTenant("acme")
		mustCreateTenant(t, s, want)
		_, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error { tn.Name = "other"; return nil })
		if err == nil {
			t.Error("UpdateTenant renaming the tenant succeeded, want an error")
		}
		got, err := s.GetTenant(ctxOf(t), "acme")
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("refused rename changed the tenant (-want +got):\n%s", diff)
		}
		_, err = s.GetTenant(ctxOf(t), "other")
		wantErr(t, "GetTenant(other)", err, store.ErrNotFound)
	}},
	{"PrevToken", func(t *testing.T, s store.Store) {
		// A rotation with a grace period keeps the previous token's hash
		// and its end; the next one replaces or clears both.
		created := fullTenant("acme")
		created.PrevTokenHash = []byte{0xaa, 0x00, 0xbb}
		created.PrevTokenExpires = at(10*time.Minute + 1500*time.Microsecond)
		mustCreateTenant(t, s, created)
		mustCreateTenant(t, s, fullTenant("bare"))
		for _, c := range []struct {
			name   string
			update func(*store.Tenant)
			want   func(*store.Tenant)
		}{
			{"created", nil, func(*store.Tenant) {}},
			{"rotate again", func(tn *store.Tenant) {
				tn.PrevTokenHash, tn.TokenHash = tn.TokenHash, []byte{7, 7}
				tn.PrevTokenExpires = at(time.Hour)
			}, func(w *store.Tenant) {
				w.PrevTokenHash, w.TokenHash, w.PrevTokenExpires = created.TokenHash, []byte{7, 7}, at(time.Hour)
			}},
			{"other fields keep it", func(tn *store.Tenant) { tn.Issuer = "i2" }, func(w *store.Tenant) {
				w.PrevTokenHash, w.TokenHash, w.PrevTokenExpires, w.Issuer = created.TokenHash, []byte{7, 7}, at(time.Hour), "i2"
			}},
			{"aborted in-place change", func(tn *store.Tenant) { tn.PrevTokenHash[0] = 0x55 }, nil},
			{"revoke", func(tn *store.Tenant) { tn.PrevTokenHash, tn.PrevTokenExpires = nil, time.Time{} }, func(w *store.Tenant) {
				w.PrevTokenHash, w.TokenHash, w.PrevTokenExpires, w.Issuer = nil, []byte{7, 7}, time.Time{}, "i2"
			}},
		} {
			want := created
			if c.want == nil { // the abort: the previous step's result stands
				want.PrevTokenHash, want.TokenHash, want.PrevTokenExpires, want.Issuer = created.TokenHash, []byte{7, 7}, at(time.Hour), "i2"
			} else {
				c.want(&want)
			}
			if c.update != nil {
				_, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error {
					c.update(tn)
					if c.want == nil {
						return errBoom
					}
					return nil
				})
				if c.want == nil {
					wantErr(t, c.name, err, errBoom)
				} else if err != nil {
					t.Fatalf("%s: UpdateTenant: %v", c.name, err)
				}
			}
			got, err := s.GetTenant(ctxOf(t), "acme")
			if err != nil {
				t.Fatalf("%s: GetTenant: %v", c.name, err)
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("%s: GetTenant (-want +got):\n%s", c.name, diff)
			}
			if !got.PrevTokenExpires.IsZero() {
				checkUTC(t, c.name, got.PrevTokenExpires)
			}
		}
		bare, err := s.GetTenant(ctxOf(t), "bare")
		if err != nil {
			t.Fatalf("GetTenant(bare): %v", err)
		}
		if len(bare.PrevTokenHash) != 0 || !bare.PrevTokenExpires.IsZero() {
			t.Errorf("a tenant created without a previous token has one: %x until %v", bare.PrevTokenHash, bare.PrevTokenExpires)
		}
	}},
	{"AdminGroup", func(t *testing.T, s store.Store) {
		// The admin group is stored on create, kept by other updates,
		// changed and cleared ("" is none).
		created := fullTenant("acme")
		created.AdminGroup = "Idpkit Admins"
		mustCreateTenant(t, s, created)
		mustCreateTenant(t, s, fullTenant("bare"))
		for _, c := range []struct {
			name   string
			update func(*store.Tenant)
			want   string
		}{
			{"created", nil, "Idpkit Admins"},
			{"other fields keep it", func(tn *store.Tenant) { tn.Issuer = "i2" }, "Idpkit Admins"},
			{"changed", func(tn *store.Tenant) { tn.AdminGroup = "Ops é" }, "Ops é"},
			{"cleared", func(tn *store.Tenant) { tn.AdminGroup = "" }, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.update != nil {
					if _, err := s.UpdateTenant(ctxOf(t), "acme", func(tn *store.Tenant) error { c.update(tn); return nil }); err != nil {
						t.Fatalf("UpdateTenant: %v", err)
					}
				}
				got, err := s.GetTenant(ctxOf(t), "acme")
				if err != nil {
					t.Fatalf("GetTenant: %v", err)
				}
				if diff := cmp.Diff(c.want, got.AdminGroup); diff != "" {
					t.Errorf("AdminGroup (-want +got):\n%s", diff)
				}
			})
		}
		bare, err := s.GetTenant(ctxOf(t), "bare")
		if err != nil {
			t.Fatalf("GetTenant(bare): %v", err)
		}
		if bare.AdminGroup != "" {
			t.Errorf("a tenant created without an admin group has %q", bare.AdminGroup)
		}
	}},
}
