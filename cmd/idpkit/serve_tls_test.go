package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/httpx"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	certPEM, keyPEM []byte
	leaf            *x509.Certificate
}

func newTestCert(t *testing.T, name string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		leaf:    leaf,
	}
}

// write puts the pair into the files, each with a modification time
// of its own, so a reloader sees the change even on a coarse clock.
func (c testCert) write(t *testing.T, certFile, keyFile string, stamp time.Time) {
	t.Helper()
	writeStamped(t, certFile, c.certPEM, stamp)
	writeStamped(t, keyFile, c.keyPEM, stamp)
}

func writeStamped(t *testing.T, file string, data []byte, stamp time.Time) {
	t.Helper()
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, stamp, stamp); err != nil {
		t.Fatal(err)
	}
}

// tlsClient trusts the given certificates only, and opens a new
// connection for every request.
func tlsClient(min, max uint16, certs ...testCert) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.leaf)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: min, MaxVersion: max},
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true,
		},
	}
}

func waitHealthyWith(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy: %v", url, last)
}

// TestServeTLS: with --tls-cert and --tls-key serve speaks HTTPS only:
// TLS 1.2 and up, HTTP/2 by ALPN, HSTS on every answer, https URLs by
// default, SCIM over it; a TLS 1.1 client and a plain http one are
// refused.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert := newTestCert(t, "first")
	cert.write(t, certFile, keyFile, time.Now())
	db := "sqlite:" + filepath.Join(dir, "idpkit.db")
	addr := freeAddr(t)
	public := "https://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--db", db, "--tls-cert", certFile, "--tls-key", keyFile}, io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}()
	client := tlsClient(tls.VersionTLS12, 0, cert)
	waitHealthyWith(t, client, public)
	if !strings.Contains(stderr.String(), "public_url="+public) || !strings.Contains(stderr.String(), "tls=true") {
		t.Errorf("start-up log does not say https and tls=true:\n%s", stderr.String())
	}

	t.Run("HTTP/2 with HSTS", func(t *testing.T) {
		resp, err := client.Get(public + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := []any{resp.Proto, resp.TLS.Version >= tls.VersionTLS12, resp.Header.Get("Strict-Transport-Security"), resp.TLS.PeerCertificates[0].Subject.CommonName}
		if diff := cmp.Diff([]any{"HTTP/2.0", true, "max-age=31536000", "first"}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		_, err := tlsClient(tls.VersionTLS10, tls.VersionTLS11, cert).Get(public + "/healthz")
		if err == nil || !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("a TLS 1.1 client got %v, want a protocol version alert", err)
		}
	})
	t.Run("plain http refused", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatal("plain http was served")
			}
		}
	})
	t.Run("SCIM over HTTPS", func(t *testing.T) {
		code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", public)
		if code != 0 {
			t.Fatalf("tenant create exited %d: %s", code, errs)
		}
		var created struct{ ScimBaseURL, Token string }
		if err := json.Unmarshal([]byte(out), &created); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", created.ScimBaseURL+"/Users", nil)
		req.Header.Set("Authorization", "Bearer "+created.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got := []any{resp.StatusCode, resp.Proto, resp.Header.Get("Strict-Transport-Security"), strings.HasPrefix(created.ScimBaseURL, "https://")}
		if diff := cmp.Diff([]any{200, "HTTP/2.0", "max-age=31536000", true}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestServeTLSFlags: the TLS flags go together, come from the
// environment too, and a pair that does not load stops serve at start.
func TestServeTLSFlags(t *testing.T) {
	dir := t.TempDir()
	good := newTestCert(t, "good")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	good.write(t, certFile, keyFile, time.Now())
	other := filepath.Join(dir, "other-key.pem")
	writeStamped(t, other, newTestCert(t, "other").keyPEM, time.Now())
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"cert without key", nil, []string{"--tls-cert", certFile}, 2, "--tls-cert and --tls-key go together"},
		{"key from env without cert", map[string]string{"IDPKIT_TLS_KEY": keyFile}, nil, 2, "--tls-cert and --tls-key go together"},
		{"key not matching", nil, []string{"--tls-cert", certFile, "--tls-key", other}, 1, "private key does not match public key"},
		{"missing file", nil, []string{"--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", keyFile}, 1, "no such file"},
		{"bad trust-proxy", nil, []string{"--trust-proxy", "10.0.0.0/8,proxy.internal"}, 2, "--trust-proxy"},
		{"bad trust-proxy from env", map[string]string{"IDPKIT_TRUST_PROXY": "10.0.0.0/99"}, nil, 2, "--trust-proxy"},
		{"negative cap", nil, []string{"--max-tenant-requests", "-1"}, 2, "--max-tenant-requests must not be negative"},
		{"cap from env", map[string]string{"IDPKIT_MAX_TENANT_REQUESTS": "lots"}, nil, 2, "IDPKIT_MAX_TENANT_REQUESTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"IDPKIT_TLS_CERT", "IDPKIT_TLS_KEY", "IDPKIT_TRUST_PROXY", "IDPKIT_MAX_TENANT_REQUESTS"} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(t.TempDir(), "x.db")}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code, _, errs := runCmd(t, ctx, args...)
			if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d with %q", code, errs, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestCertReload: new connections see a replaced certificate (checked at
// most once per interval); a replacement that does not load keeps the
// old one and is logged at Error.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, second, third := newTestCert(t, "first"), newTestCert(t, "second"), newTestCert(t, "third")
	stamp := time.Now().Add(-time.Hour)
	first.write(t, certFile, keyFile, stamp)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// A huge interval first: a change is not looked at before it ends.
	certs, err := newCertReloader(certFile, keyFile, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), TLSConfig: serverTLSConfig(certs)}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	url := "https://" + ln.Addr().String() + "/"
	client := tlsClient(tls.VersionTLS12, 0, first, second, third)
	served := func(t *testing.T) string {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	check := func(t *testing.T, want string) {
		t.Helper()
		if got := served(t); got != want {
			t.Errorf("served %q, want %q", got, want)
		}
	}
	check(t, "first")

	t.Run("not before the interval", func(t *testing.T) {
		stamp = stamp.Add(time.Minute)
		second.write(t, certFile, keyFile, stamp)
		check(t, "first")
	})
	certs.mu.Lock()
	certs.every = 0 // from now on, look on every handshake
	certs.mu.Unlock()
	t.Run("replaced", func(t *testing.T) {
		check(t, "second")
		if !strings.Contains(logs.String(), "TLS certificate reloaded") {
			t.Errorf("no reload logged:\n%s", logs.String())
		}
	})
	t.Run("broken replacement keeps the old", func(t *testing.T) {
		stamp = stamp.Add(time.Minute)
		writeStamped(t, certFile, []byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n"), stamp)
		check(t, "second")
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "do not load") || strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("want a warning, not yet an error:\n%s", logs.String())
		}
		// Still broken a minute later: now an error, once.
		certs.mu.Lock()
		certs.brokenSince = certs.brokenSince.Add(-certBrokenFor)
		certs.mu.Unlock()
		check(t, "second")
		check(t, "second")
		if n := strings.Count(logs.String(), "still do not load"); n != 1 || !strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("want one error after %v:\n%s", certBrokenFor, logs.String())
		}
	})
	t.Run("mismatched pair keeps the old", func(t *testing.T) {
		stamp = stamp.Add(time.Minute)
		writeStamped(t, certFile, third.certPEM, stamp) // the key is still second's
		check(t, "second")
	})
	t.Run("completed pair loads", func(t *testing.T) {
		stamp = stamp.Add(time.Minute)
		writeStamped(t, keyFile, third.keyPEM, stamp)
		check(t, "third")
	})
	t.Run("files gone keeps the old", func(t *testing.T) {
		if err := os.Remove(certFile); err != nil {
			t.Fatal(err)
		}
		check(t, "third")
	})
}

// TestServeTrustProxy: behind a trusted proxy that says https, the admin
// cookie is Secure, answers carry HSTS and the access log names the
// client from X-Forwarded-For; the same headers from a peer that is not
// trusted change nothing.
func TestServeTrustProxy(t *testing.T) {
	type seen struct {
		Status       int
		SecureCookie bool
		HSTS         string
		LoggedClient bool // the access log names 203.0.113.7
	}
	tests := []struct {
		name  string
		trust string
		proto string
		want  seen
	}{
		{"trusted https proxy", "127.0.0.0/8", "https", seen{200, true, httpx.HSTSValue, true}},
		{"trusted proxy over http", "127.0.0.1", "http", seen{200, false, "", true}},
		{"untrusted peer", "10.0.0.0/8", "https", seen{200, false, "", false}},
		{"no --trust-proxy", "", "https", seen{200, false, "", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := "sqlite:" + filepath.Join(dir, "idpkit.db")
			addr := freeAddr(t)
			public := "http://" + addr
			args := []string{"serve", "--addr", addr, "--db", db}
			if tt.trust != "" {
				args = append(args, "--trust-proxy", tt.trust)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, args, io.Discard, &stderr) }()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("serve exited %d: %s", code, stderr.String())
				}
			}()
			waitHealthy(t, public)
			code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", public)
			if code != 0 {
				t.Fatalf("tenant create exited %d: %s", code, errs)
			}
			var created struct{ AdminURL string }
			if err := json.Unmarshal([]byte(out), &created); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", created.AdminURL, nil)
			req.Header.Set("X-Forwarded-Proto", tt.proto)
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := seen{Status: resp.StatusCode, HSTS: resp.Header.Get("Strict-Transport-Security")}
			cookies := resp.Cookies()
			if len(cookies) == 0 {
				t.Fatalf("no cookie set; headers %v", resp.Header)
			}
			got.SecureCookie = true
			for _, c := range cookies {
				got.SecureCookie = got.SecureCookie && c.Secure
			}
			// The access log line is written after the answer.
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(stderr.String(), "/admin/login") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			got.LoggedClient = strings.Contains(stderr.String(), "remote=203.0.113.7:0")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, stderr.String())
			}
		})
	}
}

// TestServeProxyWarning: serve warns at start when its public URL is
// https, it speaks plain http and trusts no proxy — a TLS-terminating
// proxy left out of --trust-proxy, whose address every client would then
// share (the failure limits would refuse everyone) — and only then.
func TestServeProxyWarning(t *testing.T) {
	const warning = "the public URL is https but serve speaks plain http and trusts no proxy"
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"https public URL, no proxy", []string{"--public-url", "https://app.example.com"}, true},
		{"https public URL, a trusted proxy", []string{"--public-url", "https://app.example.com", "--trust-proxy", "10.0.0.0/8"}, false},
		{"http public URL", []string{"--public-url", "http://127.0.0.1:8080"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := serveOnce(t, db, nil, tc.args...)
			if code != 0 || strings.Contains(out, warning) != tc.warn {
				t.Errorf("exit %d; want the warning %v:\n%s", code, tc.warn, out)
			}
		})
	}
}
