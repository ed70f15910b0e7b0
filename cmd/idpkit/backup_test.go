package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// startServe runs idpkit serve on db until the test ends and returns its
// base URL.
func startServe(t *testing.T, db string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "--addr", addr, "--db", db}, &bytes.Buffer{}, &serveErr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve on %s exited %d: %s", db, code, serveErr.String())
		}
	})
	waitHealthy(t, "http://"+addr)
	return "http://" + addr
}

// scimUsers returns the totalResults of GET /Users.
func scimUsers(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/Users?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ TotalResults int }
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&list) != nil {
		t.Fatalf("GET %s/Users answered %s", base, resp.Status)
	}
	return list.TotalResults
}

// TestBackupRestoreCommands backs up a database that idpkit serve keeps
// writing over SCIM, serves the backup, restores it, and checks the
// refusals of both commands.
func TestBackupRestoreCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "idpkit.db")
	code, out, errs := runCmd(t, ctx, "tenant", "create", "acme", "--db", live)
	if code != 0 {
		t.Fatalf("tenant create exited %d: %s", code, errs)
	}
	var created struct{ Token string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, ctx, "seed", "--db", live, "--tenant", "acme", "--users", "2000"); code != 0 {
		t.Fatalf("seed exited %d: %s", code, errs)
	}
	base := startServe(t, live)

	// Okta keeps provisioning while the backup runs.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var posted atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; wctx.Err() == nil; i++ {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"live%d@example.com","active":true}`, i)
			req, _ := http.NewRequestWithContext(wctx, "POST", base+"/t/acme/scim/v2/Users", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+created.Token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 201 {
				posted.Add(1)
			}
		}
	}()
	for posted.Load() < 5 {
		if wctx.Err() != nil {
			t.Fatal("no user was created")
		}
		time.Sleep(time.Millisecond)
	}
	file := filepath.Join(dir, "backup.db")
	code, out, errs = runCmd(t, ctx, "backup", "--db", live, file)
	stop()
	wg.Wait()
	if code != 0 || !strings.Contains(out, "backed up "+live+" to "+file+": 1 tenant, ") {
		t.Fatalf("backup exited %d\nstdout: %s\nstderr: %s", code, out, errs)
	}

	// The backup is a database idpkit serve opens, with the same token.
	n := scimUsers(t, startServe(t, "sqlite:"+file)+"/t/acme/scim/v2", created.Token)
	if n < 2000 || n > 2000+int(posted.Load()) {
		t.Errorf("the served backup has %d users; want between 2000 and %d", n, 2000+posted.Load())
	}

	restored := "sqlite:" + filepath.Join(dir, "restored.db")
	code, out, errs = runCmd(t, ctx, "restore", "--db", restored, file)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("restored %s from %s: 1 tenant, %d users, 0 groups", restored, file, n)) {
		t.Fatalf("restore exited %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	st, err := sqlstore.Open(ctx, restored, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.CountResources(ctx, "acme", store.TypeUser, nil); err != nil || got != n {
		t.Errorf("restored database counts %d users, %v; want %d", got, err, n)
	}
	st.Close()

	for _, tc := range []struct {
		name string
		args []string
		env  string // IDPKIT_DB
		code int
		msg  string
	}{
		{"backup over the file", []string{"backup", "--db", live, file}, "", 1, "backup.db: file exists; pass --force to replace it"},
		{"backup --force", []string{"backup", "--db", live, "--force", file}, "", 0, "1 tenant,"},
		{"backup from IDPKIT_DB", []string{"backup", filepath.Join(dir, "env.db")}, live, 0, "1 tenant,"},
		{"backup of postgres", []string{"backup", "--db", "postgres://idpkit:pw@db.example.com/idpkit", filepath.Join(dir, "pg.db")}, "", 1, "for PostgreSQL use pg_dump --format=custom"},
		{"restore into postgres", []string{"restore", "--db", "postgres://idpkit@db.example.com/idpkit", file}, "", 1, "pg_restore --clean"},
		{"restore over a database with tenants", []string{"restore", "--db", restored, file}, "", 1, "holds 1 tenants: target database is not empty; pass --force to replace it"},
		{"restore while serve runs", []string{"restore", "--db", live, "--force", file}, "", 1, "target database is in use (stop idpkit serve"},
		{"restore of a missing backup", []string{"restore", "--db", restored, filepath.Join(dir, "nope.db")}, "", 1, "nope.db: no such file"},
		{"backup without FILE", []string{"backup", "--db", live}, "", 2, "backup takes one FILE"},
		{"restore with two files", []string{"restore", file, file}, "", 2, "restore takes one FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("IDPKIT_DB", tc.env)
			}
			code, out, errs := runCmd(t, ctx, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.msg) {
				t.Errorf("%q exited %d; want %d saying %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.msg, out, errs)
			}
			if strings.Contains(out+errs, ":pw@") {
				t.Errorf("a password was printed: %s", out+errs)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "pg.db")); err == nil {
		t.Error("a refused backup wrote its file")
	}
}
