package sqlstore

import (
	"context"
	"fmt"
)

// Ping reports whether the database answers a query: it reads the
// migrations table through the read pool (the connection pool for
// PostgreSQL), so it fails when the file or server is gone, when the
// store is closed, or when ctx ends first. It serves the app's /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}
