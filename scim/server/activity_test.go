package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/client"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// The ids of the transcripts in testdata/okta.
const (
	aliceID = "2819c223-7f76-453a-919d-413861904646"
	groupID = "e9e30dba-f08f-4109-8486-d5c6a331660a"
)

// transcriptUsers are the users the transcripts name, by id.
var transcriptUsers = map[string]string{
	aliceID:                                "alice@example.com",
	"5d8a3c1e-0b7f-4a52-9c1d-2e6f7a8b9c0d": "bob@example.com",
	"7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b": "carol@example.com",
	"9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d": "dave@example.com",
}

// transcriptExchange is one request of a transcript in testdata/okta.
type transcriptExchange struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body"`
	Response struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	} `json:"response"`
}

// activityFixture is a fixture whose server records into a Log, on a
// clock that moves one second per reading.
func activityFixture(t testing.TB) (*fixture, *activity.Log) {
	t.Helper()
	log := activity.New(0)
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	return newFixtureWith(t, Config{Activity: log, Now: clock}), log
}

// seed writes a resource into tenant acme through the store, with the id
// the transcripts use, as the server stores it.
func seed(t *testing.T, f *fixture, typ, id string, res scim.Resource, members []store.Member) {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res["id"] = id
	res["meta"] = map[string]any{"resourceType": typ, "created": now.Format(timeFormat), "lastModified": now.Format(timeFormat),
		"location": f.base("acme") + "/" + typ + "s/" + id, "version": `W/"1"`}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	rec := store.Record{Type: typ, ID: id, Data: data, Created: now, Modified: now}
	if typ == store.TypeUser {
		rec.UserName = res["userName"].(string)
		rec.Emails = []string{rec.UserName}
		if x, ok := res["externalId"].(string); ok {
			rec.ExternalID = x
		}
	} else {
		rec.DisplayName = res["displayName"].(string)
		rec.Members = &store.MemberChange{Add: members}
	}
	if _, err := f.store.CreateResource(context.Background(), "acme", rec); err != nil {
		t.Fatalf("seed %s %s: %v", typ, id, err)
	}
}

// seedTranscriptState writes the users (alice as aliceActive says, or
// none of them with "absent") and, with group, Engineering with alice and
// bob, that the transcripts expect.
func seedTranscriptState(t *testing.T, f *fixture, alice string, group bool) {
	t.Helper()
	for id, un := range transcriptUsers {
		if alice == "absent" {
			break
		}
		res := scim.Resource{"schemas": []any{scim.SchemaUser}, "userName": un, "active": true,
			"emails": []any{map[string]any{"value": un, "type": "work", "primary": true}}}
		if id == aliceID {
			res["externalId"] = "00u1ab2cd3EF4gh5ij6k7"
			res["displayName"] = "Alice Example"
			res["name"] = map[string]any{"givenName": "Alice", "familyName": "Example", "formatted": "Alice Example"}
			res["active"] = alice == "active"
		}
		seed(t, f, store.TypeUser, id, res, nil)
	}
	if group {
		seed(t, f, store.TypeGroup, groupID, scim.Resource{"schemas": []any{scim.SchemaGroup}, "displayName": "Engineering"},
			[]store.Member{{Value: aliceID, Display: "alice@example.com"}, {Value: "5d8a3c1e-0b7f-4a52-9c1d-2e6f7a8b9c0d", Display: "bob@example.com"}})
	}
}

// TestActivityTranscripts replays every Okta transcript against a server
// holding the state it expects and checks what the activity log says of
// each request: the action (also those only the stored user or group
// tells: a deactivation, a rename to the same name), path, status and
// User-Agent; and that the first request is the connected mark.
func TestActivityTranscripts(t *testing.T) {
	type setup struct {
		alice string // "active", "inactive" or "absent" (and no other user)
		group bool   // Engineering exists, with alice and bob
	}
	tests := map[string]struct {
		setup setup
		want  []string
	}{
		"assign-user-existing-active.json":   {setup{"active", true}, []string{"Look up user"}},
		"assign-user-existing-inactive.json": {setup{"inactive", true}, []string{"Look up user", "Reactivate user"}},
		"assign-user-new.json":               {setup{"absent", false}, []string{"Look up user", "Create user"}},
		"deactivate-custom.json":             {setup{"active", true}, []string{"Read user", "Deactivate user"}},
		"deactivate.json":                    {setup{"active", true}, []string{"Deactivate user"}},
		"group-delete.json":                  {setup{"active", true}, []string{"Delete group"}},
		"group-push-create-custom.json":      {setup{"active", false}, []string{"Create group"}},
		// The name Okta sends before the membership PATCH is the group's own.
		"group-push-create.json":            {setup{"active", false}, []string{"Create group", "Update group", "Update group members"}},
		"group-push-membership-custom.json": {setup{"active", true}, []string{"Update group"}},
		"group-push-membership.json":        {setup{"active", true}, []string{"Update group", "Update group members"}},
		"group-rename.json":                 {setup{"active", true}, []string{"Rename group"}},
		"import-groups.json":                {setup{"active", true}, []string{"Import groups"}},
		"import-users.json":                 {setup{"active", true}, []string{"Import users", "Import users"}},
		"password-push-custom.json":         {setup{"active", true}, []string{"Read user", "Update user"}},
		"password-push.json":                {setup{"active", true}, []string{"Update user"}},
		"profile-update-catalogue.json":     {setup{"active", true}, []string{"Update user"}},
		"profile-update.json":               {setup{"active", true}, []string{"Read user", "Update user"}},
		"reactivate.json":                   {setup{"inactive", true}, []string{"Reactivate user"}},
		"retry-after-429.json":              {setup{"absent", false}, []string{"Look up user", "Look up user", "Create user"}},
		"save-to-app-settings.json":         {setup{"active", true}, []string{"Import groups"}},
		"test-api-credentials.json":         {setup{"active", false}, []string{"Test API Credentials"}},
	}
	files, err := filepath.Glob("../../testdata/okta/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata/okta: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			tc, ok := tests[name]
			if !ok {
				t.Fatalf("transcript %s has no row in this table", name)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var exs []transcriptExchange
			if err := json.Unmarshal(b, &exs); err != nil {
				t.Fatal(err)
			}
			f, log := activityFixture(t)
			seedTranscriptState(t, f, tc.setup.alice, tc.setup.group)
			ids := map[string]string{} // transcript id → the id the server gave
			var want []adminapi.Request
			for _, ex := range exs {
				path, body := ex.Path, string(ex.Body)
				if body == "null" {
					body = ""
				}
				for from, to := range ids {
					path, body = strings.ReplaceAll(path, from, to), strings.ReplaceAll(body, from, to)
				}
				body = strings.ReplaceAll(body, "<password>", "Secret-Passw0rd")
				hdr := map[string]string{}
				for k, v := range ex.Headers {
					if k != "Authorization" {
						hdr[k] = v
					}
				}
				r := f.call(t, ex.Method, path, body, hdr)
				if r.status >= 300 {
					t.Fatalf("%s %s: %d %s", ex.Method, path, r.status, r.raw)
				}
				if from, ok := ex.Response.Body["id"].(string); ok {
					if to, ok := r.body["id"].(string); ok && to != from {
						ids[from] = to
					}
				}
				// The dialog shows the query decoded (Okta's transcripts
				// encode only with %XX, never +).
				shown, err := url.PathUnescape(path)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, adminapi.Request{Method: ex.Method, Path: shown, Status: r.status, Action: tc.want[len(want)], UserAgent: "Okta SCIM Client 1.0.0"})
			}
			got := log.Recent("acme", adminapi.MaxRequests)
			slicesReverse(got)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(adminapi.Request{}, "At")); diff != "" {
				t.Errorf("activity, oldest first (-want +got):\n%s", diff)
			}
			c := connected(t, f.store, "acme")
			if c == nil {
				t.Fatal("no connected mark after the transcript")
			}
			if diff := cmp.Diff(activity.Connected{TokenHash: hex.EncodeToString(secret.Hash(f.acmeToken)), Request: got[0]}, *c); diff != "" {
				t.Errorf("connected mark (-want +got):\n%s", diff)
			}
		})
	}
}

// slicesReverse reverses rs in place.
func slicesReverse(rs []adminapi.Request) {
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
}

// connected returns the tenant's connected mark, nil when there is none.
func connected(t *testing.T, st store.Store, tenant string) *activity.Connected {
	t.Helper()
	tok, err := st.GetToken(context.Background(), activity.KindConnected, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if tok.Tenant != tenant || tok.Key != tenant {
		t.Errorf("connected mark has key %q and tenant %q, want %q", tok.Key, tok.Tenant, tenant)
	}
	var c activity.Connected
	if err := json.Unmarshal(tok.Value, &c); err != nil {
		t.Fatalf("connected mark: %v", err)
	}
	return &c
}

// TestActivityRequests checks what is recorded of single requests: the
// 401s, error details, clipping, and the tenants that are never recorded.
func TestActivityRequests(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	for _, tc := range []struct {
		name                string
		tenant, token       string
		method, path, body  string
		hdr                 map[string]string
		want                *adminapi.Request // nil: nothing recorded
		wantDetailPrefix    string
		wantUnknownRecorded bool
	}{
		{name: "wrong secret", tenant: "acme", token: "wrong", method: "GET", path: "/Users?startIndex=1&count=2",
			want: &adminapi.Request{Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 401, Action: "Wrong secret",
				Detail: "authentication failed: send this tenant's SCIM token as Authorization: Bearer <token>", UserAgent: "Go-http-client/1.1"}},
		{name: "no secret", tenant: "acme", method: "GET", path: "/Users", hdr: map[string]string{"Authorization": ""},
			want: &adminapi.Request{Method: "GET", Path: "/Users", Status: 401, Action: "No secret",
				Detail: "authentication failed: send this tenant's SCIM token as Authorization: Bearer <token>", UserAgent: "Go-http-client/1.1"}},
		{name: "another tenant's secret", tenant: "acme", token: "beta", method: "GET", path: "/Groups",
			want: &adminapi.Request{Method: "GET", Path: "/Groups", Status: 401, Action: "Wrong secret",
				Detail: "authentication failed: send this tenant's SCIM token as Authorization: Bearer <token>", UserAgent: "Go-http-client/1.1"}},
		{name: "unknown tenant", tenant: "nope", token: "acme", method: "GET", path: "/Users"},
		{name: "unknown tenant without a secret", tenant: "nope", method: "POST", path: "/Users", body: `{}`, hdr: map[string]string{"Authorization": ""}},
		{name: "bad filter", tenant: "acme", token: "acme", method: "GET", path: "/Users?filter=userName%20zz%20%22x%22",
			want:             &adminapi.Request{Method: "GET", Path: `/Users?filter=userName zz "x"`, Status: 400, Action: "Look up user", UserAgent: "Go-http-client/1.1"},
			wantDetailPrefix: "invalidFilter: "},
		{name: "bad query", tenant: "acme", token: "acme", method: "GET", path: "/Users?count=%zz",
			want:             &adminapi.Request{Method: "GET", Path: "/Users?count=%zz", Status: 400, Action: "List users", UserAgent: "Go-http-client/1.1"},
			wantDetailPrefix: "invalidValue: the query string is not valid URL encoding"},
		{name: "taken userName", tenant: "acme", token: "acme", method: "POST", path: "/Users", body: `{"userName":"alice@example.com"}`,
			want:             &adminapi.Request{Method: "POST", Path: "/Users", Status: 409, Action: "Create user", UserAgent: "Go-http-client/1.1"},
			wantDetailPrefix: "uniqueness: "},
		{name: "no endpoint", tenant: "acme", token: "acme", method: "GET", path: "/Nope",
			want: &adminapi.Request{Method: "GET", Path: "/Nope", Status: 404, Action: "Unsupported request", Detail: "no endpoint /Nope", UserAgent: "Go-http-client/1.1"}},
		{name: "user agent clipped", tenant: "acme", token: "acme", method: "GET", path: "/ServiceProviderConfig", hdr: map[string]string{"User-Agent": long},
			want: &adminapi.Request{Method: "GET", Path: "/ServiceProviderConfig", Status: 200, Action: "Read ServiceProviderConfig", UserAgent: strings.Repeat("é", 98) + "…"}},
		{name: "path clipped", tenant: "acme", token: "acme", method: "GET", path: "/Users?filter=" + strings.Repeat("x", 600),
			want:             &adminapi.Request{Method: "GET", Path: "/Users?filter=" + strings.Repeat("x", 512-len("/Users?filter=")-len("…")) + "…", Status: 400, Action: "Look up user", UserAgent: "Go-http-client/1.1"},
			wantDetailPrefix: "invalidFilter: "},
		{name: "bulk", tenant: "acme", token: "acme", method: "POST", path: "/Bulk",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulk@example.com"}}]}`,
			want: &adminapi.Request{Method: "POST", Path: "/Bulk", Status: 200, Action: "Bulk request", UserAgent: "Go-http-client/1.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, log := activityFixture(t)
			seedTranscriptState(t, f, "active", false)
			token := map[string]string{"acme": f.acmeToken, "beta": f.betaToken, "wrong": "not-the-secret", "": ""}[tc.token]
			r := f.callTenant(t, tc.tenant, token, tc.method, tc.path, tc.body, tc.hdr)
			got := log.Recent(tc.tenant, adminapi.MaxRequests)
			if tc.want == nil {
				if len(got) != 0 || connected(t, f.store, tc.tenant) != nil {
					t.Fatalf("recorded a request to tenant %q (answered %d): %+v", tc.tenant, r.status, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("recorded %d requests, want 1: %+v", len(got), got)
			}
			if !strings.HasPrefix(got[0].Detail, tc.wantDetailPrefix) || len(got[0].Detail) > maxActivityDetail {
				t.Errorf("detail %q: want it to start with %q and be at most %d bytes", got[0].Detail, tc.wantDetailPrefix, maxActivityDetail)
			}
			if tc.wantDetailPrefix != "" {
				got[0].Detail = ""
			}
			if diff := cmp.Diff(*tc.want, got[0], cmpopts.IgnoreFields(adminapi.Request{}, "At")); diff != "" {
				t.Errorf("recorded (-want +got):\n%s", diff)
			}
			if got[0].At.IsZero() {
				t.Error("recorded without a time")
			}
			if beta := log.Recent("beta", adminapi.MaxRequests); len(beta) != 0 {
				t.Errorf("tenant beta has acme's request: %+v", beta)
			}
			if c := connected(t, f.store, "acme"); (c != nil) != (r.status != http.StatusUnauthorized) {
				t.Errorf("connected mark %+v after a %d", c, r.status)
			}
		})
	}
}

// TestActivityRefusedUnknownTenants: a flood of requests to tenants that
// do not exist takes no memory in the log.
func TestActivityRefusedUnknownTenants(t *testing.T) {
	f, log := activityFixture(t)
	for i := range 50 {
		name := "ghost" + strings.Repeat("x", i)
		f.callTenant(t, name, f.acmeToken, "GET", "/Users", "", nil)
		if got := log.Recent(name, 1); len(got) != 0 {
			t.Fatalf("tenant %s recorded: %+v", name, got)
		}
	}
}

// markStore counts the calls of a connected mark and can fail its writes.
type markStore struct {
	store.Store
	mu       sync.Mutex
	gets     int
	puts     int
	failPuts bool
}

func (s *markStore) GetToken(ctx context.Context, kind, key string) (store.Token, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	return s.Store.GetToken(ctx, kind, key)
}

func (s *markStore) PutToken(ctx context.Context, t store.Token) error {
	s.mu.Lock()
	s.puts++
	fail := s.failPuts
	s.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return s.Store.PutToken(ctx, t)
}

// counts returns the GetToken and PutToken calls so far.
func (s *markStore) counts() [2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return [2]int{s.gets, s.puts}
}

// TestConnectedMark: the first request with the current secret is the
// mark, written once per secret (one store read per process and secret,
// never per request), kept across instances, replaced after a rotation.
func TestConnectedMark(t *testing.T) {
	f := newFixture(t)
	ms := &markStore{Store: f.store}
	var logs bytes.Buffer
	newInstance := func() *Server {
		return New(Config{Store: ms, PublicURL: f.srv.URL, Activity: activity.New(0),
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	}
	use := func(s *Server) {
		mux := http.NewServeMux()
		s.Register(mux)
		f.srv.Config.Handler = mux
	}
	one, two := newInstance(), newInstance()
	use(one)
	ctx := context.Background()
	hash := func(tok string) string { return hex.EncodeToString(secret.Hash(tok)) }

	// Refused requests read nothing and mark nothing.
	for range 5 {
		f.callTenant(t, "acme", "wrong", "GET", "/Users", "", nil)
	}
	if diff := cmp.Diff([2]int{0, 0}, ms.counts()); diff != "" {
		t.Errorf("token calls after refused requests (-want +got):\n%s", diff)
	}
	if c := connected(t, f.store, "acme"); c != nil {
		t.Fatalf("marked by refused requests: %+v", c)
	}

	// Concurrent first requests: one read, one write, whoever came first.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if st, _, err := f.rawCall("GET", "/Users?startIndex=1&count=2", ""); err != nil || st != 200 {
				t.Errorf("GET: %d %v", st, err)
			}
		})
	}
	wg.Wait()
	for range 50 {
		f.call(t, "GET", "/Users?startIndex=1&count=100", "", nil)
	}
	if diff := cmp.Diff([2]int{1, 1}, ms.counts()); diff != "" {
		t.Errorf("token calls (gets, puts) after 60 requests (-want +got):\n%s", diff)
	}
	first := connected(t, f.store, "acme")
	if first == nil || first.TokenHash != hash(f.acmeToken) || first.Request.Action != "Test API Credentials" {
		t.Fatalf("mark %+v, want the Test API Credentials request with acme's secret", first)
	}
	// Another tenant is marked on its own.
	f.callTenant(t, "beta", f.betaToken, "GET", "/Groups", "", nil)
	if c := connected(t, f.store, "beta"); c == nil || c.TokenHash != hash(f.betaToken) {
		t.Errorf("beta's mark %+v", c)
	}

	// Another instance reads the mark once and keeps it.
	use(two)
	for range 5 {
		f.call(t, "GET", "/Groups", "", nil)
	}
	if diff := cmp.Diff([2]int{3, 2}, ms.counts()); diff != "" {
		t.Errorf("token calls after the second instance (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, connected(t, f.store, "acme")); diff != "" {
		t.Errorf("the second instance changed the mark (-want +got):\n%s", diff)
	}

	// A rotated secret: the old mark no longer counts, the next request
	// with the new secret is the mark.
	newToken := secret.New()
	if _, err := f.store.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.TokenHash = secret.Hash(newToken); return nil }); err != nil {
		t.Fatal(err)
	}
	f.callTenant(t, "acme", f.acmeToken, "GET", "/Users", "", nil) // the old secret: refused
	f.callTenant(t, "acme", newToken, "GET", "/Users?filter=userName%20eq%20%22a%22", "", nil)
	f.callTenant(t, "acme", newToken, "GET", "/Users", "", nil)
	c := connected(t, f.store, "acme")
	if c == nil || c.TokenHash != hash(newToken) || c.Request.Action != "Look up user" {
		t.Errorf("mark after rotation %+v, want the lookup with the new secret", c)
	}
	if diff := cmp.Diff([2]int{4, 3}, ms.counts()); diff != "" {
		t.Errorf("token calls after the rotation (-want +got):\n%s", diff)
	}

	// A failing write never fails the request; it is logged and tried
	// again on the next one.
	ms.mu.Lock()
	ms.failPuts = true
	ms.mu.Unlock()
	three := newInstance()
	use(three)
	otherToken := secret.New()
	if _, err := f.store.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.TokenHash = secret.Hash(otherToken); return nil }); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := f.callTenant(t, "acme", otherToken, "GET", "/Users", "", nil); r.status != 200 {
			t.Errorf("GET with a failing mark: %d %s", r.status, r.raw)
		}
	}
	if diff := cmp.Diff([2]int{6, 5}, ms.counts()); diff != "" {
		t.Errorf("token calls with failing writes (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "marking the tenant connected failed") || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// BenchmarkActivity compares Okta's most frequent requests on one store
// with Config.Activity off and on (what recording and the connected mark
// cost once the mark is made: no store call), alternating the two
// servers.
func BenchmarkActivity(b *testing.B) {
	f := newFixture(b)
	c := benchUsers(b, f, 200)
	ctx := context.Background()
	muxes := map[string]*http.ServeMux{}
	for _, mode := range []string{"off", "on"} {
		cfg := Config{Store: f.store, PublicURL: f.srv.URL}
		if mode == "on" {
			cfg.Activity = activity.New(0)
		}
		muxes[mode] = http.NewServeMux()
		New(cfg).Register(muxes[mode])
	}
	for _, round := range []string{"off", "on", "off", "on"} {
		f.srv.Config.Handler = muxes[round]
		b.Run("activity="+round+"/filter userName eq", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := c.List(ctx, "Users", client.ListQuery{Filter: fmt.Sprintf(`userName eq "user%05d@example.com"`, i%200), StartIndex: 1, Count: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("activity="+round+"/GET /ServiceProviderConfig", func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Do(ctx, "GET", "/ServiceProviderConfig", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadableQuery: the dialog shows queries decoded, part by part; a
// part that does not decode, or decodes to invalid UTF-8, stays as sent.
func TestReadableQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"startIndex=1&count=2", "startIndex=1&count=2"},
		{"filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", `filter=userName eq "alice@example.com"&startIndex=1&count=100`},
		{"filter=displayName+eq+%22Eng%22", `filter=displayName eq "Eng"`},
		{"count=%zz&x=%41", "count=%zz&x=A"},
		{"a=%ff", "a=%ff"},
		{"flag&b=", "flag&b="},
		{"access_token=REDACTED", "access_token=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, readableQuery(tc.in)); diff != "" {
				t.Errorf("readableQuery(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
