package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/storemetrics"
)

// unmatched is the route label of a request no pattern served (the
// mux's own 404 and 405 answers).
const unmatched = "unmatched"

// httpMetrics counts and times the app server's requests by route (the
// ServeMux pattern that served them), method and status code. Every
// label's values come from a fixed set, so tenants, ids and raw paths
// never multiply the series.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// instrumentation returns a new registry holding the Go and process
// collectors, the request metrics and the store latency histogram, and
// cfg.Store wrapped to feed that histogram. Each app gets its own registry:
// the global default one is never touched.
func instrumentation(cfg Config) (*prometheus.Registry, *httpMetrics, store.Store) {
	reg := prometheus.NewRegistry()
	labels := []string{"route", "method", "code"}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpkit_http_requests_total",
			Help: "HTTP requests served, by route (ServeMux pattern), method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpkit_http_request_duration_seconds",
			Help:    "HTTP request latency, by route (ServeMux pattern), method and status code.",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
	// A fresh registry and collectors of distinct names: registration
	// cannot fail.
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration,
	)
	st, err := storemetrics.New(cfg.Store, reg, cfg.Now)
	if err != nil {
		// Not reachable with a fresh registry; serve without store
		// latency rather than not at all.
		cfg.Logger.Error("app: store metrics are off", "err", err)
		return reg, m, cfg.Store
	}
	return reg, m, st
}

// instrument records every request that next serves. next must be the
// ServeMux itself: the route label is the pattern it sets on the request.
func (m *httpMetrics) instrument(now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		labels := prometheus.Labels{"route": route(r), "method": method(r.Method), "code": strconv.Itoa(rec.status)}
		m.requests.With(labels).Inc()
		m.duration.With(labels).Observe(now().Sub(start).Seconds())
	})
}

// route returns the pattern that served r, or unmatched. A CONNECT
// request is always unmatched: for it the mux may report a raw path as
// the pattern, and the app serves no CONNECT route.
func route(r *http.Request) string {
	if r.Pattern == "" || r.Method == http.MethodConnect {
		return unmatched
	}
	return r.Pattern
}

// method returns m when it is a method of RFC 9110 §9 or PATCH, else
// "OTHER", so that a client cannot mint label values.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect:
		return m
	}
	return "OTHER"
}
