package provision

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCredentialsSentence: a failed Test API Credentials says in one
// sentence what the SCIM server answered, without package prefixes.
func TestCredentialsSentence(t *testing.T) {
	serve := func(status int, contentType, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/scim/v2"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/scim/v2"
	l.Close()

	for _, tc := range []struct{ name, base, want string }{
		{"wrong token", serve(401, "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"The bearer token is not valid."}`),
			"the SCIM server answered 401 Unauthorized to GET /Users?startIndex=1&count=2: The bearer token is not valid (is the API token the app's SCIM secret?)"},
		{"a web page, not the SCIM base URL", serve(404, "text/html; charset=utf-8", "<html><body>Not here</body></html>"),
			"the SCIM server answered 404 Not Found to GET /Users?startIndex=1&count=2 with a text/html page, not a SCIM error (is the base URL the app's SCIM base URL, such as https://app.example.com/scim/v2?)"},
		{"a page with 200", serve(200, "text/html", "<html></html>"),
			"the SCIM server answered 200 OK to GET /Users?startIndex=1&count=2, but its body is not JSON"},
		{"server error", serve(500, "application/json", `{"detail":"database down"}`),
			"the SCIM server answered 500 Internal Server Error to GET /Users?startIndex=1&count=2: database down"},
		{"nothing listens", closed,
			"the SCIM server at " + closed + " could not be reached: the connection was refused (nothing listens at that address)"},
		{"unknown host", "http://scim.invalid/scim/v2",
			"the SCIM server at http://scim.invalid/scim/v2 could not be reached: the host name scim.invalid does not resolve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{}
			if strings.Contains(tc.base, ".invalid") {
				// No DNS in the test: answer as a resolver would.
				e.Client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					return nil, &net.DNSError{Err: "no such host", Name: "scim.invalid", IsNotFound: true}
				}}}
			}
			err := e.TestCredentials(context.Background(), Target{BaseURL: tc.base, Token: "t"})
			if diff := cmp.Diff(tc.want, Explain(err)); diff != "" {
				t.Errorf("sentence (-want +got):\n%s", diff)
			}
			if err == nil || err.Error() != "provision: test credentials: "+tc.want || strings.Contains(err.Error(), "client:") {
				t.Errorf("error %q", err)
			}
			var ue *url.Error
			var ae *AnswerError
			if !errors.As(err, &ae) || (strings.Contains(tc.name, "listen") && !errors.As(err, &ue)) {
				t.Errorf("error %T does not keep its cause", err)
			}
		})
	}
}
