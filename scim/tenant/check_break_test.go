package tenant

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCheckSignInEchoedSecret: a token endpoint that echoes the client
// secret (as sent, URL-encoded or as the Basic header) into its error
// gets it into no check detail, no error and no log line.
func TestCheckSignInEchoedSecret(t *testing.T) {
	const sec = "s3cret+/Very=Secret Value"
	for _, tc := range []struct {
		name   string
		status int
		echo   func(r *http.Request) string
	}{
		{"plain in error_description, 500", 500, func(*http.Request) string { return "bad secret " + sec }},
		{"plain in error_description, 400", 400, func(*http.Request) string { return "bad secret " + sec }},
		{"url-encoded, 403", 403, func(*http.Request) string { return "bad secret " + url.QueryEscape(sec) }},
		{"basic header, 400", 400, func(r *http.Request) string { return "got " + r.Header.Get("Authorization") }},
		{"basic credentials, 418", 418, func(r *http.Request) string {
			return "got " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("0oa1")+":"+url.QueryEscape(sec)))
		}},
		{"the body, 400", 400, func(r *http.Request) string {
			u, p, _ := r.BasicAuth()
			return "user " + u + " pass " + p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/v1/token") {
					fakeOkta{}.serve(w, r, srv.URL)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				json.NewEncoder(w).Encode(map[string]string{"error": "server_error " + tc.echo(r), "error_description": tc.echo(r)})
			}))
			t.Cleanup(srv.Close)
			s, _, _ := newService(t)
			var logs bytes.Buffer
			s.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s.HTTPClient = srv.Client()
			ctx := context.Background()
			if _, err := s.Create(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			_, checks, err := s.ConfigureChecked(ctx, "acme", SignIn{OktaDomain: srv.URL, ClientID: "0oa1", ClientSecret: sec})
			if err == nil {
				t.Fatal("the check passed")
			}
			b, _ := json.Marshal(checks)
			enc := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("0oa1") + ":" + url.QueryEscape(sec)))
			for _, leak := range []string{sec, url.QueryEscape(sec), enc, "Very"} {
				for what, text := range map[string]string{"checks": string(b), "error": err.Error(), "message": Message(err), "log": logs.String()} {
					if strings.Contains(text, leak) {
						t.Errorf("the %s holds the client secret (%q): %s", what, leak, text)
					}
				}
			}
		})
	}
}

// TestCheckSignInStaysOnTheIssuer: a lying "Okta domain" cannot point the
// server elsewhere: redirects of each of the three requests are not
// followed, endpoints off the issuer's origin are not contacted, answers
// over 1 MiB are refused and a slow answer is cut off.
func TestCheckSignInStaysOnTheIssuer(t *testing.T) {
	var elsewhereHits int
	var mu sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhereHits++
		mu.Unlock()
		w.Write(rsaJWKS(1))
	}))
	t.Cleanup(elsewhere.Close)
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, base string)
		want    string
	}{
		{"discovery redirects", func(w http.ResponseWriter, r *http.Request, base string) {
			http.Redirect(w, r, elsewhere.URL+"/.well-known/openid-configuration", http.StatusFound)
		}, "answered a redirect"},
		{"keys redirect", func(w http.ResponseWriter, r *http.Request, base string) {
			if strings.HasSuffix(r.URL.Path, "/keys") {
				http.Redirect(w, r, elsewhere.URL+"/keys", http.StatusTemporaryRedirect)
				return
			}
			fakeOkta{}.serve(w, r, base)
		}, "answered a redirect"},
		{"token endpoint redirects", func(w http.ResponseWriter, r *http.Request, base string) {
			if strings.HasSuffix(r.URL.Path, "/token") {
				http.Redirect(w, r, elsewhere.URL+"/token", http.StatusTemporaryRedirect)
				return
			}
			fakeOkta{}.serve(w, r, base)
		}, "answered a redirect"},
		{"keys elsewhere", docEdit(func(doc map[string]any) { doc["jwks_uri"] = elsewhere.URL + "/keys" }), "outside the issuer's origin"},
		{"token endpoint elsewhere", docEdit(func(doc map[string]any) { doc["token_endpoint"] = elsewhere.URL + "/token" }), "outside the issuer's origin"},
		{"token endpoint with user info", docEdit(func(doc map[string]any) {
			u, _ := url.Parse(doc["token_endpoint"].(string))
			doc["token_endpoint"] = u.Scheme + "://x@" + u.Host + u.Path
		}), "outside the issuer's origin"},
		{"huge discovery", func(w http.ResponseWriter, r *http.Request, base string) {
			w.Write([]byte(`{"issuer":"` + base + `","x":"`))
			w.Write(bytes.Repeat([]byte("a"), 2<<20))
			w.Write([]byte(`"}`))
		}, "more than 1 MiB"},
		{"huge keys", func(w http.ResponseWriter, r *http.Request, base string) {
			if strings.HasSuffix(r.URL.Path, "/keys") {
				w.Write([]byte(`{"keys":[],"x":"`))
				w.Write(bytes.Repeat([]byte("a"), 2<<20))
				w.Write([]byte(`"}`))
				return
			}
			fakeOkta{}.serve(w, r, base)
		}, "more than 1 MiB"},
		{"slow keys", func(w http.ResponseWriter, r *http.Request, base string) {
			if strings.HasSuffix(r.URL.Path, "/keys") {
				w.Write([]byte(`{"keys":[`))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			}
			fakeOkta{}.serve(w, r, base)
		}, "signing keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.handler(w, r, srv.URL) }))
			t.Cleanup(srv.Close)
			s, _, _ := newService(t)
			c := srv.Client()
			c.Timeout = 300 * time.Millisecond
			s.HTTPClient = c
			ctx := context.Background()
			if _, err := s.Create(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err := s.CheckSignIn(ctx, "acme", SignIn{OktaDomain: srv.URL, ClientID: "0oa1", ClientSecret: "s3cret"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the check took %s", d)
			}
			mu.Lock()
			defer mu.Unlock()
			if elsewhereHits != 0 {
				t.Errorf("the server contacted another origin %d times", elsewhereHits)
			}
		})
	}
}

// docEdit serves fakeOkta with its discovery document changed by edit.
func docEdit(edit func(doc map[string]any)) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, base string) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			fakeOkta{}.serve(w, r, base)
			return
		}
		doc := map[string]any{"issuer": base, "authorization_endpoint": base + "/oauth2/v1/authorize",
			"token_endpoint": base + "/oauth2/v1/token", "jwks_uri": base + "/oauth2/v1/keys", "userinfo_endpoint": base + "/oauth2/v1/userinfo"}
		edit(doc)
		json.NewEncoder(w).Encode(doc)
	}
}
