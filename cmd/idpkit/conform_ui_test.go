package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/suites/check"
)

// seen is what a test server was sent.
type seen struct {
	Method, Path, Query, Body, Host        string
	Auth, ContentType, Cookie, XFF, Origin string
	Hop                                    string
}

// recorder is an httptest server that remembers every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: string(b), Host: r.Host,
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Cookie: r.Header.Get("Cookie"),
			XFF: r.Header.Get("X-Forwarded-For"), Origin: r.Header.Get("Origin"), Hop: r.Header.Get("X-Hop"),
		})
		rec.mu.Unlock()
		w.Header().Set("Set-Cookie", "sid=1")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Location", "http://"+r.Host+r.URL.Path)
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// take returns the requests seen since the last call and forgets them.
func (r *recorder) take() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

func host(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestConformUIProxy: /proxy/… reaches the target under its path, with
// the method, path, query, body and Authorization; nothing reaches
// another host, whatever the path, the request target or the headers say.
func TestConformUIProxy(t *testing.T) {
	target, other := newRecorder(t), newRecorder(t)
	th, oh := host(t, target.URL), host(t, other.URL)
	base, err := url.Parse(target.URL + "/t/acme/scim/v2")
	if err != nil {
		t.Fatal(err)
	}
	h := uiHandler(fstest.MapFS{}, base, nil)
	fwd := func(method, path, query, body, ctype string) []seen {
		return []seen{{Method: method, Path: "/t/acme/scim/v2" + path, Query: query, Body: body, Host: th, Auth: "Bearer s3cret", ContentType: ctype}}
	}
	tests := []struct {
		name, method, target, body string
		header                     map[string]string
		reqHost                    string
		wantStatus                 int
		want                       []seen // what the target got
	}{
		{name: "get with query", method: "GET", target: "/proxy/Users?filter=userName%20eq%20%22a%22&count=2",
			wantStatus: 201, want: fwd("GET", "/Users", "filter=userName%20eq%20%22a%22&count=2", "", "")},
		{name: "post body and content type", method: "POST", target: "/proxy/Users", body: `{"userName":"a"}`,
			header: map[string]string{"Content-Type": "application/scim+json"}, wantStatus: 201,
			want: fwd("POST", "/Users", "", `{"userName":"a"}`, "application/scim+json")},
		{name: "put", method: "PUT", target: "/proxy/Users/1", body: `{}`, wantStatus: 201, want: fwd("PUT", "/Users/1", "", "{}", "")},
		{name: "patch", method: "PATCH", target: "/proxy/Groups/1", body: `{"Operations":[]}`, wantStatus: 201, want: fwd("PATCH", "/Groups/1", "", `{"Operations":[]}`, "")},
		{name: "delete", method: "DELETE", target: "/proxy/Users/1", wantStatus: 201, want: fwd("DELETE", "/Users/1", "", "", "")},
		{name: "the base itself", method: "GET", target: "/proxy", wantStatus: 201, want: fwd("GET", "", "", "", "")},
		{name: "trailing slash", method: "GET", target: "/proxy/", wantStatus: 201, want: fwd("GET", "/", "", "", "")},
		{name: "escaped id kept escaped", method: "GET", target: "/proxy/Users/a%20b%2Bc", wantStatus: 201, want: fwd("GET", "/Users/a%20b%2Bc", "", "", "")},
		{name: "cookies, forwarded-for, origin and hop-by-hop headers dropped", method: "GET", target: "/proxy/Users",
			header: map[string]string{"Cookie": "idpkit_admin=x", "X-Forwarded-For": "10.1.2.3", "Origin": "http://example.com", "Sec-Fetch-Site": "same-origin",
				"Connection": "X-Hop", "X-Hop": "1"},
			reqHost: "example.com", wantStatus: 201, want: fwd("GET", "/Users", "", "", "")},
		{name: "Host header of another host", method: "GET", target: "/proxy/Users", reqHost: oh, wantStatus: 201, want: fwd("GET", "/Users", "", "", "")},
		{name: "absolute request target of another host", method: "GET", target: other.URL + "/proxy/Users", wantStatus: 201, want: fwd("GET", "/Users", "", "", "")},

		{name: "dot dot", method: "GET", target: "/proxy/../Users", wantStatus: http.StatusTemporaryRedirect},
		{name: "dot dot at the end", method: "GET", target: "/proxy/Users/..", wantStatus: http.StatusTemporaryRedirect},
		{name: "encoded dot dot", method: "GET", target: "/proxy/%2e%2e/%2E%2E/x", wantStatus: http.StatusBadRequest},
		{name: "encoded slashes and dots", method: "GET", target: "/proxy/Users%2F..%2F..%2Fadmin", wantStatus: http.StatusBadRequest},
		{name: "encoded dot segment", method: "GET", target: "/proxy/Users/%2e", wantStatus: http.StatusBadRequest},
		{name: "backslashes", method: "GET", target: `/proxy/Users/%5c..%5cadmin`, wantStatus: http.StatusBadRequest},
		{name: "network path", method: "GET", target: "/proxy//" + oh + "/x", wantStatus: http.StatusTemporaryRedirect},
		{name: "encoded network path", method: "GET", target: "/proxy/%2F" + oh + "/x", wantStatus: http.StatusBadRequest},
		{name: "control character", method: "GET", target: "/proxy/Users%0d%0aX:%201", wantStatus: http.StatusBadRequest},
		{name: "connect", method: "CONNECT", target: oh, wantStatus: http.StatusNotFound},
		{name: "connect to a proxy path", method: "CONNECT", target: "/proxy/Users", wantStatus: http.StatusMethodNotAllowed},
		{name: "trace", method: "TRACE", target: "/proxy/Users", wantStatus: http.StatusMethodNotAllowed},
		{name: "options", method: "OPTIONS", target: "/proxy/Users", wantStatus: http.StatusMethodNotAllowed},
		{name: "upgrade", method: "GET", target: "/proxy/Users", header: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, wantStatus: http.StatusBadRequest},
		{name: "another site's page", method: "POST", target: "/proxy/Users", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: http.StatusForbidden},
		{name: "another origin", method: "POST", target: "/proxy/Users", header: map[string]string{"Origin": "http://evil.example"}, reqHost: "127.0.0.1:1", wantStatus: http.StatusForbidden},
		{name: "outside the proxy", method: "GET", target: "/proxyUsers", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer s3cret")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.reqHost != "" {
				req.Host = tt.reqHost
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if diff := cmp.Diff(tt.want, target.take()); diff != "" {
				t.Errorf("the target got (-want +got):\n%s", diff)
			}
			if got := other.take(); len(got) > 0 {
				t.Errorf("another host got %+v", got)
			}
			if rec.Code == 201 {
				hdr := rec.Header()
				if hdr.Get("Set-Cookie") != "" || hdr.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("the target's cookie or CORS grant reached the page: %v", hdr)
				}
				if rec.Body.String() != `{"ok":true}` || hdr.Get("Content-Type") != "application/scim+json" || !strings.HasPrefix(hdr.Get("Location"), "http://"+th+"/t/acme/scim/v2") {
					t.Errorf("response %q %v, want the target's", rec.Body.String(), hdr)
				}
			} else if rec.Code != http.StatusTemporaryRedirect && !strings.Contains(rec.Body.String(), " ") {
				t.Errorf("refusal %d without a sentence: %q", rec.Code, rec.Body.String())
			}
		})
	}
}

// TestConformUIProxyDown: a target that does not answer is a 502 with a
// sentence naming it.
func TestConformUIProxyDown(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	base, _ := url.Parse(down.URL + "/scim/v2")
	down.Close()
	rec := httptest.NewRecorder()
	uiHandler(fstest.MapFS{}, base, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/proxy/Users", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), base.String()) {
		t.Errorf("got %d %q, want 502 naming %s", rec.Code, rec.Body.String(), base)
	}
}

// TestConformUIConfig: config.json points the page at the proxy when
// there is a target; without one, config.json and /proxy/ are 404s with
// a sentence.
func TestConformUIConfig(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:9/scim/v2")
	type answer struct {
		Status      int
		ContentType string
		Body        string
	}
	tests := []struct {
		name   string
		target *url.URL
		method string
		path   string
		want   answer
	}{
		{"config with a target", base, "GET", "/config.json", answer{200, "application/json", `{"scimUrl":"/proxy","token":""}`}},
		{"config without a target", nil, "GET", "/config.json", answer{404, "text/plain; charset=utf-8", "No config.json: idpkit conform --ui was started without --scim-url, so the page has no default target.\n"}},
		{"proxy without a target", nil, "GET", "/proxy/Users", answer{404, "text/plain; charset=utf-8", "No proxy: idpkit conform --ui was started without --scim-url; restart it with --scim-url URL to test a server through /proxy/.\n"}},
		{"proxy base without a target", nil, "POST", "/proxy", answer{404, "text/plain; charset=utf-8", "No proxy: idpkit conform --ui was started without --scim-url; restart it with --scim-url URL to test a server through /proxy/.\n"}},
		{"config is read only", base, "POST", "/config.json", answer{405, "text/plain; charset=utf-8", "The page's files are read with GET only.\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			uiHandler(fstest.MapFS{"config.json": {Data: []byte(`{"from":"fs"}`)}}, tt.target, nil).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			got := answer{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestConformUIFiles: the page's files at /, each with its content type;
// the page itself at /; no directory, nested file or missing file.
func TestConformUIFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"conform.html": {Data: []byte("<!doctype html><title>t</title>")},
		"tester.wasm":  {Data: []byte("\x00asm\x01\x00\x00\x00")},
		"tester.js":    {Data: []byte("run()")},
		"tester.css":   {Data: []byte("body{}")},
		"wasm_exec.js": {Data: []byte("go()")},
		"sub/x.js":     {Data: []byte("nested")},
	}
	h := uiHandler(fsys, nil, nil)
	type answer struct {
		Status      int
		ContentType string
		Body        string
	}
	tests := []struct {
		method, path string
		want         answer
	}{
		{"GET", "/", answer{200, "text/html; charset=utf-8", "<!doctype html><title>t</title>"}},
		{"GET", "/conform.html", answer{200, "text/html; charset=utf-8", "<!doctype html><title>t</title>"}},
		{"GET", "/tester.wasm", answer{200, "application/wasm", "\x00asm\x01\x00\x00\x00"}},
		{"GET", "/tester.js", answer{200, "text/javascript; charset=utf-8", "run()"}},
		{"GET", "/tester.css", answer{200, "text/css; charset=utf-8", "body{}"}},
		{"GET", "/wasm_exec.js", answer{200, "text/javascript; charset=utf-8", "go()"}},
		{"HEAD", "/tester.wasm", answer{200, "application/wasm", ""}},
		{"GET", "/missing.js", answer{404, "text/plain; charset=utf-8", "404 page not found\n"}},
		{"GET", "/sub", answer{404, "text/plain; charset=utf-8", "404 page not found\n"}},
		{"GET", "/sub/x.js", answer{404, "text/plain; charset=utf-8", "404 page not found\n"}},
		{"POST", "/", answer{405, "text/plain; charset=utf-8", "The page's files are read with GET only.\n"}},
		{"PUT", "/tester.js", answer{405, "text/plain; charset=utf-8", "The page's files are read with GET only.\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			got := answer{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Status == 200 && rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

// TestConformUILoopbackHost: on loopback, a request through another name
// (DNS rebinding) gets neither the page nor the proxy.
func TestConformUILoopbackHost(t *testing.T) {
	h := loopbackHostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") }))
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1:8080", 200}, {"localhost:8080", 200}, {"LOCALHOST", 200}, {"[::1]:8080", 200}, {"127.1.2.3:1", 200},
		{"evil.example:8080", 421}, {"evil.example", 421}, {"10.0.0.1:8080", 421}, {"localhost.evil.example:8080", 421}, {"", 421},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Host = tt.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body.String())
			}
		})
	}
}

// TestConformUIFlags: --ui takes only --addr and --scim-url.
func TestConformUIFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--ui", "--junit", "x.xml"}, "--ui does not take --junit"},
		{[]string{"--ui", "--json", "x.json"}, "--ui does not take --json"},
		{[]string{"--ui", "--label", "patch"}, "--ui does not take --label"},
		{[]string{"--ui", "--token", "t"}, "--ui does not take --token"},
		{[]string{"--addr", "127.0.0.1:0"}, "--addr needs --ui"},
		{[]string{"--ui", "--scim-url", "ftp://x/scim"}, "is not an http:// or https:// URL"},
		{[]string{"--ui", "--scim-url", "http://x/scim?a=1"}, "must not carry a query"},
		{[]string{"--ui", "stray"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := runCmd(t, context.Background(), append([]string{"conform"}, tt.args...)...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tt.want)
			}
		})
	}
}

// TestConformUICommand runs `idpkit conform --ui --scim-url URL` until
// Ctrl-C: it prints the page's URL, serves the page, config.json and the
// proxy, refuses another Host, and exits 130 on the signal.
func TestConformUICommand(t *testing.T) {
	target := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"conform", "--ui", "--scim-url", target.URL + "/scim/v2/"}, pw, &errs)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var page string
	var out []string
	for page == "" && lines.Scan() {
		out = append(out, lines.Text())
		page, _ = strings.CutPrefix(lines.Text(), "tester page: ")
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(page, "http://127.0.0.1:") {
		t.Fatalf("no tester page URL printed: %q\n%s", out, errs.String())
	}
	get := func(method, u, hostHeader string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer tok")
		if hostHeader != "" {
			req.Host = hostHeader
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, ctype, body := get("GET", page, ""); code != 200 || ctype != "text/html; charset=utf-8" || !strings.Contains(body, "<html") {
		t.Errorf("GET / = %d %q %.80q", code, ctype, body)
	}
	if code, _, body := get("GET", page+"config.json", ""); code != 200 || body != `{"scimUrl":"/proxy","token":""}` {
		t.Errorf("GET /config.json = %d %q", code, body)
	}
	if code, _, _ := get("GET", page+"proxy/Users?count=1", ""); code != 201 {
		t.Errorf("GET /proxy/Users = %d, want the target's 201", code)
	}
	want := []seen{{Method: "GET", Path: "/scim/v2/Users", Query: "count=1", Host: host(t, target.URL), Auth: "Bearer tok"}}
	if diff := cmp.Diff(want, target.take()); diff != "" {
		t.Errorf("the target got (-want +got):\n%s", diff)
	}
	if code, _, _ := get("GET", page+"proxy/Users", "rebound.example:80"); code != http.StatusMisdirectedRequest {
		t.Errorf("GET with Host rebound.example = %d, want 421", code)
	}
	if got := target.take(); len(got) > 0 {
		t.Errorf("a request through another name reached the target: %+v", got)
	}
	cancel()
	select {
	case code := <-done:
		if code != 130 || !strings.Contains(errs.String(), "interrupted") {
			t.Errorf("exit %d after the signal, stderr %q; want 130", code, errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("conform --ui did not stop within 10s of the signal")
	}
}

// TestConformUIProxyCatalogue: the default SCIM selection (the page's)
// gives the same pass, fail and skip set through the proxy as against the
// server itself, on a server with a known fault.
func TestConformUIProxyCatalogue(t *testing.T) {
	ctx := context.Background()
	srv := apptest.Start(t, caseSensitiveUserName)
	status := func(base, token string) map[string]string {
		t.Helper()
		target := &check.Target{BaseURL: base, Token: token, Client: &http.Client{Timeout: 30 * time.Second}}
		if err := check.Preflight(ctx, target); err != nil {
			t.Fatalf("preflight against %s: %v", base, err)
		}
		out := map[string]string{}
		for _, r := range check.RunAll(ctx, check.Select(check.SCIM(), nil, nil), target, nil) {
			out[r.ID] = map[bool]string{true: "passed", false: "failed"}[r.Passed]
			if r.Skipped {
				out[r.ID] = "skipped"
			}
		}
		return out
	}
	direct := srv.Tenant(t, "direct")
	want := status(direct.SCIMBaseURL, direct.Token)
	if want["okta-spec-09-filter-case"] != "failed" {
		t.Fatalf("the faulty server passes okta-spec-09-filter-case: %v", want)
	}
	proxied := srv.Tenant(t, "proxied")
	base, err := url.Parse(proxied.SCIMBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(loopbackHostOnly(uiHandler(fstest.MapFS{}, base, nil)))
	defer proxy.Close()
	if diff := cmp.Diff(want, status(proxy.URL+"/proxy", proxied.Token)); diff != "" {
		t.Errorf("results through the proxy (-direct +proxied):\n%s", diff)
	}
}
