package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRedactDSNSecrets: no form of a PostgreSQL DSN shows its password:
// the URL's user info, its password and sslpassword parameters (however
// spelled), key=value DSNs with plain and quoted values.
func TestRedactDSNSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://127.0.0.1:5432/db?user=u&password=QuerySecret&sslmode=disable", "postgres://127.0.0.1:5432/db?user=u&password=***&sslmode=disable"},
		{"postgres://u@127.0.0.1:5432/db?password=QuerySecret", "postgres://u@127.0.0.1:5432/db?password=***"},
		{"postgresql://u:UserSecret@h/db?password=QuerySecret&sslpassword=KeySecret", "postgresql://u:***@h/db?password=***&sslpassword=***"},
		{"postgres://h/db?pass%77ord=EncodedSecret", "postgres://h/db?pass%77ord=***"},
		{"postgres://h/db?PASSWORD=UpperSecret", "postgres://h/db?PASSWORD=***"},
		{"postgres://h/db?%zz=x&password=Secret", "postgres://h/db?%zz=***&password=***"},
		{"postgres://h/db?sslmode=require&passfile=/etc/pgpass", "postgres://h/db?sslmode=require&passfile=/etc/pgpass"},
		{"host=127.0.0.1 user=u password=KwSecret dbname=db", "host=127.0.0.1 user=u password=*** dbname=db"},
		{"host=h password = 'quoted Secret\\' too' dbname=db", "host=h password=*** dbname=db"},
		{"host=h sslpassword=KeySecret PASSWORD=Upper", "host=h sslpassword=*** PASSWORD=***"},
		{"host=h password='unterminated Secret", "host=h password=***"},
		{"user:Secret@host", "user:…"},
		{"idpkit.db", "idpkit.db"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := redactDSN(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("redactDSN(%q) (-want +got):\n%s", tt.in, diff)
			}
			if strings.Contains(got, "Secret") {
				t.Errorf("redactDSN(%q) = %q shows a secret", tt.in, got)
			}
		})
	}
}

// TestServeDSNNotShown: serve never prints the password of --db, in its
// log or its errors, whatever the DSN's form; nor does a tenant command
// given a URL.
func TestServeDSNNotShown(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"serve, key=value DSN", []string{"serve", "--addr", "127.0.0.1:0", "--db", "host=127.0.0.1 user=nobody password=KwSecretLEAK dbname=nothing"}},
		{"serve, password parameter, no server", []string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://127.0.0.1:1/nothing?user=nobody&password=QuerySecretLEAK&connect_timeout=1"}},
		{"tenant create, password parameter", []string{"tenant", "create", "acme", "--db", "postgres://127.0.0.1:1/nothing?user=nobody&password=QuerySecretLEAK&connect_timeout=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(t.Context(), tt.args, &out, &errs)
			if code == 0 {
				t.Fatalf("exited 0 on a database that is not there")
			}
			s := out.String() + errs.String()
			if strings.Contains(s, "LEAK") {
				t.Errorf("the password was shown:\n%s", s)
			}
			if !strings.Contains(s, "sqlstore: ") {
				t.Errorf("not refused by the store:\n%s", s)
			}
		})
	}
}

// TestRedactedError: the error keeps its chain and loses the DSN.
func TestRedactedError(t *testing.T) {
	inner := errors.New("boom")
	dsn := "host=h password=Secret"
	err := redactedError{fmt.Errorf("sqlstore: unsupported database %q: %w", dsn, inner), dsn}
	if diff := cmp.Diff(`sqlstore: unsupported database "host=h password=***": boom`, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(err, inner) {
		t.Error("the chain is lost")
	}
}

// TestServeTLSCipherSuites: TLS 1.2 clients that offer only CBC suites
// (not AEAD) are refused; AES-GCM and ChaCha20-Poly1305 are accepted, and
// TLS 1.3 is as before.
func TestServeTLSCipherSuites(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c := newTestCert(t, "suites")
	c.write(t, certFile, keyFile, time.Now())
	certs, err := newCertReloader(certFile, keyFile, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), TLSConfig: serverTLSConfig(certs), ErrorLog: serverErrorLog(slog.New(slog.DiscardHandler))}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	tests := []struct {
		name    string
		version uint16
		suites  []uint16
		want    string // the suite agreed, or "refused"
	}{
		{"CBC-SHA only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}, "refused"},
		{"CBC-SHA256 only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}, "refused"},
		{"AES-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{"AES-256-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{"ChaCha20-Poly1305", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		{"CBC first, GCM too", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{"TLS 1.3", tls.VersionTLS13, nil, "TLS 1.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{RootCAs: certPool(c), MinVersion: tt.version, MaxVersion: tt.version, CipherSuites: tt.suites, ServerName: "localhost"}
			conn, err := tls.Dial("tcp", ln.Addr().String(), cfg)
			got := "refused"
			if err == nil {
				// TLS 1.3 picks among its own suites, all AEAD.
				got = "TLS 1.3"
				if st := conn.ConnectionState(); st.Version != tls.VersionTLS13 {
					got = tls.CipherSuiteName(st.CipherSuite)
				}
				conn.Close()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s (err %v)", diff, err)
			}
		})
	}
}

// TestServerErrorLog: the http.Server's error lines are Warn, but for TLS
// handshake failures, which strangers cause at will: those are Debug.
func TestServerErrorLog(t *testing.T) {
	var logs bytes.Buffer
	l := serverErrorLog(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Print("http: TLS handshake error from 192.0.2.1:5555: EOF")
	l.Print("http: panic serving 192.0.2.1:5555: boom")
	l.Print("http2: server: error reading preface from client 192.0.2.1:5555: EOF")
	var got []string
	for line := range strings.Lines(logs.String()) {
		level, _, _ := strings.Cut(strings.TrimPrefix(line[strings.Index(line, "level="):], "level="), " ")
		got = append(got, level)
	}
	if diff := cmp.Diff([]string{"DEBUG", "WARN", "WARN"}, got); diff != "" {
		t.Errorf("levels (-want +got):\n%s\n%s", diff, logs.String())
	}
	// Served for real: a client that does not finish its handshake is
	// logged at Debug, and not at all at Info.
	logs.Reset()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newTestCert(t, "log").write(t, certFile, keyFile, time.Now())
	certs, err := newCertReloader(certFile, keyFile, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var info syncBuffer
	srv := &http.Server{Handler: http.NotFoundHandler(), TLSConfig: serverTLSConfig(certs), ErrorLog: serverErrorLog(slog.New(slog.NewTextHandler(&info, nil)))}
	go srv.ServeTLS(ln, "", "")
	for range 5 {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) // plain http to a TLS port
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [512]byte
		conn.Read(b[:])
		conn.Close()
	}
	srv.Close()
	if s := info.String(); s != "" {
		t.Errorf("failed handshakes logged at Info level or above:\n%s", s)
	}
}

// TestCertReloadSameStamp: a renewed pair copied over the old one with
// its size and modification times kept (cp -p, rsync -t, tar) is loaded:
// the reloader compares the files' contents too.
func TestCertReloadSameStamp(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	old := newTestCert(t, "gen3")
	// A second pair of exactly the same sizes (the signature's length
	// varies by a byte or two).
	var renewed testCert
	for range 200 {
		renewed = newTestCert(t, "gen4")
		if len(renewed.certPEM) == len(old.certPEM) && len(renewed.keyPEM) == len(old.keyPEM) {
			break
		}
	}
	if len(renewed.certPEM) != len(old.certPEM) || len(renewed.keyPEM) != len(old.keyPEM) {
		t.Fatal("no pair of the same size in 200 tries")
	}
	stamp := time.Now().Add(-time.Hour).Truncate(time.Second)
	old.write(t, certFile, keyFile, stamp)
	var logs syncBuffer
	certs, err := newCertReloader(certFile, keyFile, 0, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	served := func() string {
		c, err := certs.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.Subject.CommonName
	}
	if got := served(); got != "gen3" {
		t.Fatalf("served %q first", got)
	}
	renewed.write(t, certFile, keyFile, stamp)
	for _, f := range []string{certFile, keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(stamp) {
			t.Fatalf("%s: mtime %v, want %v", f, fi.ModTime(), stamp)
		}
	}
	if diff := cmp.Diff("gen4", served()); diff != "" {
		t.Errorf("after a same-size, same-mtime renewal (-want +got):\n%s\n%s", diff, logs.String())
	}
}

// certPool trusts c only.
func certPool(c testCert) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.leaf)
	return pool
}
