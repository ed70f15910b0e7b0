package sealed_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/storetest"
)

// newSealed opens a fresh SQLite store behind the decorator, with a key.
func newSealed(t *testing.T, now func() time.Time) store.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return sealed.New(st, keys(t, key(9)))
}

// TestConformance: the decorated store passes the store conformance
// suite: sealing is invisible to callers.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newSealed(t, nil) })
}

// TestConformanceClock: tenants' Created and Modified come through the
// decorator as the wrapped store set them.
func TestConformanceClock(t *testing.T) { storetest.RunWithClock(t, newSealed) }
