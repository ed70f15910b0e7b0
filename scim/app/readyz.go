package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// readyTimeout bounds the database check of /readyz, under the shortest
// probe timeout in common use (Kubernetes' default of 1 s).
const readyTimeout = 900 * time.Millisecond

// pinger is what /readyz prefers to ask the store; sqlstore.Store has it.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyz answers 200 "ready" when the store answers within readyTimeout
// and 503 with a plain reason otherwise. A store without Ping is asked
// for a tenant that cannot exist, where ErrNotFound is an answer.
func readyz(st store.Store, log *slog.Logger) http.Handler {
	ping := func(ctx context.Context) error {
		if _, err := st.GetTenant(ctx, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	if p, ok := st.(pinger); ok {
		ping = p.Ping
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ping(ctx); err != nil {
			// The reason stays generic: the error can name hosts or files.
			log.LogAttrs(r.Context(), slog.LevelWarn, "not ready: the database does not answer", slog.Any("err", err))
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: the database does not answer\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
}
