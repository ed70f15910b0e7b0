package tenant

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// newTestStore opens a store on a fresh SQLite file whose clock is now.
func newTestStore(t *testing.T, now func() time.Time) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
