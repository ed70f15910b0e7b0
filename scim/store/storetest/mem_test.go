package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim/store"
)

// memStore is a reference implementation of store.Store, written from
// store.go alone, that checks the suite itself: every test of the suite
// must pass against it. One mutex serialises everything.
type memStore struct {
	now func() time.Time

	mu      sync.Mutex
	tenants map[string]store.Tenant
	res     map[resKey]*memRec
	tokens  map[[2]string]store.Token
	names   map[[2]string]string // tenant, folded userName → user id
	audit   []store.AuditRecord  // in the order appended
}

var _ store.Store = (*memStore)(nil)

type resKey struct{ tenant, typ, id string }

type memRec struct {
	r       store.Record
	members []store.Member
	set     map[string]bool // the members' values
}

func (rec *memRec) index() {
	rec.set = make(map[string]bool, len(rec.members))
	for _, x := range rec.members {
		rec.set[x.Value] = true
	}
}

func newMem(now func() time.Time) *memStore {
	if now == nil {
		now = time.Now
	}
	return &memStore{now: now, tenants: map[string]store.Tenant{}, res: map[resKey]*memRec{}, tokens: map[[2]string]store.Token{}, names: map[[2]string]string{}}
}

func (m *memStore) stamp() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (m *memStore) CreateTenant(_ context.Context, t store.Tenant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[t.Name]; ok {
		return store.ErrExists
	}
	now := m.stamp()
	if t.Created.IsZero() {
		t.Created = now
	}
	if t.Modified.IsZero() {
		t.Modified = now
	}
	t.Created, t.Modified = norm(t.Created), norm(t.Modified)
	if !t.PrevTokenExpires.IsZero() {
		t.PrevTokenExpires = norm(t.PrevTokenExpires)
	}
	t.TokenHash, t.PrevTokenHash = slices.Clone(t.TokenHash), slices.Clone(t.PrevTokenHash)
	m.tenants[t.Name] = t
	return nil
}

func (m *memStore) GetTenant(_ context.Context, name string) (store.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[name]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	t.TokenHash, t.PrevTokenHash = slices.Clone(t.TokenHash), slices.Clone(t.PrevTokenHash)
	return t, nil
}

func (m *memStore) UpdateTenant(_ context.Context, name string, update func(*store.Tenant) error) (store.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[name]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	t.TokenHash, t.PrevTokenHash = slices.Clone(t.TokenHash), slices.Clone(t.PrevTokenHash)
	created := t.Created
	if err := update(&t); err != nil {
		return store.Tenant{}, err
	}
	if t.Name != name {
		return store.Tenant{}, fmt.Errorf("memstore: update renamed the tenant")
	}
	t.Created = created
	if t.Modified.IsZero() {
		t.Modified = m.stamp()
	}
	t.Modified = norm(t.Modified)
	if !t.PrevTokenExpires.IsZero() {
		t.PrevTokenExpires = norm(t.PrevTokenExpires)
	}
	t.TokenHash, t.PrevTokenHash = slices.Clone(t.TokenHash), slices.Clone(t.PrevTokenHash)
	m.tenants[name] = t
	return t, nil
}

func clone(r store.Record) store.Record {
	r.Data = slices.Clone(r.Data)
	r.Emails = slices.Clone(r.Emails)
	r.Members = nil
	return r
}

// taken reports whether userName is held by a user of tenant other than id.
func (m *memStore) taken(tenant, userName, id string) bool {
	if userName == "" {
		return false
	}
	holder, ok := m.names[[2]string{tenant, store.Fold(userName)}]
	return ok && holder != id
}

// put stores rec under k and keeps the userName index in step.
func (m *memStore) put(k resKey, rec *memRec) {
	if old, ok := m.res[k]; ok && k.typ == store.TypeUser {
		delete(m.names, [2]string{k.tenant, store.Fold(old.r.UserName)})
	}
	rec.index()
	m.res[k] = rec
	if k.typ == store.TypeUser && rec.r.UserName != "" {
		m.names[[2]string{k.tenant, store.Fold(rec.r.UserName)}] = k.id
	}
}

func (m *memStore) missing(tenant string, adds []store.Member) error {
	var ids []string
	for _, a := range adds {
		if _, ok := m.res[resKey{tenant, store.TypeUser, a.Value}]; !ok {
			ids = append(ids, a.Value)
		}
	}
	if ids != nil {
		return &store.MissingMembersError{IDs: ids}
	}
	return nil
}

func applyMembers(cur []store.Member, mc *store.MemberChange) []store.Member {
	if mc == nil {
		return cur
	}
	out := slices.Clone(cur)
	if mc.Replace {
		out = nil
	}
	out = slices.DeleteFunc(out, func(x store.Member) bool { return slices.Contains(mc.Remove, x.Value) })
	at := make(map[string]int, len(out))
	for i, x := range out {
		at[x.Value] = i
	}
	for _, a := range mc.Add {
		i, ok := at[a.Value]
		switch {
		case !ok:
			at[a.Value] = len(out)
			out = append(out, a)
		case a.Display != "":
			out[i].Display = a.Display
		}
	}
	return out
}

func (m *memStore) prepare(tenant string, r store.Record) (*memRec, error) {
	k := resKey{tenant, r.Type, r.ID}
	if _, ok := m.res[k]; ok {
		return nil, store.ErrExists
	}
	if r.Type == store.TypeUser && m.taken(tenant, r.UserName, r.ID) {
		return nil, store.ErrExists
	}
	var mems []store.Member
	if r.Type == store.TypeGroup && r.Members != nil {
		if err := m.missing(tenant, r.Members.Add); err != nil {
			return nil, err
		}
		mems = applyMembers(nil, r.Members)
	}
	now := m.stamp()
	r = clone(r)
	r.Version = 1
	if r.Created.IsZero() {
		r.Created = now
	}
	if r.Modified.IsZero() {
		r.Modified = now
	}
	r.Created, r.Modified = norm(r.Created), norm(r.Modified)
	return &memRec{r: r, members: mems}, nil
}

func (m *memStore) CreateResource(_ context.Context, tenant string, r store.Record) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.prepare(tenant, r)
	if err != nil {
		return store.Record{}, err
	}
	m.put(resKey{tenant, r.Type, r.ID}, rec)
	return clone(rec.r), nil
}

func (m *memStore) CreateResources(_ context.Context, tenant string, rs []store.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var added []resKey
	for _, r := range rs {
		rec, err := m.prepare(tenant, r)
		if err != nil {
			for _, k := range added {
				m.remove(k)
			}
			return err
		}
		k := resKey{tenant, r.Type, r.ID}
		m.put(k, rec)
		added = append(added, k)
	}
	return nil
}

func (m *memStore) GetResource(_ context.Context, tenant, typ, id string) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.res[resKey{tenant, typ, id}]
	if !ok {
		return store.Record{}, store.ErrNotFound
	}
	return clone(rec.r), nil
}

func (m *memStore) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	var out []store.Record
	err := m.ScanResources(ctx, tenant, typ, q, func(r store.Record) error { out = append(out, r); return nil })
	return out, err
}

func (m *memStore) selectRecs(tenant, typ string, where *store.Cond) []*memRec {
	var out []*memRec
	for k, v := range m.res {
		if k.tenant == tenant && k.typ == typ && (where == nil || m.eval(tenant, where, v)) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *memRec) int {
		return cmp.Or(a.r.Created.Compare(b.r.Created), strings.Compare(a.r.ID, b.r.ID))
	})
	return out
}

func sortKey(f store.Field, r store.Record) (s string, t time.Time) {
	switch f {
	case store.FieldID:
		return r.ID, t
	case store.FieldUserName:
		return store.Fold(r.UserName), t
	case store.FieldExternalID:
		return r.ExternalID, t
	case store.FieldDisplayName:
		return store.Fold(r.DisplayName), t
	case store.FieldCreated:
		return "", r.Created
	case store.FieldModified:
		return "", r.Modified
	}
	panic("memstore: sort by " + string(f))
}

func (m *memStore) ScanResources(_ context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	m.mu.Lock()
	recs := m.selectRecs(tenant, typ, q.Where)
	if q.Sort != "" {
		slices.SortStableFunc(recs, func(a, b *memRec) int {
			as, at := sortKey(q.Sort, a.r)
			bs, bt := sortKey(q.Sort, b.r)
			if !at.IsZero() || !bt.IsZero() {
				c := at.Compare(bt)
				if q.Desc {
					c = -c
				}
				return c
			}
			switch {
			case as == bs:
				return 0
			case as == "":
				return map[bool]int{false: 1, true: -1}[q.Desc]
			case bs == "":
				return map[bool]int{false: -1, true: 1}[q.Desc]
			}
			c := strings.Compare(as, bs)
			if q.Desc {
				c = -c
			}
			return c
		})
	}
	recs = recs[min(q.Offset, len(recs)):]
	if q.Limit > 0 {
		recs = recs[:min(q.Limit, len(recs))]
	}
	out := make([]store.Record, len(recs))
	for i, r := range recs {
		out[i] = clone(r.r)
	}
	m.mu.Unlock()
	for _, r := range out {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) CountResources(_ context.Context, tenant, typ string, where *store.Cond) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.selectRecs(tenant, typ, where)), nil
}

func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func compareString(op, stored, v string) bool {
	switch op {
	case store.OpEq:
		return stored == v
	case store.OpNe:
		return stored != v
	case store.OpCo:
		return strings.Contains(stored, v)
	case store.OpSw:
		return strings.HasPrefix(stored, v)
	case store.OpEw:
		return strings.HasSuffix(stored, v)
	case store.OpGt:
		return stored > v
	case store.OpGe:
		return stored >= v
	case store.OpLt:
		return stored < v
	case store.OpLe:
		return stored <= v
	}
	panic("memstore: op " + op)
}

func (m *memStore) eval(tenant string, c *store.Cond, rec *memRec) bool {
	switch {
	case c.And != nil:
		for i := range c.And {
			if !m.eval(tenant, &c.And[i], rec) {
				return false
			}
		}
		return true
	case c.Or != nil:
		for i := range c.Or {
			if m.eval(tenant, &c.Or[i], rec) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !m.eval(tenant, c.Not, rec)
	}
	r := rec.r
	if c.Field == store.FieldCreated || c.Field == store.FieldModified {
		tm := r.Created
		if c.Field == store.FieldModified {
			tm = r.Modified
		}
		if c.Op == store.OpPr {
			return true
		}
		d := tm.Compare(norm(c.Time))
		switch c.Op {
		case store.OpEq:
			return d == 0
		case store.OpNe:
			return d != 0
		case store.OpGt:
			return d > 0
		case store.OpGe:
			return d >= 0
		case store.OpLt:
			return d < 0
		case store.OpLe:
			return d <= 0
		}
		panic("memstore: time op " + c.Op)
	}
	var vals []string
	multi, folded := false, false
	switch c.Field {
	case store.FieldID:
		vals = []string{r.ID}
	case store.FieldUserName:
		vals, folded = []string{r.UserName}, true
	case store.FieldExternalID:
		vals = []string{r.ExternalID}
	case store.FieldDisplayName:
		vals, folded = []string{r.DisplayName}, true
	case store.FieldEmail:
		vals, folded, multi = r.Emails, true, true
	case store.FieldMember:
		vals, multi = memberValues(rec.members), true
	case store.FieldGroup:
		multi = true
		for k, g := range m.res {
			if k.tenant == tenant && k.typ == store.TypeGroup && g.set[r.ID] {
				vals = append(vals, k.id)
			}
		}
	default:
		panic("memstore: field " + string(c.Field))
	}
	v := c.Value
	if folded {
		v = store.Fold(v)
	}
	for _, s := range vals {
		if folded {
			s = store.Fold(s)
		}
		var ok bool
		switch {
		case s == "" && !multi:
			ok = c.Op == store.OpNe
		case c.Op == store.OpPr:
			ok = true
		case !storable(c.Value):
			ok = c.Op == store.OpNe
		default:
			ok = compareString(c.Op, s, v)
		}
		if ok {
			return true
		}
	}
	return false
}

func memberValues(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return out
}

func (m *memStore) ListMembers(_ context.Context, tenant, groupID string, ids []string) ([]store.Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.res[resKey{tenant, store.TypeGroup, groupID}]
	if !ok {
		return nil, store.ErrNotFound
	}
	var out []store.Member
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, x := range g.members {
		if ids == nil || want[x.Value] {
			out = append(out, x)
		}
	}
	return out, nil
}

func (m *memStore) GroupsOf(_ context.Context, tenant string, userIDs []string) (map[string][]store.GroupRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]store.GroupRef{}
	for _, g := range m.selectRecs(tenant, store.TypeGroup, nil) {
		for _, x := range g.members {
			if slices.Contains(userIDs, x.Value) {
				out[x.Value] = append(out[x.Value], store.GroupRef{ID: g.r.ID, DisplayName: g.r.DisplayName})
			}
		}
	}
	return out, nil
}

func (m *memStore) UpdateResource(_ context.Context, tenant, typ, id string, update func(*store.Record) error) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := resKey{tenant, typ, id}
	rec, ok := m.res[k]
	if !ok {
		return store.Record{}, store.ErrNotFound
	}
	r := clone(rec.r)
	if err := update(&r); err != nil {
		return store.Record{}, err
	}
	if r.Type != typ || r.ID != id {
		return store.Record{}, fmt.Errorf("memstore: update changed the type or id")
	}
	if typ == store.TypeUser && m.taken(tenant, r.UserName, id) {
		return store.Record{}, store.ErrExists
	}
	mems := rec.members
	if typ == store.TypeGroup && r.Members != nil {
		if err := m.missing(tenant, r.Members.Add); err != nil {
			return store.Record{}, err
		}
		mems = applyMembers(mems, r.Members)
	}
	r = clone(r)
	r.Version = rec.r.Version + 1
	if r.Created.IsZero() {
		r.Created = rec.r.Created
	}
	if r.Modified.IsZero() {
		r.Modified = m.stamp()
	}
	r.Created, r.Modified = norm(r.Created), norm(r.Modified)
	m.put(k, &memRec{r: r, members: mems})
	return clone(r), nil
}

func (m *memStore) remove(k resKey) {
	if old, ok := m.res[k]; ok && k.typ == store.TypeUser {
		delete(m.names, [2]string{k.tenant, store.Fold(old.r.UserName)})
	}
	delete(m.res, k)
	if k.typ != store.TypeUser {
		return
	}
	for gk, g := range m.res {
		if gk.tenant != k.tenant || gk.typ != store.TypeGroup || !g.set[k.id] {
			continue
		}
		g.members = slices.DeleteFunc(slices.Clone(g.members), func(x store.Member) bool { return x.Value == k.id })
		g.index()
		g.r.Version++
		g.r.Modified = m.stamp()
	}
}

func (m *memStore) DeleteResource(_ context.Context, tenant, typ, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := resKey{tenant, typ, id}
	if _, ok := m.res[k]; !ok {
		return store.ErrNotFound
	}
	m.remove(k)
	return nil
}

func (m *memStore) DeleteResourceVersion(_ context.Context, tenant, typ, id string, version int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := resKey{tenant, typ, id}
	rec, ok := m.res[k]
	if !ok {
		return store.ErrNotFound
	}
	if rec.r.Version != version {
		return store.ErrStale
	}
	m.remove(k)
	return nil
}

func (m *memStore) PutToken(_ context.Context, t store.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Value, t.Expires = slices.Clone(t.Value), norm(t.Expires)
	m.tokens[[2]string{t.Kind, t.Key}] = t
	return nil
}

func (m *memStore) get(kind, key string) (store.Token, error) {
	t, ok := m.tokens[[2]string{kind, key}]
	if !ok || !m.stamp().Before(t.Expires) {
		return store.Token{}, store.ErrNotFound
	}
	t.Value = slices.Clone(t.Value)
	return t, nil
}

func (m *memStore) GetToken(_ context.Context, kind, key string) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.get(kind, key)
}

func (m *memStore) TakeToken(_ context.Context, kind, key string) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.get(kind, key)
	if err == nil {
		delete(m.tokens, [2]string{kind, key})
	}
	return t, err
}

func (m *memStore) DeleteToken(_ context.Context, kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, [2]string{kind, key})
	return nil
}

func (m *memStore) AppendAudit(_ context.Context, tenant string, recs []store.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		r.Tenant = tenant
		r.At = norm(r.At)
		r.Detail = slices.Clone(r.Detail)
		if len(r.Detail) == 0 {
			r.Detail = nil
		}
		m.audit = append(m.audit, r)
	}
	return nil
}

func (m *memStore) ListAudit(_ context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	since = norm(since)
	var out []store.AuditRecord
	for _, r := range m.audit {
		if r.Tenant == tenant && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b store.AuditRecord) int { return a.At.Compare(b.At) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) LatestAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	all, err := m.ListAudit(ctx, tenant, since, 0)
	slices.Reverse(all)
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, err
}

func (m *memStore) PruneAudit(_ context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before = norm(before)
	n := len(m.audit)
	m.audit = slices.DeleteFunc(m.audit, func(r store.AuditRecord) bool { return r.At.Before(before) })
	return n - len(m.audit), nil
}

func (m *memStore) Close() error { return nil }

func newMemT(t *testing.T) store.Store { return newMem(nil) }

func TestMem(t *testing.T) { Run(t, newMemT) }

func TestMemConcurrency(t *testing.T) { RunConcurrency(t, newMemT) }

func TestMemClock(t *testing.T) {
	RunWithClock(t, func(t *testing.T, now func() time.Time) store.Store { return newMem(now) })
}

func TestMemShared(t *testing.T) {
	s := newMem(nil)
	RunShared(t, func(t *testing.T) store.Store { return s })
}
