package login

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// memStore is a minimal in-memory store.Store for these tests; it checks
// token expiry against now.
type memStore struct {
	mu      sync.Mutex
	now     func() time.Time
	tenants map[string]store.Tenant
	tokens  map[string]store.Token
	res     map[string][]store.Record // tenant/type → records
}

var _ store.Store = (*memStore)(nil)

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, tenants: map[string]store.Tenant{}, tokens: map[string]store.Token{}, res: map[string][]store.Record{}}
}

func (m *memStore) CreateTenant(_ context.Context, t store.Tenant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[t.Name]; ok {
		return store.ErrExists
	}
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
	return t, nil
}

func (m *memStore) UpdateTenant(_ context.Context, name string, update func(*store.Tenant) error) (store.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[name]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	if err := update(&t); err != nil {
		return store.Tenant{}, err
	}
	m.tenants[name] = t
	return t, nil
}

func (m *memStore) CreateResource(_ context.Context, tenant string, r store.Record) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := tenant + "/" + r.Type
	for _, o := range m.res[k] {
		if o.ID == r.ID || r.UserName != "" && strings.EqualFold(o.UserName, r.UserName) {
			return store.Record{}, store.ErrExists
		}
	}
	r.Version = 1
	m.res[k] = append(m.res[k], r)
	return r, nil
}

func (m *memStore) GetResource(_ context.Context, tenant, typ, id string) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.res[tenant+"/"+typ] {
		if o.ID == id {
			return o, nil
		}
	}
	return store.Record{}, store.ErrNotFound
}

func (m *memStore) ListResources(_ context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Record
	for _, o := range m.res[tenant+"/"+typ] {
		if q.ID != "" && o.ID != q.ID || q.UserName != "" && !strings.EqualFold(o.UserName, q.UserName) ||
			q.ExternalID != "" && o.ExternalID != q.ExternalID || q.DisplayName != "" && o.DisplayName != q.DisplayName {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

func (m *memStore) CountResources(_ context.Context, tenant, typ string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.res[tenant+"/"+typ]), nil
}

func (m *memStore) UpdateResource(_ context.Context, tenant, typ, id string, update func(*store.Record) error) (store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.res[tenant+"/"+typ]
	for i, o := range rs {
		if o.ID == id {
			if err := update(&o); err != nil {
				return store.Record{}, err
			}
			o.Version++
			rs[i] = o
			return o, nil
		}
	}
	return store.Record{}, store.ErrNotFound
}

func (m *memStore) DeleteResource(_ context.Context, tenant, typ, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := tenant + "/" + typ
	for i, o := range m.res[k] {
		if o.ID == id {
			m.res[k] = append(m.res[k][:i], m.res[k][i+1:]...)
			return nil
		}
	}
	return store.ErrNotFound
}

func (m *memStore) PutToken(_ context.Context, t store.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[t.Kind+"/"+t.Key] = t
	return nil
}

func (m *memStore) GetToken(_ context.Context, kind, key string) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[kind+"/"+key]
	if !ok || !m.now().Before(t.Expires) {
		return store.Token{}, store.ErrNotFound
	}
	return t, nil
}

func (m *memStore) TakeToken(_ context.Context, kind, key string) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[kind+"/"+key]
	if !ok || !m.now().Before(t.Expires) {
		return store.Token{}, store.ErrNotFound
	}
	delete(m.tokens, kind+"/"+key)
	return t, nil
}

func (m *memStore) DeleteToken(_ context.Context, kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, kind+"/"+key)
	return nil
}

func (m *memStore) Close() error { return nil }

// countTokens returns how many unexpired tokens of kind the store holds.
func (m *memStore) countTokens(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, t := range m.tokens {
		if t.Kind == kind && m.now().Before(t.Expires) {
			n++
		}
	}
	return n
}
