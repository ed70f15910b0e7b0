package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/storetest"
)

// openSQLite opens a store on path and closes it when the test ends.
func openSQLite(t testing.TB, path string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+path, opts)
	if err != nil {
		t.Fatalf("Open(sqlite:%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSQLite(t *testing.T) store.Store {
	return openSQLite(t, filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
}

func TestSQLite(t *testing.T) { storetest.Run(t, newSQLite) }

func TestSQLiteConcurrency(t *testing.T) { storetest.RunConcurrency(t, newSQLite) }

func TestSQLiteClock(t *testing.T) {
	storetest.RunWithClock(t, func(t *testing.T, now func() time.Time) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{Now: now})
	})
}

func TestSQLiteShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idpkit.db")
	storetest.RunShared(t, func(t *testing.T) store.Store { return openSQLite(t, path, sqlstore.Options{}) })
}

func BenchmarkCreateGet(b *testing.B) {
	s := openSQLite(b, filepath.Join(b.TempDir(), "idpkit.db"), sqlstore.Options{})
	ctx := b.Context()
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("u%08d", i)
		i++
		r := store.Record{Type: store.TypeUser, ID: id, UserName: id + "@example.com", Data: []byte(`{"id":"` + id + `"}`)}
		if _, err := s.CreateResource(ctx, "bench", r); err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetResource(ctx, "bench", store.TypeUser, id); err != nil {
			b.Fatal(err)
		}
	}
}
