package login

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// testStore is a real store on a fresh SQLite file that remembers the keys
// of the tokens put into it, so tests can count the live ones.
type testStore struct {
	*sqlstore.Store
	mu   sync.Mutex
	keys map[string]map[string]bool // kind → keys
}

func newTestStore(t *testing.T, now func() time.Time) *testStore {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &testStore{Store: st, keys: map[string]map[string]bool{}}
}

func (s *testStore) PutToken(ctx context.Context, t store.Token) error {
	s.mu.Lock()
	if s.keys[t.Kind] == nil {
		s.keys[t.Kind] = map[string]bool{}
	}
	s.keys[t.Kind][t.Key] = true
	s.mu.Unlock()
	return s.Store.PutToken(ctx, t)
}

// countTokens returns how many unexpired tokens of kind the store holds.
func (s *testStore) countTokens(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.keys[kind] {
		if _, err := s.GetToken(context.Background(), kind, k); err == nil {
			n++
		}
	}
	return n
}
