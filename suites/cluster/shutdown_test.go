package cluster

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: on SIGTERM `idpkit serve` stops accepting
// connections but lets a request already running finish within --grace,
// then exits 0. (cmd/idpkit's TestServeGrace covers a request that
// outlives --grace.)
func TestGracefulShutdown(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	in := startServe(t, dsn, "--grace", "10s")
	in.waitReady(t)
	tok := createTenant(t, dsn, in.URL, "acme").Token

	// A slow client: the headers and half the body now, the rest after
	// the signal.
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slow@example.com","active":true}`
	half := len(body) / 2
	conn, err := net.Dial("tcp", in.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /t/acme/scim/v2/Users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n%s", in.Addr, tok, len(body), body[:half])
	time.Sleep(200 * time.Millisecond) // the server has read the headers
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown closes the listener at once; wait until a new connection
	// is refused.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", in.Addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Errorf("after SIGTERM, new connections to %s were still accepted for 5s", in.Addr)
	}
	select {
	case <-in.done:
		t.Fatalf("serve exited (%v) while a request was still running:\n%s", in.err, in.logs.String())
	default:
	}
	if _, err := fmt.Fprint(conn, body[half:]); err != nil {
		t.Fatalf("finish the body after SIGTERM: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the running request got no response after SIGTERM: %v\n%s", err, in.logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the running POST answered %d after SIGTERM, want 201", resp.StatusCode)
	}
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not exit within 10s of its last request finishing:\n%s", in.logs.String())
	}
	if in.err != nil || !strings.Contains(in.logs.String(), "stopped") {
		t.Errorf("serve exited with %v; want exit 0 and a \"stopped\" log line:\n%s", in.err, in.logs.String())
	}
	if strings.Contains(in.logs.String(), "cut off") {
		t.Errorf("the request was cut off although it finished within --grace:\n%s", in.logs.String())
	}
}
