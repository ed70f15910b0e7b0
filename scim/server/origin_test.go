package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/httpx"
)

// TestOriginBehindProxy: without a public URL, resource locations follow
// the scheme and host a trusted proxy forwards, and ignore them from
// anyone else.
func TestOriginBehindProxy(t *testing.T) {
	trusted, err := httpx.ParseTrustedProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, public, want string
	}{
		{"trusted proxy", "10.1.2.3:80", "", "https://scim.example.com"},
		{"untrusted peer", "203.0.113.9:80", "", "http://app.test"},
		{"public URL wins", "10.1.2.3:80", "https://public.example.com", "https://public.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{publicURL: tt.public}
			var got string
			h := trusted.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = s.origin(r) }))
			r := httptest.NewRequest("GET", "http://app.test/t/acme/scim/v2/Users", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "scim.example.com")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
