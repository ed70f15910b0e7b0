//go:build !js

package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// wrongServer is idpkit's SCIM server on a temporary SQLite file behind a
// switchable fault, with one tenant holding data that is not the checks'.
type wrongServer struct {
	srv    *httptest.Server
	target *Target
	fault  atomic.Pointer[http.Handler]
	seed   []string // paths of the tenant's own users and group
	seeded map[string]string
}

func startWrongServer(t *testing.T) *wrongServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(memDir(t), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws := &wrongServer{}
	ws.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*ws.fault.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(ws.srv.Close)
	cfg := app.Config{Store: st, PublicURL: ws.srv.URL, HTTPClient: ws.srv.Client()}
	h := app.New(cfg)
	ws.fault.Store(&h)
	created, err := app.Tenants(cfg).Create(ctx, "wrong")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := app.Tenants(cfg).Create(ctx, "peer")
	if err != nil {
		t.Fatal(err)
	}
	ws.target = &Target{BaseURL: created.SCIMBaseURL, Token: created.Token, Client: ws.srv.Client(),
		Peer: &Target{BaseURL: peer.SCIMBaseURL, Token: peer.Token, Client: ws.srv.Client()}}
	ws.plant(t)
	return ws
}

// plant gives the tenant users and a group of its own, as a server in use
// has; the checks must leave them alone.
func (ws *wrongServer) plant(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	p := &probe{}
	var ids []string
	for _, n := range []string{"resident.one", "resident.two", "Resident.Three"} {
		x, err := ws.target.send(ctx, "POST", "/Users", oktaUser(n+"@example.org", "Resi", "Dent"))
		if err != nil || !p.status(x, 201) {
			t.Fatalf("seeding %s: %v %v", n, err, p.err())
		}
		ids = append(ids, str(get(x.JSON, "id")))
	}
	gid, err := ws.target.createGroup(ctx, p, "Residents", ids...)
	if err != nil {
		t.Fatal(err)
	}
	ws.target.created = nil // the seed is not the checks' to delete
	for _, id := range ids {
		ws.seed = append(ws.seed, "/Users/"+id)
	}
	ws.seed = append(ws.seed, "/Groups/"+gid)
	ws.seeded = ws.snapshot(t)
}

// snapshot reads the seed resources, without meta.
func (ws *wrongServer) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, path := range ws.seed {
		x, err := ws.target.send(context.Background(), "GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := asMap(x.JSON)
		delete(m, "meta")
		out[path] = strconv.Itoa(x.Status) + " " + jsonString(m)
	}
	return out
}

// memDir is a temporary directory in memory when the machine has one
// (/dev/shm): SQLite's synchronous=FULL then costs no disk flushes, which
// keeps the whole catalogue at a few seconds per run.
func memDir(t *testing.T) string {
	t.Helper()
	if d, err := os.MkdirTemp("/dev/shm", "idpkit-check-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}

// with runs f with the server behind fault; nil means the real server.
func (ws *wrongServer) with(real http.Handler, f fault, run func()) {
	h := real
	if f != nil {
		h = f(real)
	}
	ws.fault.Store(&h)
	defer ws.fault.Store(&real)
	run()
}

func TestWrongServers(t *testing.T) {
	ws := startWrongServer(t)
	real := *ws.fault.Load()
	ctx := context.Background()
	tests := []struct {
		name     string
		fault    fault
		mustFail []string // nil for the baseline: every check passes
	}{
		{"baseline: idpkit's own server passes every check", nil, nil},
		{"userName compared case-sensitively", caseSensitiveUserName, []string{"okta-spec-09-filter-case", "schema-uniqueness-case", "filter-case-insensitive"}},
		// Every failure is of a filter the check tests, not of a lookup
		// it could do without.
		{"only userName eq and externalId eq filters", eqOnly, []string{"entra-filter-work-email", "entra-filter-group-displayname", "entra-filter-group-member", "entra-zero-results",
			"filter-eq", "filter-ne", "filter-co", "filter-sw", "filter-ew", "filter-pr", "filter-gt", "filter-ge", "filter-lt", "filter-le", "filter-precedence",
			"filter-value-path", "filter-value-path-subattr", "filter-sub-attribute", "filter-urn-attribute", "filter-meta-dates", "filter-boolean",
			"filter-case-insensitive", "filter-escapes", "filter-group-display-name", "filter-group-membership",
			// These page or sort a set scoped with userName sw, or find
			// groups with displayName eq as Okta's Group Push does.
			"paging-disjoint", "paging-numbers", "paging-sort-ascending", "paging-sort-descending", "paging-sort-sub-attribute",
			"paging-excluded-attributes", "schema-meta",
			// Its rule is that id eq finds nothing of another tenant.
			"tenant-data-isolation"}},
		{"op names case-sensitive", caseSensitiveOps, []string{"entra-capitalised-ops", "entra-capitalised-ops-groups"}},
		{"path-less PATCH ignored", pathlessIgnored, []string{"okta-deactivate", "okta-group-push", "okta-reassign-inactive", "okta-rename-keeps-members",
			"patch-pathless", "patch-pathless-attribute-paths", "patch-readonly", "patch-wrong-type", "entra-pathless-replace", "entra-string-boolean-post"}},
		{"members remove with a value list empties the group", removeValueListEmpties, []string{"entra-remove-listed-members", "entra-remove-members-value-list"}},
		{"filter ignored", filterIgnored, []string{"okta-spec-03-filter-unknown", "okta-spec-09-filter-case", "okta-assign-lookup", "okta-reassign-inactive",
			"entra-filter-externalid", "entra-filter-work-email", "entra-filter-group-displayname", "entra-filter-group-member", "entra-zero-results", "filter-precedence", "filter-invalid-syntax"}},
		{"responses labelled text/plain", textPlain, []string{"media-response-type", "schema-discovery-config", "okta-spec-04-unknown-id", "okta-create-user-body", "entra-zero-results", "patch-invalid-path"}},
		{"If-Match ignored", ifMatchIgnored, []string{"etag-if-match-stale-put", "etag-if-match-stale-patch", "etag-if-match-stale-delete", "etag-if-none-match", "bulk-version-412"}},
		{"bulk limits not enforced", bulkLimitsIgnored, []string{"bulk-max-operations", "bulk-max-payload"}},
		{"bulk failOnErrors ignored", failOnErrorsIgnored, []string{"bulk-fail-on-errors"}},
		{"any request Content-Type accepted (415 never sent)", anyContentType, []string{"media-unsupported"}},
		{"PATCH operations applied in reverse order", rewritePatch(func(ops []map[string]any) []map[string]any { slices.Reverse(ops); return ops }), []string{"patch-ordered"}},
		{"PATCH paths with a sub-attribute ignored", rewritePatch(func(ops []map[string]any) []map[string]any {
			return slices.DeleteFunc(ops, func(op map[string]any) bool {
				p := str(op["path"])
				return strings.Contains(p, ".") && !strings.Contains(p, "[")
			})
		}), []string{"patch-add-path", "patch-replace-path", "patch-remove-path"}},
		{"PATCH value filters ignored", rewritePatch(func(ops []map[string]any) []map[string]any {
			for _, op := range ops {
				if p, ok := op["path"].(string); ok {
					op["path"] = valueFilter.ReplaceAllString(p, "")
				}
			}
			return ops
		}), []string{"patch-value-path-sub", "patch-value-path-whole", "entra-value-path-add-creates", "patch-value-path-replace-notarget", "patch-value-path-remove-nomatch", "okta-group-push"}},
		{"replace of members appends", rewritePatch(func(ops []map[string]any) []map[string]any {
			for _, op := range ops {
				if strings.EqualFold(str(op["op"]), "replace") && strings.EqualFold(str(op["path"]), "members") {
					op["op"] = "add"
				}
			}
			return ops
		}), []string{"okta-group-push-batch"}},
		{"PATCH errors answered 204", patchErrorsSwallowed, []string{"patch-remove-no-path", "patch-value-path-replace-notarget", "patch-atomic", "patch-invalid-path", "patch-readonly",
			"patch-wrong-type", "patch-unknown-op", "patch-empty-operations", "entra-string-boolean"}},
		{"a count above the maximum refused", countAboveMaxRefused, []string{"paging-count-above-max"}},
		{"PATCH answers 200 with an empty object", patchEmpty200, []string{"patch-response", "entra-group-patch-status"}},
		{"every email reads as primary", allPrimary, []string{"patch-primary-unique", "patch-value-path-sub", "patch-value-path-whole"}},
		{"Resources left out of an empty list", emptyWithoutResources, []string{"entra-zero-results"}},
		{"unknown attributes on PUT refused", putUnknownRefused, []string{"entra-put-unknown-attributes"}},
		{"list order changes between requests", unstableOrder(), []string{"okta-import-paging"}},
		{"bulkId references dropped", bulkIDsDropped, []string{"bulk-create-bulkid", "bulk-forward-reference"}},
		{"bulk works but is advertised as unsupported", bulkHidden, []string{"bulk-config"}},
		{"PATCH not atomic", nonAtomic, []string{"patch-atomic"}},
		{"noTarget answered 204", noTargetSwallowed, []string{"patch-value-path-replace-notarget", "patch-atomic"}},
		{"password returned", passwordReturned, []string{"okta-create-user-body"}},
		{"PUT merges instead of replacing", putMerges, []string{"okta-profile-put", "schema-put-replaces-all"}},
	}
	// The rows in whole run every check, not only mustFail, so that
	// exactly mustFail fail: a server whose only bug is op case fails the
	// op-case checks and nothing else.
	whole := map[string]bool{"op names case-sensitive": true, "only userName eq and externalId eq filters": true}
	all := SCIM()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := all
			if tt.mustFail != nil && !whole[tt.name] {
				checks = nil
				for _, id := range tt.mustFail {
					checks = append(checks, byID(t, id))
				}
			}
			var results []Result
			start := time.Now()
			ws.with(real, tt.fault, func() { results = RunAll(ctx, checks, ws.target, nil) })
			t.Logf("%d checks in %v", len(checks), time.Since(start).Round(time.Millisecond))
			var failed []string
			for _, r := range results {
				if r.Duration > time.Second {
					t.Logf("%s took %v", r.ID, r.Duration.Round(time.Millisecond))
				}
				if r.Skipped {
					t.Logf("%s skipped: %s", r.ID, r.Error)
					if !strings.HasPrefix(r.ID, "bulk-") {
						t.Errorf("%s is skipped against idpkit's own server: %s", r.ID, r.Error)
					}
					continue
				}
				if !r.Passed {
					failed = append(failed, r.ID)
					if tt.mustFail == nil || whole[tt.name] && !slices.Contains(tt.mustFail, r.ID) {
						t.Errorf("%s fails against idpkit's own server:\n%s", r.ID, r.Error)
					} else if !strings.Contains(r.Error, "request:") || !strings.Contains(r.Error, "response:") {
						t.Errorf("%s: the failure does not show the request and the response:\n%s", r.ID, r.Error)
					}
				}
			}
			if tt.mustFail != nil {
				if diff := cmp.Diff(tt.mustFail, failed); diff != "" {
					t.Errorf("checks that failed against the wrong server (-want +got):\n%s", diff)
				}
			}
		})
	}
	if diff := cmp.Diff(ws.seeded, ws.snapshot(t)); diff != "" {
		t.Errorf("the checks changed data that was not theirs (-before +after):\n%s", diff)
	}
}
