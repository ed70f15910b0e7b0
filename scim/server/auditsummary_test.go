package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// summaryRow is what a test compares of a summarised record.
type summaryRow struct {
	Tenant, Source, Detail string
	At                     time.Time
}

func summaryRows(items []auditItem) []summaryRow {
	var out []summaryRow
	for _, it := range items {
		out = append(out, summaryRow{it.tenant, it.rec.Source, string(it.rec.Detail), it.rec.At})
	}
	return out
}

func TestSummaries(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := func(source string) store.AuditRecord {
		return store.AuditRecord{Kind: store.AuditSCIM, Source: source, Action: auditRateLimited, Outcome: "429"}
	}
	type step struct {
		at      time.Duration // after t0
		tenant  string
		source  string // "" for a tick (due) instead of a refusal
		force   bool
		want    []summaryRow
		wantLen int // kinds remembered after the step
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"first at once, then one a minute with the count", 10, []step{
			{at: 0, tenant: "acme", source: "192.0.2.1", want: []summaryRow{{"acme", "192.0.2.1", `{"count":1}`, t0}}, wantLen: 1},
			{at: time.Second, tenant: "acme", source: "192.0.2.1", wantLen: 1},
			{at: 2 * time.Second, tenant: "acme", source: "192.0.2.1", wantLen: 1},
			{at: 30 * time.Second, wantLen: 1}, // a tick: not a minute yet
			{at: 61 * time.Second, want: []summaryRow{{"acme", "192.0.2.1", `{"count":2,"since":"2026-12-01T10:00:00Z"}`, t0.Add(61 * time.Second)}}, wantLen: 1},
			{at: 62 * time.Second, tenant: "acme", source: "192.0.2.1", wantLen: 1}, // counted, not written
			{at: 122 * time.Second, want: []summaryRow{{"acme", "192.0.2.1", `{"count":1,"since":"2026-12-01T10:01:01Z"}`, t0.Add(122 * time.Second)}}, wantLen: 1},
			{at: 183 * time.Second, wantLen: 0}, // a quiet minute: forgotten
			{at: 184 * time.Second, tenant: "acme", source: "192.0.2.1", want: []summaryRow{{"acme", "192.0.2.1", `{"count":1}`, t0.Add(184 * time.Second)}}, wantLen: 1},
		}},
		{"each tenant and source its own count", 10, []step{
			{at: 0, tenant: "acme", source: "192.0.2.1", want: []summaryRow{{"acme", "192.0.2.1", `{"count":1}`, t0}}, wantLen: 1},
			{at: 0, tenant: "acme", source: "192.0.2.2", want: []summaryRow{{"acme", "192.0.2.2", `{"count":1}`, t0}}, wantLen: 2},
			{at: 0, tenant: "beta", source: "192.0.2.1", want: []summaryRow{{"beta", "192.0.2.1", `{"count":1}`, t0}}, wantLen: 3},
			{at: time.Second, tenant: "beta", source: "192.0.2.1", wantLen: 3},
			{at: 2 * time.Second, force: true, want: []summaryRow{{"beta", "192.0.2.1", `{"count":1,"since":"2026-12-01T10:00:00Z"}`, t0.Add(2 * time.Second)}}, wantLen: 3},
		}},
		{"bounded: new kinds beyond max are dropped", 2, []step{
			{at: 0, tenant: "acme", source: "192.0.2.1", want: []summaryRow{{"acme", "192.0.2.1", `{"count":1}`, t0}}, wantLen: 1},
			{at: 0, tenant: "acme", source: "192.0.2.2", want: []summaryRow{{"acme", "192.0.2.2", `{"count":1}`, t0}}, wantLen: 2},
			{at: 0, tenant: "acme", source: "192.0.2.3", wantLen: 2},
			{at: 0, tenant: "acme", source: "192.0.2.1", wantLen: 2}, // a known kind is still counted
		}},
		{"a name no tenant has is not remembered", 10, []step{
			{at: 0, tenant: fmt.Sprintf("%070d", 1), source: "192.0.2.1", wantLen: 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSummaries()
			s.max = tc.max
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				var got []auditItem
				if st.source == "" {
					got = s.due(now, st.force)
				} else if it, ok := s.add(st.tenant, rec(st.source), now); ok {
					got = []auditItem{it}
				}
				if diff := cmp.Diff(st.want, summaryRows(got)); diff != "" {
					t.Errorf("step %d (-want +got):\n%s", i, diff)
				}
				if len(s.m) != st.wantLen {
					t.Errorf("step %d: %d kinds remembered, want %d", i, len(s.m), st.wantLen)
				}
			}
		})
	}
}

// TestSummariesUnknownTenant: a kind whose tenant does not exist is
// counted no more and written never.
func TestSummariesUnknownTenant(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := newSummaries()
	it, ok := s.add("nope", store.AuditRecord{Action: auditRateLimited}, t0)
	if !ok {
		t.Fatal("first refusal not returned")
	}
	s.setChecked(it.summary, false)
	s.add("nope", store.AuditRecord{Action: auditRateLimited}, t0.Add(time.Second))
	if got := s.due(t0.Add(2*time.Minute), false); len(got) != 0 {
		t.Errorf("due = %v, want nothing for an unknown tenant", summaryRows(got))
	}
	if len(s.m) != 0 {
		t.Errorf("the unknown tenant's kind is still remembered after a minute")
	}
}

// TestAuditRefusals: 401s of every method to an existing tenant are
// recorded, one each; 429s are summarised; unknown tenants leave nothing;
// authenticated reads leave nothing.
func TestAuditRefusals(t *testing.T) {
	f := newFixtureWith(t, Config{})
	t0 := time.Now().Add(time.Hour).Truncate(time.Second) // after the 401s, which ListAudit orders first
	aw := NewAuditWriterWith(AuditConfig{Store: f.store, Now: func() time.Time { return t0 }})
	f.server.audit = aw
	// The limiter's 429 comes from tooManyFailures; drive it directly
	// through writeError, as the failure limiter's tests own its budgets.
	calls := []struct {
		method, path, token string
		hdr                 map[string]string
	}{
		{"GET", "/Users", "", nil},
		{"GET", "/Users/some-id", "wrong-token", nil},
		{"PATCH", "/Groups/x", f.betaToken, nil}, // another tenant's token
		{"DELETE", "/Bulk", "", map[string]string{"Authorization": "Basic YTpi"}},
		{"GET", "/ServiceProviderConfig", "wrong-token", nil},
		{"GET", "/nope", "wrong-token", nil},
		{"GET", "/Users", f.acmeToken, nil}, // authenticated read: nothing
	}
	for _, c := range calls {
		hdr := map[string]string{"Authorization": ""}
		if c.token != "" {
			hdr["Authorization"] = "Bearer " + c.token
		}
		for k, v := range c.hdr {
			hdr[k] = v
		}
		f.call(t, c.method, c.path, "", hdr)
	}
	// Unknown tenant: nothing recorded.
	req, _ := http.NewRequest("GET", f.base("no-such")+"/Users", nil)
	req.Header.Set("Authorization", "Bearer "+f.acmeToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	// Three 429s for acme from one source, one for an unknown tenant.
	for _, tn := range []string{"acme", "acme", "acme", "no-such"} {
		r, _ := http.NewRequest("GET", "/t/"+tn+"/scim/v2/Users", nil)
		r.SetPathValue("tenant", tn)
		r.RemoteAddr = "198.51.100.7:4242"
		f.server.tooManyFailures(discardWriter{http.Header{}}, r, time.Second)
	}
	aw.Close()
	got, _ := auditRows(t, f.store, "acme")
	want := []auditRow{
		{"scim", "", "127.0.0.1", "auth-refused", "User", `{"count":1,"method":"GET","reason":"no-token"}`, "401"},
		{"scim", "", "127.0.0.1", "auth-refused", "User", `{"count":1,"method":"GET","reason":"wrong-token"}`, "401"},
		{"scim", "", "127.0.0.1", "auth-refused", "Group", `{"count":1,"method":"PATCH","reason":"wrong-token"}`, "401"},
		{"scim", "", "127.0.0.1", "auth-refused", "Bulk", `{"count":1,"method":"DELETE","reason":"not-bearer"}`, "401"},
		{"scim", "", "127.0.0.1", "auth-refused", "ServiceProviderConfig", `{"count":1,"method":"GET","reason":"wrong-token"}`, "401"},
		{"scim", "", "127.0.0.1", "auth-refused", "", `{"count":1,"method":"GET","reason":"wrong-token"}`, "401"},
		{"scim", "", "198.51.100.7", "rate-limited", "User", `{"count":1}`, "429"},
		// The count of the two later 429s, written at Close, with the
		// time the count started.
		{"scim", "", "198.51.100.7", "rate-limited", "User", `{"count":2,"since":"` + t0.UTC().Format(time.RFC3339) + `"}`, "429"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if recs, _ := f.store.ListAudit(context.Background(), "no-such", time.Time{}, 0); len(recs) != 0 {
		t.Errorf("records for a tenant that does not exist: %v", recs)
	}
}

// discardWriter is an http.ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w discardWriter) WriteHeader(int)             {}

func TestAuditTarget(t *testing.T) {
	tests := []struct{ rest, want string }{
		{"/Users", "User"},
		{"/Groups/g1", "Group/g1"},
		{"/Users/a\x00b", "User/a%00b"},
		{"/Users/x\r\nSet-Cookie: y", "User/x%0D%0ASet-Cookie: y"},
		{"/Bulk", ""},
		{"/Users/\xff", "User/\uFFFD"},
	}
	for _, tc := range tests {
		t.Run(tc.rest, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, auditTarget(tc.rest)); diff != "" {
				t.Errorf("auditTarget (-want +got):\n%s", diff)
			}
		})
	}
}
