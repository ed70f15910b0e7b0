package server

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// TestActivityKeepsNoSecrets: what the activity log keeps of a request's
// query and error never holds a secret sent in the query string or a
// password compared in a filter; filters stay readable.
func TestActivityKeepsNoSecrets(t *testing.T) {
	const pw = "hunter2-very-secret"
	for _, tc := range []struct {
		name, method, path, body string
		wantPath                 string // "" means: only check that pw is absent
	}{
		{name: "access_token in the query", method: "GET", path: "/Users?access_token=" + pw + "&filter=userName%20eq%20%22alice%40example.com%22",
			wantPath: `/Users?access_token=REDACTED&filter=userName eq "alice@example.com"`},
		{name: "token and password parameters", method: "GET", path: "/Groups?token=" + pw + "&Password=" + pw + "&api-key=" + pw + "&count=2",
			wantPath: "/Groups?token=REDACTED&Password=REDACTED&api-key=REDACTED&count=2"},
		{name: "password in a filter", method: "GET", path: "/Users?filter=password%20eq%20%22" + pw + "%22"},
		{name: "password in a filter with +", method: "GET", path: "/Users?filter=userName+eq+%22a%22+and+password+eq+%22" + pw + "%22"},
		{name: "password in a bad filter", method: "GET", path: "/Users?filter=password%20zz%20%22" + pw + "%22"},
		{name: "password in a filter, bad encoding", method: "GET", path: "/Users?filter=password%20eq%20%22" + pw + "%22%zz"},
		{name: "password in a filter, unquoted", method: "GET", path: "/Users?filter=password%20eq%20" + pw},
		{name: "password in .search-like path", method: "GET", path: "/Users?filter=urn:ietf:params:scim:schemas:core:2.0:User:password%20eq%20%22" + pw + "%22"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, log := activityFixture(t)
			f.callTenant(t, "acme", f.acmeToken, tc.method, tc.path, tc.body, nil)
			got := log.Recent("acme", adminapi.MaxRequests)
			if len(got) != 1 {
				t.Fatalf("recorded %d requests, want 1", len(got))
			}
			if strings.Contains(got[0].Path, pw) || strings.Contains(got[0].Detail, pw) {
				t.Errorf("the activity log keeps the secret: path %q, detail %q", got[0].Path, got[0].Detail)
			}
			if tc.wantPath != "" {
				if diff := cmp.Diff(tc.wantPath, got[0].Path); diff != "" {
					t.Errorf("path (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestConnectedMarkStaleSecret: a request authenticated with the old
// secret that finishes after a rotation (and after Okta's first request
// with the new secret was marked) does not put back a mark of the old
// secret, which would leave the dialog saying "not connected" for good.
func TestConnectedMarkStaleSecret(t *testing.T) {
	f, _ := activityFixture(t)
	ctx := context.Background()
	oldHash := secret.Hash(f.acmeToken)
	newToken := secret.New()
	if _, err := f.store.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.TokenHash = secret.Hash(newToken); return nil }); err != nil {
		t.Fatal(err)
	}
	f.callTenant(t, "acme", newToken, "GET", "/Users?startIndex=1&count=2", "", nil)
	want := connected(t, f.store, "acme")
	if want == nil || want.TokenHash != hex.EncodeToString(secret.Hash(newToken)) {
		t.Fatalf("mark %+v, want the new secret's", want)
	}
	// The in-flight request of the old secret finishes now.
	f.server.markConnected(ctx, "acme", oldHash, adminapi.Request{Method: "GET", Path: "/Users", Status: 200, Action: activity.ActionListUsers})
	if diff := cmp.Diff(want, connected(t, f.store, "acme")); diff != "" {
		t.Errorf("the old secret's request replaced the mark (-want +got):\n%s", diff)
	}
}
