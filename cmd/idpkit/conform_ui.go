package main

// `idpkit conform --ui`: the in-browser tester page served locally, with a
// reverse proxy at /proxy/ to the one SCIM service given by --scim-url, so
// the page can test a server that sends no CORS headers. The proxy is the
// page's only way out: whatever the path, the query or the headers of a
// request say, it is sent to the target's scheme and host, under the
// target's path.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/wasm"
)

// uiPage is the tester page's HTML file in its file system, served at /.
const uiPage = wasm.TesterPage

// uiProxyPath is where the proxy to --scim-url is mounted; config.json
// gives it to the page as the SCIM base URL.
const uiProxyPath = "/proxy"

// uiRefusedFlags are the conform flags that mean nothing with --ui: the
// page runs the checks, picks them and writes the reports itself.
var uiRefusedFlags = []struct{ name, why string }{
	{"junit", "the page downloads the JUnit XML report itself"},
	{"json", "the page downloads the JSON report itself"},
	{"label", "the page runs the default selection and filters the results by label"},
	{"skip", "the page runs the default selection"},
	{"strict", "the page runs the default selection"},
	{"list", "the page runs the default selection"},
	{"token", "the token is typed into the page and never given to the server"},
	{"peer-scim-url", "the page tests one service"},
	{"peer-token", "the page tests one service"},
	{"keep-data", "the page's checks delete what they create"},
	{"verbose", "there is no in-process app server to log; the proxy logs its errors all the same"},
}

// cmdConformUI is `idpkit conform --ui [--addr ADDR] [--scim-url URL]`:
// flags holds conform's parsed flags; ui is --ui, addr --addr and scimURL
// --scim-url. It serves the page until ctx is done (Ctrl-C: exit 130).
func cmdConformUI(ctx context.Context, flags *flag.FlagSet, ui bool, addr, scimURL string, stdout, stderr io.Writer) error {
	if !ui {
		return fmt.Errorf("%w: --addr needs --ui (the address to serve the tester page on)", errUsage)
	}
	for _, f := range uiRefusedFlags {
		if flagSet(flags, f.name) {
			return fmt.Errorf("%w: --ui does not take --%s: %s", errUsage, f.name, f.why)
		}
	}
	var target *url.URL
	if scimURL != "" {
		base, err := checkBaseURL("--scim-url", scimURL)
		if err != nil {
			return err
		}
		if target, err = url.Parse(base); err != nil {
			return fmt.Errorf("%w: --scim-url %q: %w", errUsage, scimURL, err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("conform --ui: listen: %w", err)
	}
	log := newLogger(stderr, slog.LevelInfo)
	h := uiHandler(wasm.Tester, target, log)
	loopback := isLoopback(ln.Addr())
	if loopback {
		h = loopbackHostOnly(h)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	pageURL := "http://" + browsable(ln.Addr()) + "/"
	fmt.Fprintf(stdout, "tester page: %s\n", pageURL)
	if target != nil {
		fmt.Fprintf(stdout, "  target:    %s (the page's SCIM base URL is %s, proxied to it and to no other host)\n", target, uiProxyPath)
	} else {
		fmt.Fprintf(stdout, "  target:    none (no --scim-url): type the SCIM base URL into the page; that server must allow the page's origin (CORS)\n")
	}
	if !loopback {
		fmt.Fprintf(stdout, "  warning:   %s is not a loopback address: anyone who can reach it can use the page and its proxy\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("conform --ui: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close() // requests still running are cut off: the user asked to stop
	}
	return fmt.Errorf("conform --ui: %w; the tester page is no longer served", errInterrupted)
}

// uiHandler serves the tester page's files (fsys) at /, config.json, and
// the proxy to target at /proxy/. A nil target means no --scim-url:
// config.json and /proxy/ answer 404. log takes the proxy's errors (nil
// discards them).
func uiHandler(fsys fs.FS, target *url.URL, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	// The patterns name no method: "GET /{file}" and the proxy's "/proxy"
	// would be ambiguous to ServeMux. Each handler checks the method.
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { serveUIFile(w, r, fsys, uiPage) })
	mux.HandleFunc("/{file}", func(w http.ResponseWriter, r *http.Request) { serveUIFile(w, r, fsys, r.PathValue("file")) })
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		if target == nil {
			uiError(w, http.StatusNotFound, "No config.json: idpkit conform --ui was started without --scim-url, so the page has no default target.")
			return
		}
		b, _ := json.Marshal(struct {
			SCIMURL string `json:"scimUrl"`
			Token   string `json:"token"`
		}{uiProxyPath, ""})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	})
	var proxy http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uiError(w, http.StatusNotFound, "No proxy: idpkit conform --ui was started without --scim-url; restart it with --scim-url URL to test a server through "+uiProxyPath+"/.")
	})
	if target != nil {
		proxy = uiProxy(target, log)
	}
	mux.Handle(uiProxyPath, proxy)
	mux.Handle(uiProxyPath+"/", proxy)
	return mux
}

// uiTypes are the content types of the page's files, by extension; the
// system's MIME table is not trusted with .wasm and .js.
var uiTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".wasm": "application/wasm",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// serveUIFile serves the file name of fsys (a plain file at its root;
// never a directory listing).
func serveUIFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) {
	if !readOnly(w, r) {
		return
	}
	if !fs.ValidPath(name) || strings.ContainsAny(name, `/\`) {
		http.NotFound(w, r)
		return
	}
	info, err := fs.Stat(fsys, name)
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype, ok := uiTypes[path.Ext(name)]
	if !ok {
		if ctype = mime.TypeByExtension(path.Ext(name)); ctype == "" {
			ctype = "application/octet-stream"
		}
	}
	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if name == uiPage {
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "no-referrer")
	}
	http.ServeContent(w, r, name, info.ModTime(), bytes.NewReader(b))
}

// readOnly answers 405 to a method other than GET and HEAD and reports
// whether the request may go on.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	uiError(w, http.StatusMethodNotAllowed, "The page's files are read with GET only.")
	return false
}

// uiProxyMethods are the methods the proxy forwards: SCIM's. CONNECT,
// TRACE and OPTIONS (the page is same-origin, so it never preflights)
// are refused.
var uiProxyMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// uiDroppedHeaders are request headers of the browser that the target
// does not get: its cookies for the page's origin, and what says a
// browser page sent the request (idpkit conform --scim-url sends none of
// them, and the page must see what the command sees).
var uiDroppedHeaders = []string{"Cookie", "Origin", "Referer", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}

// uiProxy is the reverse proxy to target: /proxy/REST → target + /REST,
// query kept, on target's scheme and host only.
func uiProxy(target *url.URL, log *slog.Logger) http.Handler {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second // as idpkit conform's client
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The path was checked by the handler below.
			p, raw, _ := uiProxiedPath(target, pr.In.URL)
			out := pr.Out
			out.URL = &url.URL{Scheme: target.Scheme, Host: target.Host, Path: p, RawPath: raw, RawQuery: pr.In.URL.RawQuery}
			out.Host = target.Host
			for _, h := range uiDroppedHeaders {
				out.Header.Del(h)
			}
			for k := range out.Header {
				if strings.HasPrefix(k, "Sec-Fetch-") {
					out.Header.Del(k)
				}
			}
		},
		Transport: tr,
		ModifyResponse: func(resp *http.Response) error {
			// Nothing of the target's reaches the page's origin beyond the
			// SCIM exchange: no cookies, and no CORS grant that would let
			// another site's page read the proxy.
			resp.Header.Del("Set-Cookie")
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					resp.Header.Del(k)
				}
			}
			return nil
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("conform --ui: proxy", "method", r.Method, "path", r.URL.Path, "err", err)
			uiError(w, http.StatusBadGateway, fmt.Sprintf("The proxy could not reach %s: %v.", target, err))
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(uiProxyMethods, r.Method) {
			w.Header().Set("Allow", strings.Join(uiProxyMethods, ", "))
			uiError(w, http.StatusMethodNotAllowed, "The proxy forwards "+strings.Join(uiProxyMethods, ", ")+" only, not "+r.Method+".")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			uiError(w, http.StatusBadRequest, "The proxy does not switch protocols.")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			uiError(w, http.StatusForbidden, "The proxy serves the tester page on this origin only, not another site's page.")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			uiError(w, http.StatusForbidden, "The proxy serves the tester page on this origin only, not a page from "+o+".")
			return
		}
		if _, _, err := uiProxiedPath(target, r.URL); err != nil {
			uiError(w, http.StatusBadRequest, err.Error())
			return
		}
		rp.ServeHTTP(w, r)
	})
}

// uiProxiedPath maps the path of a request to the proxy (u) onto target:
// /proxy → target's path, /proxy/REST → target's path + /REST, both
// decoded and escaped. It refuses a path that would leave target's path
// once the target decodes it: "." and ".." segments (also as %2e),
// empty segments ("//host"), backslashes, and bytes below 0x20.
func uiProxiedPath(target *url.URL, u *url.URL) (p, raw string, err error) {
	esc, ok := strings.CutPrefix(u.EscapedPath(), uiProxyPath)
	if !ok || esc != "" && esc[0] != '/' {
		return "", "", fmt.Errorf("the proxy serves %s/… only", uiProxyPath)
	}
	rest, err := url.PathUnescape(esc)
	if err != nil {
		return "", "", fmt.Errorf("the path %q is not validly escaped", esc)
	}
	if strings.ContainsFunc(rest, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "", "", errors.New("the path must not hold a backslash or a control character")
	}
	if rest != "" {
		segs := strings.Split(rest[1:], "/")
		for i, s := range segs {
			if s == "." || s == ".." || s == "" && i < len(segs)-1 {
				return "", "", fmt.Errorf("the path %q has an empty, . or .. segment; the proxy sends nothing outside %s", esc, target)
			}
		}
	}
	base := strings.TrimSuffix(target.Path, "/")
	rawBase := strings.TrimSuffix(target.EscapedPath(), "/")
	p, raw = base+rest, rawBase+esc
	if p == "" {
		p, raw = "/", "/"
	}
	if raw == p {
		raw = ""
	}
	return p, raw, nil
}

// uiError writes a sentence a person can act on as a plain-text answer.
func uiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// loopbackHostOnly refuses requests whose Host is not a loopback name
// (localhost, 127.0.0.0/8, ::1): a page of another site that rebinds its
// own DNS name to 127.0.0.1 gets neither the page nor the proxy.
func loopbackHostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			uiError(w, http.StatusMisdirectedRequest, "The tester page listens on loopback: open it as http://127.0.0.1:PORT/ or http://localhost:PORT/, not through the name "+r.Host+".")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// isLoopback reports whether a listener's address is a loopback IP.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// browsable is a listener's address as a browser can open it: an
// unspecified IP (0.0.0.0, ::) becomes 127.0.0.1.
func browsable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if ok && ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
	}
	return a.String()
}
