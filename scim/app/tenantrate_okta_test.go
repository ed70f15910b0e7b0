package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp/provision"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestTenantRateOktaProvisioning: Okta's provisioning engine (the mock's,
// which retries 429 after Retry-After as Okta does) pushes users and a
// group into a tenant whose request rate it exceeds; some requests are
// answered 429 and sent again, and everything arrives exactly once.
func TestTenantRateOktaProvisioning(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := app.Config{Store: st, PublicURL: srv.URL, DisableMetrics: true, TenantRate: httpx.TenantRateConfig{Rate: 20, Burst: 20}}
	srv.Config.Handler = app.New(cfg)
	acme, err := app.Tenants(cfg).Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	statuses := map[int]int{}
	ctx = provision.WithTrace(ctx, &provision.Trace{Attempt: func(a provision.Attempt) {
		mu.Lock()
		statuses[a.Status]++
		mu.Unlock()
	}})
	okta := &provision.Engine{Client: srv.Client()}
	target := provision.Target{BaseURL: acme.SCIMBaseURL, Token: acme.Token}
	const n = 25
	var members []provision.Member
	for i := range n {
		login := fmt.Sprintf("user%02d@example.com", i)
		id, err := okta.CreateUser(ctx, target, provision.User{ID: fmt.Sprintf("00u%04d", i), Login: login, Email: login, FirstName: "User", LastName: fmt.Sprint(i)})
		if err != nil {
			t.Fatalf("create %s: %v", login, err)
		}
		members = append(members, provision.Member{SCIMID: id, Login: login})
	}
	gid, err := okta.PushGroup(ctx, target, "Engineering", members)
	if err != nil {
		t.Fatalf("push group: %v", err)
	}

	users, err := st.CountResources(ctx, "acme", store.TypeUser, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.ListMembers(ctx, "acme", gid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{n, n}, []int{users, len(got)}); diff != "" {
		t.Errorf("users and group members stored (-want +got):\n%s", diff)
	}
	if statuses[429] == 0 {
		t.Errorf("no request was answered 429 (statuses %v): the test does not exceed the rate", statuses)
	}
	for code, count := range statuses {
		if code != 200 && code != 201 && code != 204 && code != 429 {
			t.Errorf("%d requests answered %d", count, code)
		}
	}
	t.Logf("statuses: %v", statuses)
}
