package login

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCallbackSlowBody: in form_post mode, a callback whose body trickles
// in is cut off after a few seconds (400), rather than holding the
// request, and a slot of the tenant's --max-tenant-requests, for as long
// as the client likes (the test server has no ReadTimeout at all).
func TestCallbackSlowBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.ResponseMode = ResponseModeFormPost })
	u, err := url.Parse(e.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// 200 bytes announced, 10 sent; the rest never comes.
	if _, err := conn.Write([]byte("POST /t/acme/oidc/callback HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nstate=abcd")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if diff := cmp.Diff(http.StatusBadRequest, resp.StatusCode); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if took < 4*time.Second || took > 10*time.Second {
		t.Errorf("answered after %v, want about 5s", took)
	}
}
