// Package load is an Okta-pattern load tester for any SCIM 2.0 service
// (RFC 7644). It replays, at scale, the requests Okta's provisioning sends:
//
//   - filter-then-create (RFC 7644 §3.4.2.2 and §3.3):
//     GET /Users?filter=userName eq "…"&startIndex=1&count=100, then
//     POST /Users with Okta's body, a random password included;
//   - profile pushes (§3.4.1 and §3.5.1): GET /Users/{id}, then PUT of that
//     body modified;
//   - deactivations (§3.5.2): a PATCH without a path,
//     {"op":"replace","value":{"active":false}}, for every second user;
//   - group pushes: POST /Groups with no members, then PATCH adding members
//     in batches of at most 256;
//   - imports (§3.4.2.4): GET /Users?startIndex=1&count=100, startIndex += 100
//     until totalResults;
//   - optionally, lookups: Config.Lookups more GET /Users?filter=userName eq
//     "…" of users the run created, spread over them, which is what a
//     server answers most often once a tenant is provisioned (Okta's
//     imports and pushes look every user up first).
//
// Every request is timed; the Report gives per operation the count, the
// errors (any status outside 2xx, or no response at all, with the first
// few bodies), the throughput and the p50/p95/p99 latency.
//
// A load test leaves its data on the server unless Config.Cleanup is set:
// the users and groups carry a unique run prefix (Report.Prefix) so that
// runs never collide and their data can be found afterwards.
package load

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// MaxBatch is the most members Okta adds to a group in one PATCH.
const MaxBatch = 256

// Operation names, in the order the phases run them and the table lists them.
const (
	OpFilter      = "filter"       // GET /Users?filter=userName eq "…"
	OpCreate      = "create"       // POST /Users
	OpGet         = "get"          // GET /Users/{id} before a push
	OpReplace     = "replace"      // PUT /Users/{id}
	OpDeactivate  = "deactivate"   // PATCH /Users/{id} active=false, no path
	OpGroupCreate = "group-create" // POST /Groups
	OpGroupPatch  = "group-patch"  // PATCH /Groups/{id} adding ≤256 members
	OpLookup      = "lookup"       // GET /Users?filter=userName eq "…" of a created user (Config.Lookups)
	OpImport      = "import"       // GET /Users?startIndex=…&count=100
	OpDelete      = "delete"       // DELETE /Users/{id} and /Groups/{id} (Cleanup only)
)

// opOrder lists every operation in table order.
var opOrder = []string{OpFilter, OpCreate, OpLookup, OpGet, OpReplace, OpDeactivate, OpGroupCreate, OpGroupPatch, OpImport, OpDelete}

// Config describes one load run.
type Config struct {
	// BaseURL is the SCIM base URL, such as https://app.example/t/acme/scim/v2.
	BaseURL string
	// Token is the bearer token sent on every request.
	Token string
	// Client sends the requests; nil means a client whose transport keeps
	// Concurrency idle connections to the host.
	Client *http.Client
	// Users is how many users to create (at least 1).
	Users int
	// Concurrency is the number of parallel workers; 0 means 4.
	Concurrency int
	// Duration, when positive, limits the run: no operation starts once it
	// has passed (requests in flight finish), and Report.TimedOut is set.
	Duration time.Duration
	// Lookups is how many userName lookups to send after the users are
	// created, each for one of them (0: none). A lookup that does not find
	// exactly that user counts as an error.
	Lookups int
	// GroupSize is how many users each pushed group holds; 0 means 1000.
	GroupSize int
	// BatchSize is how many members one group PATCH adds; 0 means MaxBatch,
	// and more than MaxBatch is an error.
	BatchSize int
	// Cleanup, when set, deletes the users and groups the run created at
	// the end (DELETE, which Okta itself never sends for users). By default
	// the data stays on the server.
	Cleanup bool
	// Prefix, when set, replaces the generated run prefix of the user names
	// and group names; it must be unique on the server.
	Prefix string
	// Now is the clock used for latencies and the time limit; nil means
	// time.Now.
	Now func() time.Time
	// Progress, when not nil, is called with a snapshot at most once per
	// ProgressEvery while the run goes, and once at its end. Calls never
	// overlap.
	Progress func(Snapshot)
	// ProgressEvery is the least time between two Progress calls; 0 means
	// one second.
	ProgressEvery time.Duration
	// Logger receives a debug line per failed request; nil discards.
	Logger *slog.Logger
}

// Snapshot is the state of a run, passed to Config.Progress.
type Snapshot struct {
	Phase    string        // the operation being run, such as "create"
	Requests int           // requests completed so far, all operations
	Errors   int           // of which failed
	Created  int           // users created so far
	Elapsed  time.Duration // since the run started
}

// User is one user the run created.
type User struct {
	ID       string
	UserName string
	// Active is the state the run left the user in (every second user,
	// by creation index, is deactivated).
	Active bool
}

// Group is one group the run pushed.
type Group struct {
	ID          string
	DisplayName string
	// Members are the IDs of the users whose add-member PATCH succeeded.
	Members []string
}

// Run replays the Okta pattern against cfg.BaseURL and returns the report.
// Failed requests are counted in the report, not returned: the error is for
// a bad Config or a cancelled ctx (then the report holds what completed).
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.BaseURL == "" {
		return Report{}, errors.New("load: no base URL")
	}
	if cfg.Users < 1 {
		return Report{}, fmt.Errorf("load: users must be at least 1, got %d", cfg.Users)
	}
	if cfg.Concurrency < 0 || cfg.GroupSize < 0 || cfg.BatchSize < 0 || cfg.Lookups < 0 {
		return Report{}, errors.New("load: concurrency, lookups, group size and batch size must not be negative")
	}
	if cfg.BatchSize > MaxBatch {
		return Report{}, fmt.Errorf("load: batch size %d is more than Okta's %d", cfg.BatchSize, MaxBatch)
	}
	r := newRunner(cfg)
	return r.run(ctx)
}

// runner holds the state of one run.
type runner struct {
	cfg   Config
	c     *client.Client
	now   func() time.Time
	log   *slog.Logger
	start time.Time

	mu       sync.Mutex
	ops      map[string]*opStats
	phase    string
	requests int
	errs     int
	created  int
	lastProg time.Time
	progMu   sync.Mutex // serialises Progress calls
}

func newRunner(cfg Config) *runner {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.GroupSize == 0 {
		cfg.GroupSize = 1000
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = MaxBatch
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = time.Second
	}
	r := &runner{cfg: cfg, now: cfg.Now, log: cfg.Logger, ops: map[string]*opStats{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.Client
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency
		hc = &http.Client{Transport: tr}
	}
	r.c = &client.Client{
		BaseURL:   cfg.BaseURL,
		Token:     cfg.Token,
		HTTP:      hc,
		UserAgent: "Okta SCIM Client 1.0.0 (idpkit load)",
		Header:    http.Header{"Accept-Charset": {"utf-8"}},
	}
	return r
}

func (r *runner) run(ctx context.Context) (Report, error) {
	r.start = r.now()
	prefix := r.cfg.Prefix
	if prefix == "" {
		prefix = "load-" + r.start.UTC().Format("20060102t150405") + "-" + strings.ToLower(rand.Text()[:6])
	}
	rep := Report{Prefix: prefix, Requested: r.cfg.Users, Concurrency: r.cfg.Concurrency}

	users := make([]User, r.cfg.Users)
	for i := range users {
		users[i] = User{UserName: fmt.Sprintf("%s.%d@example.com", prefix, i), Active: true}
	}
	r.setPhase(OpCreate)
	r.each(ctx, len(users), func(i int) { r.createUser(ctx, &users[i], i) })

	if r.cfg.Lookups > 0 {
		r.setPhase(OpLookup)
		r.each(ctx, r.cfg.Lookups, func(i int) { r.lookup(ctx, users[spread(i, len(users))]) })
	}

	r.setPhase(OpReplace)
	r.each(ctx, len(users), func(i int) { r.pushProfile(ctx, &users[i]) })

	r.setPhase(OpDeactivate)
	r.each(ctx, len(users), func(i int) {
		if i%2 == 1 {
			r.deactivate(ctx, &users[i])
		}
	})

	r.setPhase(OpGroupCreate)
	ngroups := (len(users) + r.cfg.GroupSize - 1) / r.cfg.GroupSize
	groups := make([]Group, ngroups)
	r.each(ctx, ngroups, func(g int) {
		lo, hi := g*r.cfg.GroupSize, min((g+1)*r.cfg.GroupSize, len(users))
		groups[g].DisplayName = fmt.Sprintf("%s group %d", prefix, g)
		r.pushGroup(ctx, &groups[g], users[lo:hi])
	})

	r.setPhase(OpImport)
	rep.Imported = r.importUsers(ctx)

	if r.cfg.Cleanup {
		r.setPhase(OpDelete)
		r.each(ctx, len(groups), func(i int) { r.del(ctx, "Groups", groups[i].ID) })
		r.each(ctx, len(users), func(i int) { r.del(ctx, "Users", users[i].ID) })
		rep.CleanedUp = !r.expired()
	}

	for _, u := range users {
		if u.ID != "" {
			rep.Users = append(rep.Users, u)
		}
	}
	for _, g := range groups {
		if g.ID != "" {
			rep.Groups = append(rep.Groups, g)
		}
	}
	rep.Elapsed = r.now().Sub(r.start)
	rep.TimedOut = r.expired()
	r.mu.Lock()
	for _, name := range opOrder {
		if s := r.ops[name]; s != nil {
			rep.Ops = append(rep.Ops, s.result(name))
		}
	}
	r.mu.Unlock()
	r.progress(true)
	return rep, ctx.Err()
}

// expired reports whether the time limit has passed.
func (r *runner) expired() bool {
	return r.cfg.Duration > 0 && r.now().Sub(r.start) >= r.cfg.Duration
}

// stop reports whether no further operation may start.
func (r *runner) stop(ctx context.Context) bool { return ctx.Err() != nil || r.expired() }

// each calls f(0) … f(n-1) on Concurrency workers, starting none after stop.
func (r *runner) each(ctx context.Context, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := 0; i < n && !r.stop(ctx); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// setPhase names the phase for the progress snapshots.
func (r *runner) setPhase(p string) {
	r.mu.Lock()
	r.phase = p
	r.mu.Unlock()
}

// do sends one request, records it under op and returns whether it
// succeeded. A request that failed because ctx was cancelled is not
// recorded.
func (r *runner) do(ctx context.Context, op, method, path string, body, out any) bool {
	t0 := r.now()
	resp, err := r.c.Do(ctx, method, path, body, out)
	d := r.now().Sub(t0)
	if err != nil && resp == nil && ctx.Err() != nil {
		return false
	}
	sample := ""
	if err != nil {
		r.log.Debug("load: request failed", "op", op, "method", method, "path", path, "err", err)
		sample = method + " " + path + ": "
		if resp != nil {
			sample += strconv.Itoa(resp.Status) + " " + clip(string(resp.Body), 300)
		} else {
			sample += err.Error()
		}
	}
	r.mu.Lock()
	s := r.ops[op]
	if s == nil {
		s = &opStats{first: t0}
		r.ops[op] = s
	}
	s.add(t0, d, sample)
	r.requests++
	if err != nil {
		r.errs++
	}
	if op == OpCreate && err == nil {
		r.created++
	}
	r.mu.Unlock()
	r.progress(false)
	return err == nil
}

// progress calls Config.Progress when ProgressEvery has passed since the
// last call, or always when final.
func (r *runner) progress(final bool) {
	if r.cfg.Progress == nil {
		return
	}
	r.progMu.Lock()
	defer r.progMu.Unlock()
	now := r.now()
	if !final && now.Sub(r.lastProg) < r.cfg.ProgressEvery {
		return
	}
	r.lastProg = now
	r.mu.Lock()
	s := Snapshot{Phase: r.phase, Requests: r.requests, Errors: r.errs, Created: r.created, Elapsed: now.Sub(r.start)}
	r.mu.Unlock()
	r.cfg.Progress(s)
}

// createUser looks the user up by userName, as Okta does before a create,
// and POSTs Okta's body when the filter finds nobody.
func (r *runner) createUser(ctx context.Context, u *User, i int) {
	q := client.ListQuery{Filter: "userName eq " + client.FilterString(u.UserName), StartIndex: 1, Count: 100}
	var lr scim.ListResponse
	if !r.do(ctx, OpFilter, "GET", "/Users?"+q.Encode(), nil, &lr) {
		return
	}
	if len(lr.Resources) > 0 {
		u.ID, _ = lr.Resources[0]["id"].(string)
		return
	}
	body := map[string]any{
		"schemas":     []string{scim.SchemaUser},
		"userName":    u.UserName,
		"name":        map[string]any{"givenName": "Load", "familyName": "User " + strconv.Itoa(i)},
		"emails":      []any{map[string]any{"primary": true, "value": u.UserName, "type": "work"}},
		"displayName": "Load User " + strconv.Itoa(i),
		"locale":      "en-US",
		"externalId":  "00u" + rand.Text()[:17],
		"groups":      []any{},
		"password":    rand.Text(),
		"active":      true,
	}
	var out scim.Resource
	if r.do(ctx, OpCreate, "POST", "/Users", body, &out) {
		u.ID, _ = out["id"].(string)
	}
}

// spread maps the i-th lookup to a user index so that consecutive lookups
// hit users far apart (a stride prime to n), not one cached row.
func spread(i, n int) int {
	const stride = 7919 // a prime; when n is a multiple of it, step by 1
	if n%stride == 0 {
		return i % n
	}
	return (i * stride) % n
}

// lookup finds one created user by userName, as Okta does before an
// update; finding anyone else, or nobody, is an error of the lookup.
func (r *runner) lookup(ctx context.Context, u User) {
	if u.ID == "" {
		return
	}
	q := client.ListQuery{Filter: "userName eq " + client.FilterString(u.UserName), StartIndex: 1, Count: 100}
	var lr scim.ListResponse
	if !r.do(ctx, OpLookup, "GET", "/Users?"+q.Encode(), nil, &lr) {
		return
	}
	if id, _ := firstID(lr); lr.TotalResults != 1 || id != u.ID {
		r.fail(OpLookup, fmt.Sprintf("GET /Users?%s: want user %s alone, got totalResults %d (first %q)", q.Encode(), u.ID, lr.TotalResults, id))
	}
}

// firstID returns the id of the first resource of a list response.
func firstID(lr scim.ListResponse) (string, bool) {
	if len(lr.Resources) == 0 {
		return "", false
	}
	id, ok := lr.Resources[0]["id"].(string)
	return id, ok
}

// fail turns the last request of op, which the server answered with 2xx,
// into an error because its content was wrong.
func (r *runner) fail(op, sample string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[op]
	if s == nil {
		return
	}
	s.errors++
	if len(s.samples) < maxSamples {
		s.samples = append(s.samples, sample)
	}
	r.errs++
}

// pushProfile is Okta's profile push: GET the user, change the profile,
// PUT the whole body back (with id, meta and whatever the server returned).
func (r *runner) pushProfile(ctx context.Context, u *User) {
	if u.ID == "" {
		return
	}
	var got scim.Resource
	if !r.do(ctx, OpGet, "GET", userPath(u.ID), nil, &got) || got == nil {
		return
	}
	got["title"] = "Load Tester"
	if n, ok := got["name"].(map[string]any); ok {
		n["givenName"] = "Pushed"
	}
	r.do(ctx, OpReplace, "PUT", userPath(u.ID), got, nil)
}

// deactivate sends Okta's path-less PATCH setting active to false.
func (r *runner) deactivate(ctx context.Context, u *User) {
	if u.ID == "" {
		return
	}
	req := scim.PatchRequest{Schemas: []string{scim.SchemaPatchOp}, Operations: []scim.PatchOperation{
		{Op: "replace", Value: json.RawMessage(`{"active":false}`)},
	}}
	if r.do(ctx, OpDeactivate, "PATCH", userPath(u.ID), req, nil) {
		u.Active = false
	}
}

// pushGroup creates the group empty, as Okta's Group Push does, then adds
// the members in batches of at most BatchSize, one PATCH after the other.
func (r *runner) pushGroup(ctx context.Context, g *Group, members []User) {
	body := map[string]any{"schemas": []string{scim.SchemaGroup}, "displayName": g.DisplayName, "members": []any{}}
	var out scim.Resource
	if !r.do(ctx, OpGroupCreate, "POST", "/Groups", body, &out) {
		return
	}
	g.ID, _ = out["id"].(string)
	if g.ID == "" {
		return
	}
	var batch []User
	flush := func() {
		if len(batch) == 0 {
			return
		}
		vals := make([]map[string]string, len(batch))
		for i, u := range batch {
			vals[i] = map[string]string{"value": u.ID, "display": u.UserName}
		}
		v, _ := json.Marshal(vals) // strings always encode
		req := scim.PatchRequest{Schemas: []string{scim.SchemaPatchOp}, Operations: []scim.PatchOperation{
			{Op: "add", Path: "members", Value: v},
		}}
		if r.do(ctx, OpGroupPatch, "PATCH", "/Groups/"+escapeID(g.ID), req, nil) {
			for _, u := range batch {
				g.Members = append(g.Members, u.ID)
			}
		}
		batch = batch[:0]
	}
	for _, u := range members {
		if r.stop(ctx) {
			return
		}
		if u.ID == "" {
			continue
		}
		batch = append(batch, u)
		if len(batch) == r.cfg.BatchSize {
			flush()
		}
	}
	if !r.stop(ctx) {
		flush()
	}
}

// importUsers pages through /Users as Okta's import does, one page after the
// other, and returns how many users it read.
func (r *runner) importUsers(ctx context.Context) int {
	read := 0
	for start := 1; !r.stop(ctx); start += 100 {
		q := client.ListQuery{StartIndex: start, Count: 100}
		var lr scim.ListResponse
		if !r.do(ctx, OpImport, "GET", "/Users?"+q.Encode(), nil, &lr) {
			return read
		}
		read += len(lr.Resources)
		if len(lr.Resources) == 0 || start+100 > lr.TotalResults {
			return read
		}
	}
	return read
}

// del deletes one resource (Cleanup).
func (r *runner) del(ctx context.Context, endpoint, id string) {
	if id != "" {
		r.do(ctx, OpDelete, "DELETE", "/"+endpoint+"/"+escapeID(id), nil, nil)
	}
}

func userPath(id string) string { return "/Users/" + escapeID(id) }

// escapeID escapes an id for a path segment.
func escapeID(id string) string { return url.PathEscape(id) }

// clip shortens s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
