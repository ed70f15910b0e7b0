package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestPing: Ping succeeds on an open store and fails once it is closed or
// its context has ended.
func TestPing(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(close func() error) context.Context
		wantErr bool
	}{
		{"open", func(func() error) context.Context { return context.Background() }, false},
		{"closed", func(close func() error) context.Context { close(); return context.Background() }, true},
		{"cancelled", func(func() error) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSQLite(t, filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
			ctx := tt.prepare(s.Close)
			if err := s.Ping(ctx); (err != nil) != tt.wantErr {
				t.Errorf("Ping = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
