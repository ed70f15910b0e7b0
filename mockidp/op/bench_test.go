package op

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchProvider is a provider on a fixed clock with the fixture keys, for
// benchmarks.
func benchProvider(b *testing.B) (*Provider, *fakeDirectory, *httptest.Server) {
	b.Helper()
	dir := newFakeDirectory()
	dir.clients[ctlESClient] = Client{ID: ctlESClient, Secret: "es secret", RedirectURIs: []string{testRedirect}, SigningAlg: AlgES256}
	now := time.Now()
	var base string
	p, err := New(Config{
		BaseURL:     func() string { return base },
		OrgID:       "00o1org",
		Directory:   dir,
		Now:         func() time.Time { return now },
		SigningKeys: testKeysB(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	base = srv.URL
	b.Cleanup(srv.Close)
	return p, dir, srv
}

// testKeysB reads the fixture keys (as testKeys does) for a benchmark.
func testKeysB(b *testing.B) []crypto.Signer {
	b.Helper()
	var out []crypto.Signer
	for _, name := range []string{"mockidp-op-1.pem", "mockidp-op-2.pem"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", name))
		if err != nil {
			b.Fatalf("fixture key: %v", err)
		}
		blk, _ := pem.Decode(raw)
		if blk == nil {
			b.Fatalf("fixture key %s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			b.Fatalf("fixture key %s: %v", name, err)
		}
		out = append(out, k.(crypto.Signer))
	}
	return out
}

// benchSign mints a full ID token (claims for scopes openid profile email
// groups, as the token endpoint builds them) with the client's cached key.
func benchSign(b *testing.B, clientID string) {
	p, dir, _ := benchProvider(b)
	client := dir.clients[clientID]
	user := dir.users["00u1alice"]
	as := &authServer{id: "default"}
	scopes := []string{"openid", "profile", "email", "groups"}
	sign, err := p.idTokenSigner(client)
	if err != nil {
		b.Fatal(err)
	}
	now := p.now()
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		claims := p.idClaims(as, client, user, scopes, now, now, "n-456", "access-token-stand-in")
		if _, err := sign(claims); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	cpu.report(b)
}

// cpuMeter measures the process's CPU time over a benchmark loop.
type cpuMeter struct {
	start time.Duration
	ok    bool
	// paused is CPU time spent with the timer stopped, left out.
	paused time.Duration
	stop   time.Duration
}

func startCPU() *cpuMeter {
	c := &cpuMeter{}
	c.start, c.ok = processCPU()
	return c
}

func (c *cpuMeter) pause() {
	if c.ok {
		c.stop, _ = processCPU()
	}
}

func (c *cpuMeter) resume() {
	if c.ok {
		now, _ := processCPU()
		c.paused += now - c.stop
	}
}

// report adds cpu-µs/op: CPU time of the whole process (client and server
// goroutines alike) per op.
func (c *cpuMeter) report(b *testing.B) {
	if !c.ok || b.N == 0 {
		return
	}
	end, _ := processCPU()
	b.ReportMetric(float64((end-c.start-c.paused).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkSignRS256 is the cost of one RS256 ID token (RSA-2048).
func BenchmarkSignRS256(b *testing.B) { benchSign(b, "0oaweb") }

// BenchmarkSignES256 is the cost of one ES256 ID token (P-256).
func BenchmarkSignES256(b *testing.B) { benchSign(b, ctlESClient) }

// BenchmarkTokenEndpoint redeems authorization codes at the token
// endpoint over HTTP (client_secret_basic, PKCE S256, the response read
// and decoded as a client would). The codes are issued before the timer
// starts, straight into the provider's code store as issueCode stores
// them; each request mints an access token and an ID token (RS256).
func BenchmarkTokenEndpoint(b *testing.B) {
	p, _, srv := benchProvider(b)
	verifier, challenge := pkce("bench-verifier-")
	const batch = 1 << 14
	codes := make([]string, 0, batch)
	issue := func() {
		codes = codes[:0]
		now := p.now()
		p.mu.Lock()
		for range batch {
			c := randomID(43)
			p.codes[c] = &authCode{server: "", clientID: "0oaweb", redirectURI: testRedirect, challenge: challenge, nonce: "n-456",
				scopes: []string{"openid", "profile", "email"}, userID: "00u1alice", authTime: now, expires: now.Add(codeLifetime)}
			codes = append(codes, c)
		}
		p.mu.Unlock()
	}
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	auth := basic("0oaweb", "web secret+/=").Get("Authorization")
	endpoint := srv.URL + "/oauth2/v1/token"
	issue()
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		if i == len(codes) {
			b.StopTimer()
			cpu.pause()
			issue()
			i = 0
			cpu.resume()
			b.StartTimer()
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
		i++
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id_token"`) {
			b.Fatalf("token %d: %s", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	cpu.report(b)
}
