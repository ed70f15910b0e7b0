package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// auditBackend is a database the audit tests run on: its DSN, and a
// database/sql handle on it to read the audit table's raw rows.
type auditBackend struct {
	name string
	open func(t *testing.T) (dsn string, raw func() (*sql.DB, error))
}

var auditBackends = []auditBackend{
	{"sqlite", func(t *testing.T) (string, func() (*sql.DB, error)) {
		path := filepath.Join(t.TempDir(), "idpkit.db")
		return "sqlite:" + path, func() (*sql.DB, error) {
			driver := "sqlite"
			if !slices.Contains(sql.Drivers(), driver) {
				driver = "sqlite3"
			}
			return sql.Open(driver, path)
		}
	}},
	{"postgres", func(t *testing.T) (string, func() (*sql.DB, error)) {
		dsn := pgtest.Schema(t, "idpkit_test_", true)
		return dsn, func() (*sql.DB, error) { return sql.Open("pgx", dsn) }
	}},
}

// TestAuditProvisioningRun provisions through the app with the audit on,
// then reads the trail with idpkit audit (table and --json), and greps
// the audit table's raw rows for every userName, email, password and
// token the run sent: none may be there.
func TestAuditProvisioningRun(t *testing.T) {
	for _, b := range auditBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn, raw := b.open(t)
			t.Setenv("IDPKIT_DB", "")
			t.Setenv("IDPKIT_PUBLIC_URL", "http://127.0.0.1:8080")
			code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", dsn)
			if code != 0 {
				t.Fatalf("tenant create: exit %d: %s", code, errs)
			}
			var created struct{ Token string }
			if err := json.Unmarshal([]byte(out), &created); err != nil {
				t.Fatal(err)
			}
			st, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			aw := server.NewAuditWriter(st, slog.New(slog.DiscardHandler))
			srv := httptest.NewServer(app.New(app.Config{Store: st, PublicURL: "http://127.0.0.1", Audit: aw, DisableMetrics: true}))
			defer srv.Close()
			const password = "Pa55word-Secret!"
			secrets := []string{created.Token, password, "wrong-token-value"}
			do := func(method, path, token, body string) (int, map[string]any) {
				req, _ := http.NewRequest(method, srv.URL+"/t/acme/scim/v2"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var m map[string]any
				json.NewDecoder(resp.Body).Decode(&m)
				return resp.StatusCode, m
			}
			var ids []string
			for i := range 3 {
				user := fmt.Sprintf("person%d@corp.example", i)
				email := fmt.Sprintf("mail%d@corp.example", i)
				secrets = append(secrets, user, email)
				st, m := do("POST", "/Users", created.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+user+`","password":"`+password+`","emails":[{"value":"`+email+`","primary":true}],"name":{"givenName":"Given`+fmt.Sprint(i)+`"},"active":true}`)
				if st != http.StatusCreated {
					t.Fatalf("POST: %d %v", st, m)
				}
				ids = append(ids, m["id"].(string))
				secrets = append(secrets, "Given"+fmt.Sprint(i))
			}
			do("PATCH", "/Users/"+ids[0], created.Token, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","value":{"password":"`+password+`"}}]}`)
			do("DELETE", "/Users/"+ids[1], created.Token, "")
			do("POST", "/Users", "wrong-token-value", `{"userName":"intruder@corp.example"}`)
			aw.Close()

			db, err := raw()
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.Query(`SELECT tenant, at, kind, actor, source, action, target, detail, outcome FROM audit`)
			if err != nil {
				t.Fatal(err)
			}
			var dump bytes.Buffer
			n := 0
			for rows.Next() {
				var cols [9]sql.NullString
				ptrs := make([]any, len(cols))
				for i := range cols {
					ptrs[i] = &cols[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, c := range cols {
					dump.WriteString(c.String + "\t")
				}
				dump.WriteString("\n")
				n++
			}
			rows.Close()
			if n != 7 {
				t.Errorf("audit table has %d rows, want 7:\n%s", n, dump.String())
			}
			for _, s := range append(secrets, "intruder", "corp.example") {
				if strings.Contains(dump.String(), s) {
					t.Errorf("audit table holds %q:\n%s", s, dump.String())
				}
			}

			code, out, errs = runCmd(t, context.Background(), "audit", "acme", "--db", dsn, "--json", "--since", "1h")
			if code != 0 {
				t.Fatalf("audit --json: exit %d: %s", code, errs)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var l auditLine
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				got = append(got, strings.Join([]string{l.Kind, l.Action, l.Target, string(l.Detail), l.Outcome}, " "))
			}
			want := []string{
				"admin tenant-created   ok",
				"scim create User/" + ids[0] + ` ["active","emails","name","password","userName"] 201`,
				"scim create User/" + ids[1] + ` ["active","emails","name","password","userName"] 201`,
				"scim create User/" + ids[2] + ` ["active","emails","name","password","userName"] 201`,
				"scim patch User/" + ids[0] + ` ["active","password"] 200`,
				"scim delete User/" + ids[1] + "  204",
				`scim auth-refused User {"count":1,"method":"POST","reason":"wrong-token"} 401`,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit --json (-want +got):\n%s", diff)
			}
			code, out, _ = runCmd(t, context.Background(), "audit", "acme", "--db", dsn)
			if code != 0 || !strings.HasPrefix(out, "TIME") || strings.Count(out, "\n") != 8 || !strings.Contains(out, "User/"+ids[2]) {
				t.Errorf("audit table: exit %d:\n%s", code, out)
			}
			code, out, _ = runCmd(t, context.Background(), "audit", "acme", "--db", dsn, "--since", time.Now().Add(time.Hour).Format(time.RFC3339))
			if code != 0 || strings.Count(out, "\n") != 1 {
				t.Errorf("audit --since the future: exit %d:\n%s", code, out)
			}
		})
	}
}

func TestAuditCLIErrors(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	t.Setenv("IDPKIT_DB", "")
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no name", []string{"audit", "--db", db}, 2, "usage"},
		{"bad since", []string{"audit", "acme", "--db", db, "--since", "yesterday"}, 2, "neither a duration"},
		{"no database", []string{"audit", "acme", "--db", db}, 1, "no database " + db + " (there is no file"},
		{"unknown tenant", []string{"audit", "nope", "--db", db}, 1, `no tenant named "nope"`},
	} {
		if tc.name == "unknown tenant" {
			if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 0 {
				t.Fatalf("tenant create: %s", errs)
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(t, context.Background(), tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.err)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"24h", now.Add(-24 * time.Hour), true},
		{"15m", now.Add(-15 * time.Minute), true},
		{"2026-01-01T00:00:00Z", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"-1h", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSince(tc.in, now)
			if (err == nil) != tc.ok || !got.Equal(tc.want) {
				t.Errorf("parseSince(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

// TestAuditRetention: a prune pass deletes the records older than the
// retention, of every tenant, and keeps the rest.
func TestAuditRetention(t *testing.T) {
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, tn := range []string{"acme", "beta"} {
		err := st.AppendAudit(ctx, tn, []store.AuditRecord{
			{At: now.Add(-91 * 24 * time.Hour), Kind: store.AuditSCIM, Action: "create", Outcome: "201"},
			{At: now.Add(-89 * 24 * time.Hour), Kind: store.AuditSCIM, Action: "delete", Outcome: "204"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pruneAuditOnce(ctx, st, defaultAuditRetention, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	for _, tn := range []string{"acme", "beta"} {
		recs, err := st.ListAudit(ctx, tn, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Action)
		}
		if diff := cmp.Diff([]string{"delete"}, got); diff != "" {
			t.Errorf("%s after prune (-want +got):\n%s", tn, diff)
		}
	}
	// The loop stops with its context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	done := make(chan struct{})
	go func() { pruneAudit(cctx, st, time.Nanosecond, time.Now, slog.New(slog.DiscardHandler)); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruneAudit did not stop with its context")
	}
}

// TestAuditTableMarks: the table marks what its columns would hide: a
// test sign-in from the dialog, and a summary's count of refusals.
func TestAuditTableMarks(t *testing.T) {
	at := time.Date(2026, 12, 3, 22, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	err := printAudit(&out, []store.AuditRecord{
		{At: at, Kind: "signin", Actor: "00u1", Action: "signed-in", Target: "User/1", Detail: []byte(`{"test":true}`), Outcome: "ok"},
		{At: at, Kind: "scim", Source: "192.0.2.1", Action: "auth-refused", Target: "User", Detail: []byte(`{"count":12,"method":"GET","reason":"wrong-token"}`), Outcome: "401"},
		{At: at, Kind: "scim", Actor: "current:0123abcd", Action: "patch", Target: "User/1", Detail: []byte(`["active"]`), Outcome: "200"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		got = append(got, strings.Fields(line)[4])
	}
	if diff := cmp.Diff([]string{"signed-in", "auth-refused", "patch"}, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	for _, want := range []string{"signed-in (test)", "auth-refused ×12"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table does not say %q:\n%s", want, out.String())
		}
	}
}
