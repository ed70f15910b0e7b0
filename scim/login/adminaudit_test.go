package login_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
)

// withAudit gives the app server an audit writer on its store, as serve
// does; it is closed (flushed) when the test ends.
func withAudit(t *testing.T) apptest.Option {
	return func(c *app.Config) {
		c.Audit = server.NewAuditWriter(c.Store, nil)
		t.Cleanup(c.Audit.Close)
	}
}

// audit reads GET …/api/audit with query q ("" for none).
func (a *admin) audit(q string) (int, adminapi.Audit, http.Header) {
	a.t.Helper()
	u := a.api("audit")
	if q != "" {
		u += "?" + q
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got adminapi.Audit
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			a.t.Fatalf("audit: %v", err)
		}
	}
	return resp.StatusCode, got, resp.Header
}

// auditRow is an entry as the tests compare it: kind, action, target,
// outcome and the detail's fields.
func auditRow(e adminapi.AuditEntry) string {
	return strings.Join([]string{e.Kind, e.Action, e.Target, e.Outcome, strings.Join(e.Attributes, ","), e.Reason, e.Grace, strconv.FormatBool(e.Test)}, " ")
}

// waitAudit polls the audit until it lists want records (the writer
// flushes every 200 ms) and returns them.
func (a *admin) waitAudit(want int) []adminapi.AuditEntry {
	a.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, got, _ := a.audit("")
		if code != http.StatusOK {
			a.t.Fatalf("audit: %d", code)
		}
		if len(got.Records) >= want || time.Now().After(deadline) {
			return got.Records
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAdminAudit(t *testing.T) {
	srv := apptest.Start(t, nil, withAudit(t))
	acme := newAdmin(t, srv, "acme")
	other := newAdmin(t, srv, "other")

	// Okta creates a user in each tenant; acme's admin rotates the
	// secret and names an admin group.
	code, body := acme.scim(acme.created.Token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","name":{"givenName":"Alice"}}`)
	if code != http.StatusCreated {
		t.Fatalf("create user: %d %s", code, body)
	}
	alice := idOf(t, body)
	if code, body := other.scim(other.created.Token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`); code != http.StatusCreated {
		t.Fatalf("create user in other: %d %s", code, body)
	}
	if code, body := acme.scim(acme.created.Token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com"}`); code != http.StatusConflict {
		t.Fatalf("duplicate user: %d %s", code, body)
	}
	post := map[string]string{adminapi.CSRFHeader: acme.csrf, "Content-Type": "application/json"}
	if code, body := acme.do("POST", acme.api("secret"), post, `{"graceSeconds":600}`); code != http.StatusOK {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if code, body := acme.do("POST", acme.api("admin-group"), post, `{"group":"Idpkit Admins"}`); code != http.StatusOK {
		t.Fatalf("admin group: %d %s", code, body)
	}

	got := acme.waitAudit(5)
	want := []string{
		"admin admin-group-saved  ok    false",
		"admin secret-rotated  ok   10m0s false",
		"scim create User 409 userName   false",
		"scim create User/" + alice + " 201 name,userName   false",
		"admin admin-link  ok    false",
	}
	rows := []string{}
	for _, e := range got {
		rows = append(rows, auditRow(e))
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("acme's audit, newest first (-want +got):\n%s", diff)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.After(got[i-1].At) {
			t.Errorf("record %d (%s) is newer than record %d (%s)", i, got[i].At, i-1, got[i-1].At)
		}
	}
	for _, e := range got {
		if e.Kind == adminapi.AuditSCIM && !strings.HasPrefix(e.Actor, "current:") {
			t.Errorf("SCIM record's actor = %q, want the token id", e.Actor)
		}
		if e.Source != "127.0.0.1" {
			t.Errorf("source = %q, want 127.0.0.1", e.Source)
		}
	}
	raw, _ := json.Marshal(got)
	for _, v := range []string{"alice@example.com", "bob@example.com", acme.created.Token, acme.csrf} {
		if strings.Contains(string(raw), v) {
			t.Errorf("the audit answer holds %q", v)
		}
	}

	t.Run("other tenant", func(t *testing.T) {
		rows := []string{}
		for _, e := range other.waitAudit(2) {
			rows = append(rows, auditRow(e))
			if strings.Contains(e.Target, alice) {
				t.Errorf("other's audit lists acme's user: %+v", e)
			}
		}
		if len(rows) != 2 || !strings.HasPrefix(rows[0], "scim create User/") || rows[1] != "admin admin-link  ok    false" {
			t.Errorf("other's audit = %q, want its create and its admin link", rows)
		}
	})

	t.Run("answers", func(t *testing.T) {
		since := got[1].At.UTC().Format(time.RFC3339Nano)
		acmeCookie := ""
		for _, c := range acme.client.Jar.Cookies(mustURL(t, acme.api(""))) {
			if c.Name == "idpkit_admin" {
				acmeCookie = c.Value
			}
		}
		tests := []struct {
			name   string
			path   string
			cookie string // "" for none; the admin's own otherwise
			want   int
			count  int // records, when 200
		}{
			{"no session", "/t/acme/admin/api/audit", "", http.StatusUnauthorized, 0},
			{"acme's cookie on other", "/t/other/admin/api/audit", acmeCookie, http.StatusUnauthorized, 0},
			{"a forged cookie", "/t/acme/admin/api/audit", "forged", http.StatusUnauthorized, 0},
			{"unknown tenant", "/t/nobody/admin/api/audit", acmeCookie, http.StatusNotFound, 0},
			{"since", "/t/acme/admin/api/audit?since=" + url.QueryEscape(since), acmeCookie, http.StatusOK, 2},
			{"since in the future", "/t/acme/admin/api/audit?since=2999-01-01T00:00:00Z", acmeCookie, http.StatusOK, 0},
			{"since not RFC 3339", "/t/acme/admin/api/audit?since=yesterday", acmeCookie, http.StatusBadRequest, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.cookie != "" {
					req.AddCookie(&http.Cookie{Name: "idpkit_admin", Value: tc.cookie})
				}
				resp, err := srv.Client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body adminapi.Audit
				json.NewDecoder(resp.Body).Decode(&body)
				hdr := []string{resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), resp.Header.Get("X-Frame-Options")}
				if diff := cmp.Diff([]any{tc.want, tc.count, []string{"application/json", "no-store", "DENY"}}, []any{resp.StatusCode, len(body.Records), hdr}); diff != "" {
					t.Errorf("GET %s (-want +got):\n%s", tc.path, diff)
				}
			})
		}
	})
}

// TestAdminAuditLatest: the answer is the newest records, at most 50,
// however they are spread in time, as a read of the whole trail would
// give them.
func TestAdminAuditLatest(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := func(at time.Time, i int) store.AuditRecord {
		return store.AuditRecord{At: at, Kind: store.AuditSCIM, Actor: "current:0123abcd", Source: "192.0.2.1", Action: "patch", Target: "User/u" + strconv.Itoa(i), Outcome: "200"}
	}
	spread := func(n int, from time.Time, step time.Duration) []store.AuditRecord {
		var out []store.AuditRecord
		for i := range n {
			out = append(out, rec(from.Add(time.Duration(i)*step), i))
		}
		return out
	}
	tests := []struct {
		name  string
		recs  []store.AuditRecord
		since string
	}{
		{"none", nil, ""},
		{"a few", spread(7, now.Add(-time.Hour), time.Minute), ""},
		{"more than 50", spread(120, now.Add(-2*time.Hour), time.Minute), ""},
		{"more than one read, over two hours", spread(1200, now.Add(-2*time.Hour), 6*time.Second), ""},
		{"a burst a minute ago", spread(900, now.Add(-time.Minute), time.Millisecond), ""},
		{"all long ago", spread(700, now.Add(-80*24*time.Hour), time.Second), ""},
		{"a bulk request in one instant, then a few", append(spread(800, now.Add(-time.Hour), 0), spread(10, now.Add(-time.Minute), time.Second)...), ""},
		{"a bulk request in one instant, newest", spread(700, now.Add(-time.Minute), 0), ""},
		{"since", spread(1000, now.Add(-3*time.Hour), 10*time.Second), now.Add(-3*time.Hour + 9900*time.Second).Format(time.RFC3339)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := apptest.Start(t, nil)
			a := newAdmin(t, srv, "acme")
			ctx := context.Background()
			if err := srv.Config.Store.AppendAudit(ctx, "acme", tc.recs); err != nil {
				t.Fatal(err)
			}
			since := time.Time{}
			q := ""
			if tc.since != "" {
				since, _ = time.Parse(time.RFC3339, tc.since)
				q = "since=" + url.QueryEscape(tc.since)
			}
			all, err := srv.Config.Store.ListAudit(ctx, "acme", since, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for i := len(all) - 1; i >= 0 && len(want) < adminapi.MaxAudit; i-- {
				want = append(want, all[i].At.Format(time.RFC3339Nano)+" "+all[i].Target)
			}
			code, body, _ := a.audit(q)
			got := []string{}
			for _, e := range body.Records {
				got = append(got, e.At.Format(time.RFC3339Nano)+" "+e.Target)
			}
			if code != http.StatusOK {
				t.Fatalf("audit: %d", code)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdminGroupAnswer: saving the admin group says whether the group is
// provisioned and how many members it has.
func TestAdminGroupAnswer(t *testing.T) {
	srv := apptest.Start(t, nil)
	a := newAdmin(t, srv, "acme")
	var ids []string
	for _, u := range []string{"alice@example.com", "bob@example.com"} {
		code, body := a.scim(a.created.Token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+u+`"}`)
		if code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", u, code, body)
		}
		ids = append(ids, idOf(t, body))
	}
	if code, body := a.scim(a.created.Token, "POST", "/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admins","members":[{"value":%q},{"value":%q}]}`, ids[0], ids[1])); code != http.StatusCreated {
		t.Fatalf("create group: %d %s", code, body)
	}
	tests := []struct {
		group   string
		found   bool
		members int
	}{
		{"Idpkit Admins", true, 2},
		{"idpkit admins", false, 0}, // sign-in compares exactly
		{"Nobody", false, 0},
		{"", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.group, func(t *testing.T) {
			body, _ := json.Marshal(adminapi.AdminGroup{Group: tc.group})
			code, out := a.do("POST", a.api("admin-group"), map[string]string{adminapi.CSRFHeader: a.csrf, "Content-Type": "application/json"}, string(body))
			var got adminapi.AdminGroupSaved
			if err := json.Unmarshal([]byte(out), &got); err != nil || code != http.StatusOK {
				t.Fatalf("admin-group: %d %s: %v", code, out, err)
			}
			if diff := cmp.Diff([]any{tc.group, tc.found, tc.members, 2, 1, a.csrf}, []any{got.AdminGroup, got.GroupFound, got.GroupMembers, got.Users, got.Groups, got.CSRF}); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}
