package provision_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/idpkit/idpkit/mockidp/provision"
)

// A SCIM server that is busy once: the engine waits what Retry-After asks
// and sends the deactivation again; the trace sees both attempts.
func ExampleWithTrace() {
	busy := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if busy {
			busy = false
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	e := &provision.Engine{
		Client: srv.Client(),
		Sleep:  func(context.Context, time.Duration) error { return nil }, // no real waiting in an example
	}
	ctx := provision.WithTrace(context.Background(), &provision.Trace{Attempt: func(a provision.Attempt) {
		fmt.Println(a.Method, a.Path, a.Status, a.Wait)
	}})
	err := e.SetActive(ctx, provision.Target{BaseURL: srv.URL + "/scim/v2", Token: "secret"}, "u1", false)
	fmt.Println("error:", err)
	// Output:
	// PATCH /Users/u1 429 1s
	// PATCH /Users/u1 204 0s
	// error: <nil>
}
