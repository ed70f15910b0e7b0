package cluster

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for PRAGMA integrity_check
)

// acked is a user whose POST got 201 Created.
type acked struct{ userName, id string }

// TestCrash kills `idpkit serve` with SIGKILL while 8 clients create users
// as fast as they can, restarts it on the same database, and checks that
// every user acknowledged with 201 is there and that the database is
// sound.
func TestCrash(t *testing.T) {
	tests := []struct {
		name string
		dsn  func(t *testing.T) (dsn, sqlitePath string)
	}{
		{"sqlite", func(t *testing.T) (string, string) {
			p := filepath.Join(t.TempDir(), "idpkit.db")
			return "sqlite:" + p, p
		}},
		{"postgres", func(t *testing.T) (string, string) { return postgresSchema(t), "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, sqlitePath := tt.dsn(t)
			in := startServe(t, dsn)
			in.waitReady(t)
			tok := createTenant(t, dsn, in.URL, "acme").Token
			client := httpClient(nil)

			const (
				workers = 8
				enough  = 1500 // acknowledged writes after which the kill comes
				window  = 1500 * time.Millisecond
			)
			var (
				mu      sync.Mutex
				ack     []acked
				sent    atomic.Int64
				killed  atomic.Bool
				enoughc = make(chan struct{})
				once    sync.Once
				wg      sync.WaitGroup
			)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			base := in.URL + "/t/acme/scim/v2"
			for w := range workers {
				wg.Go(func() {
					for i := 0; ctx.Err() == nil && !killed.Load(); i++ {
						name := fmt.Sprintf("crash-%d-%05d@example.com", w, i)
						sent.Add(1)
						status, body, err := scimCall(ctx, client, "POST", base+"/Users", tok, userBody(name))
						if err != nil {
							if killed.Load() || ctx.Err() != nil {
								return
							}
							t.Errorf("POST %s before the kill: %v", name, err)
							return
						}
						if status != http.StatusCreated {
							t.Errorf("POST %s: %d %v", name, status, body)
							return
						}
						id, _ := body["id"].(string)
						mu.Lock()
						ack = append(ack, acked{name, id})
						n := len(ack)
						mu.Unlock()
						if n >= enough {
							once.Do(func() { close(enoughc) })
						}
					}
				})
			}
			select {
			case <-time.After(window):
			case <-enoughc:
			}
			killed.Store(true)
			in.kill(t)
			cancel()
			wg.Wait()
			mu.Lock()
			acks := append([]acked(nil), ack...)
			mu.Unlock()
			if len(acks) == 0 {
				t.Fatal("no POST was acknowledged before the kill")
			}
			t.Logf("%d POSTs sent, %d acknowledged with 201 before SIGKILL", sent.Load(), len(acks))

			if sqlitePath != "" {
				integrityCheck(t, sqlitePath)
			}
			again := startServe(t, dsn)
			again.waitReady(t)
			base = again.URL + "/t/acme/scim/v2"
			missing := verifyAcked(t, client, base, tok, acks)
			if len(missing) > 0 {
				t.Errorf("%d of %d acknowledged users are missing after the restart, e.g. %v", len(missing), len(acks), missing[:min(5, len(missing))])
			}
			total := totalResults(t, client, base, tok, "Users", "")
			if total < len(acks) || int64(total) > sent.Load() {
				t.Errorf("totalResults %d after the restart; want between the %d acknowledged and the %d sent", total, len(acks), sent.Load())
			}
			if listed := listAll(t, client, base, tok); listed != total {
				t.Errorf("paging through every user listed %d, totalResults says %d", listed, total)
			}
			if status, body, err := scimCall(t.Context(), client, "POST", base+"/Users", tok, userBody("after-restart@example.com")); err != nil || status != http.StatusCreated {
				t.Errorf("POST after the restart: %d %v %v", status, body, err)
			}
		})
	}
}

// integrityCheck runs PRAGMA integrity_check on the SQLite file (which
// also replays its write-ahead log) and fails unless it says ok.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("PRAGMA integrity_check: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != "ok" {
		t.Fatalf("PRAGMA integrity_check after SIGKILL: %q", got)
	}
}

// verifyAcked looks every acknowledged user up by id and by a userName
// filter, 8 at a time, and returns the userNames not found both ways.
func verifyAcked(t *testing.T, c *http.Client, base, tok string, acks []acked) []string {
	t.Helper()
	var (
		mu      sync.Mutex
		missing []string
		wg      sync.WaitGroup
		next    atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(acks) {
					return
				}
				a := acks[i]
				problem := ""
				status, body, err := scimCall(t.Context(), c, "GET", base+"/Users/"+a.id, tok, nil)
				switch {
				case err != nil:
					problem = err.Error()
				case status != http.StatusOK || body["userName"] != a.userName:
					problem = fmt.Sprintf("GET /Users/%s: %d", a.id, status)
				default:
					status, body, err = scimCall(t.Context(), c, "GET", base+"/Users?filter="+url.QueryEscape(`userName eq "`+a.userName+`"`), tok, nil)
					if n, _ := body["totalResults"].(float64); err != nil || status != http.StatusOK || n != 1 {
						problem = fmt.Sprintf("filter userName eq: %d, totalResults %v, %v", status, body["totalResults"], err)
					}
				}
				if problem != "" {
					mu.Lock()
					missing = append(missing, a.userName+" ("+problem+")")
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return missing
}

// listAll pages through /Users 500 at a time and returns how many it saw.
func listAll(t *testing.T, c *http.Client, base, tok string) int {
	t.Helper()
	seen := 0
	for start := 1; ; {
		status, body, err := scimCall(t.Context(), c, "GET", fmt.Sprintf("%s/Users?startIndex=%d&count=500", base, start), tok, nil)
		if err != nil || status != http.StatusOK {
			t.Fatalf("list users from %d: %d %v %v", start, status, body, err)
		}
		page, _ := body["Resources"].([]any)
		seen += len(page)
		if len(page) == 0 {
			return seen
		}
		start += len(page)
	}
}
