package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// auditRow is an audit record without what varies between runs.
type auditRow struct {
	Kind, Actor, Source, Action, Target, Detail, Outcome string
}

func auditRows(t *testing.T, st store.Store, tenant string) ([]auditRow, []store.AuditRecord) {
	t.Helper()
	recs, err := st.ListAudit(context.Background(), tenant, time.Time{}, 0)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	var out []auditRow
	for _, r := range recs {
		out = append(out, auditRow{r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome})
	}
	return out, recs
}

func TestAuditWrites(t *testing.T) {
	var aw *AuditWriter
	f := newFixtureWith(t, Config{})
	aw = NewAuditWriter(f.store, nil)
	f.server.audit = aw
	actor := "current:" + fmt.Sprintf("%x", mustTenant(t, f.store, "acme").TokenHash)[:8]

	const password = "s3cret-Passw0rd!"
	created := f.call(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","password":"`+password+`","emails":[{"value":"alice.mail@example.com"}],"active":true}`, nil)
	if created.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", created.status, created.raw)
	}
	id := str(created.body["id"])
	f.call(t, "PATCH", "/Users/"+id, patchBody(`[{"op":"replace","path":"emails[value eq \"alice.mail@example.com\"].primary","value":true},{"op":"replace","value":{"displayName":"Alice A"}}]`), nil)
	f.call(t, "PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","active":false}`, nil)
	f.call(t, "GET", "/Users/"+id, "", nil) // reads are not audited
	f.call(t, "POST", "/Users", `{"userName":"mallory@example.com"}`, map[string]string{"Authorization": "Bearer wrong-token"})
	bulk := f.call(t, "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","bulkId":"b1","path":"/Users","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","name":{"givenName":"Bob"}}},
		{"method":"DELETE","path":"/Users/`+id+`"}]}`, nil)
	if bulk.status != http.StatusOK {
		t.Fatalf("Bulk: %d %s", bulk.status, bulk.raw)
	}
	bobLoc := str(asMaps(bulk.body["Operations"])[0]["location"])
	bobID := bobLoc[strings.LastIndex(bobLoc, "/")+1:]
	f.call(t, "DELETE", "/Users/"+bobID, "", nil)
	f.call(t, "DELETE", "/Users/"+bobID, "", nil) // 404
	aw.Close()

	got, recs := auditRows(t, f.store, "acme")
	want := []auditRow{
		{"scim", actor, "127.0.0.1", "create", "User/" + id, `["active","emails","password","userName"]`, "201"},
		{"scim", actor, "127.0.0.1", "patch", "User/" + id, `["displayName","emails.primary"]`, "200"},
		{"scim", actor, "127.0.0.1", "replace", "User/" + id, `["active","userName"]`, "200"},
		{"scim", "", "127.0.0.1", "auth-refused", "User", `{"count":1,"method":"POST","reason":"wrong-token"}`, "401"}, // the body of a refused write is not read
		{"scim", actor, "127.0.0.1", "create", "User/" + bobID, `["name","userName"]`, "201"},
		{"scim", actor, "127.0.0.1", "delete", "User/" + id, "", "204"},
		{"scim", actor, "127.0.0.1", "delete", "User/" + bobID, "", "204"},
		{"scim", actor, "127.0.0.1", "delete", "User/" + bobID, "", "404"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	// No personal data but identifiers, no secret: grep the raw rows.
	raw, _ := json.Marshal(recs)
	for _, v := range []string{"alice", "bob@", "mallory", "example.com", password, f.acmeToken, "wrong-token", "Bob"} {
		if strings.Contains(string(raw), v) {
			t.Errorf("audit rows hold %q:\n%s", v, raw)
		}
	}
}

func mustTenant(t *testing.T, st store.Store, name string) store.Tenant {
	t.Helper()
	tn, err := st.GetTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// blockStore blocks AppendAudit until release is closed.
type blockStore struct {
	store.Store
	release chan struct{}
	got     chan int
}

func (b *blockStore) AppendAudit(_ context.Context, _ string, recs []store.AuditRecord) error {
	<-b.release
	b.got <- len(recs)
	return nil
}

func TestAuditWriterNeverBlocks(t *testing.T) {
	bs := &blockStore{release: make(chan struct{}), got: make(chan int, 1000)}
	var logs bytes.Buffer
	aw := NewAuditWriter(bs, slog.New(slog.NewTextHandler(&logs, nil)))
	added := 0
	start := time.Now()
	for range 3 * auditQueue {
		if aw.Add("acme", store.AuditRecord{Kind: store.AuditAdmin}) {
			added++
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Add took %v with a stuck store", d)
	}
	if added >= 3*auditQueue || added < auditQueue {
		t.Errorf("added %d of %d; want the queue's %d and a batch or so", added, 3*auditQueue, auditQueue)
	}
	close(bs.release)
	aw.Close()
	close(bs.got)
	written := 0
	for n := range bs.got {
		written += n
	}
	if written != added {
		t.Errorf("wrote %d records after Close, want the %d added", written, added)
	}
	if aw.Add("acme", store.AuditRecord{}) {
		t.Error("Add after Close = true")
	}
	if want := fmt.Sprintf("dropped=%d", 3*auditQueue-added); !strings.Contains(logs.String(), want) {
		t.Errorf("log %q does not count the drops (%s)", logs.String(), want)
	}
}

func TestAttrNames(t *testing.T) {
	tests := []struct {
		name, method, body string
		want               []string
	}{
		{"post", "POST", `{"schemas":[],"userName":"x","name":{"givenName":"y"}}`, []string{"name", "userName"}},
		{"patch paths", "PATCH", `{"Operations":[{"op":"add","path":"members","value":[{"value":"1"}]},{"op":"remove","path":"members[value eq \"2\"]"}]}`, []string{"members"}},
		{"patch no path", "PATCH", `{"Operations":[{"op":"replace","value":{"active":false}}]}`, []string{"active"}},
		{"delete", "DELETE", `{}`, nil},
		{"not json", "POST", `userName=x`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, attrNames(tc.method, []byte(tc.body))); diff != "" {
				t.Errorf("attrNames (-want +got):\n%s", diff)
			}
		})
	}
}

// benchSeq numbers the users the benchmarks create, across runs.
var benchSeq atomic.Int64

// newFixtureOn is newFixtureWith on backend: "sqlite" (a temporary
// SQLite file) or "postgres" (a fresh PostgreSQL schema, pgtest).
func newFixtureOn(t testing.TB, backend string, cfg Config) *fixture {
	t.Helper()
	if backend == "sqlite" {
		return newFixtureWith(t, cfg)
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, pgtest.Schema(t, "idpkit_server_", false), sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, acmeToken: secret.New(), betaToken: secret.New()}
	for name, tok := range map[string]string{"acme": f.acmeToken, "beta": f.betaToken} {
		if err := st.CreateTenant(ctx, store.Tenant{Name: name, TokenHash: secret.Hash(tok)}); err != nil {
			t.Fatalf("create tenant %s: %v", name, err)
		}
	}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	cfg.Store, cfg.PublicURL = st, f.srv.URL
	f.server = New(cfg)
	f.server.Register(mux)
	return f
}

// BenchmarkOktaRequestsAudit is BenchmarkOktaRequests's writes with the
// audit trail on, to compare with it, on SQLite and on PostgreSQL.
func BenchmarkOktaRequestsAudit(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("db=%s/audit=%v", backend, on), func(b *testing.B) {
				f := newFixtureOn(b, backend, Config{Activity: activity.New(0)})
				if on {
					aw := NewAuditWriter(f.store, nil)
					f.server.audit = aw
					b.Cleanup(aw.Close)
				}
				seedUsers(b, f, 100)
				c := benchClient(f)
				ctx := context.Background()
				b.Run("create user", func(b *testing.B) {
					for b.Loop() {
						n := benchSeq.Add(1)
						if _, err := c.Create(ctx, "Users", map[string]any{"userName": fmt.Sprintf("new%08d@example.com", n), "active": true}); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("patch user", func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						if _, err := c.Patch(ctx, "Users", fmt.Sprintf("bench-%05d", i%100), []scim.PatchOperation{{Op: "replace", Value: json.RawMessage(fmt.Sprintf(`{"title":"t%d"}`, i))}}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}
