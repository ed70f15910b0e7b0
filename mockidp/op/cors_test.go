package op

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "https://spa.example", want: "https://spa.example"},
		{in: "HTTPS://SPA.Example", want: "https://spa.example"},
		{in: "http://localhost:5173", want: "http://localhost:5173"},
		{in: "https://spa.example:443", want: "https://spa.example"},
		{in: "http://spa.example:80", want: "http://spa.example"},
		{in: "http://spa.example:443", want: "http://spa.example:443"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{in: "https://spa.example/", wantErr: true},
		{in: "https://spa.example/app", wantErr: true},
		{in: "https://spa.example?x=1", wantErr: true},
		{in: "https://spa.example?", wantErr: true},
		{in: "https://spa.example#top", wantErr: true},
		{in: "https://user@spa.example", wantErr: true},
		{in: "https://spa.example:", wantErr: true},
		{in: "https://spa.example:0", wantErr: true},
		{in: "https://spa.example:99999", wantErr: true},
		{in: "https://spa.example:8x", wantErr: true},
		{in: "ftp://spa.example", wantErr: true},
		{in: "spa.example", wantErr: true},
		{in: "null", wantErr: true},
		{in: "", wantErr: true},
		{in: "https://", wantErr: true},
		{in: "*", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeOrigin(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("normalizeOrigin(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestTrustedOriginsConfig(t *testing.T) {
	dir := newFakeDirectory()
	_, err := New(Config{BaseURL: func() string { return "http://127.0.0.1:9" }, Directory: dir, SigningKeys: testKeys(t),
		TrustedOrigins: []string{"https://spa.example/"}})
	if err == nil {
		t.Errorf("New accepted an origin with a path")
	}
}

func TestCORS(t *testing.T) {
	type result struct {
		Status                              int
		AllowOrigin, AllowCredentials, Vary string
		AllowMethods, AllowHeaders, MaxAge  string
		ExposeHeaders                       string
	}
	allowed := func(status int, origin string) result {
		return result{Status: status, AllowOrigin: origin, AllowCredentials: "true", Vary: "Origin", ExposeHeaders: "WWW-Authenticate"}
	}
	preflight := func(origin, methods string) result {
		return result{Status: 204, AllowOrigin: origin, AllowCredentials: "true", Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			AllowMethods: methods, AllowHeaders: corsAllowHeaders, MaxAge: "7200"}
	}
	plain := func(status int) result { return result{Status: status, Vary: "Origin"} }
	const added = "https://added.example:8443"
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header http.Header
		want   result
	}{
		{"discovery, configured origin", "GET", "/.well-known/openid-configuration", "", http.Header{"Origin": {ctlTrustedOrig}}, allowed(200, ctlTrustedOrig)},
		{"discovery, second configured origin", "GET", "/oauth2/default/.well-known/openid-configuration", "", http.Header{"Origin": {ctlTrustedOrig2}}, allowed(200, ctlTrustedOrig2)},
		{"keys, added origin", "GET", "/oauth2/default/v1/keys", "", http.Header{"Origin": {added}}, allowed(200, added)},
		{"keys, origin sent in other case", "GET", "/oauth2/v1/keys", "", http.Header{"Origin": {"https://SPA.example"}}, allowed(200, "https://SPA.example")},
		{"token error, trusted", "POST", "/oauth2/v1/token", "grant_type=authorization_code&code=x", http.Header{"Origin": {ctlTrustedOrig}, "Authorization": basic("0oaweb", "web secret+/=")["Authorization"]}, allowed(400, ctlTrustedOrig)},
		{"userinfo, trusted", "GET", "/oauth2/v1/userinfo", "", http.Header{"Origin": {ctlTrustedOrig}}, allowed(401, ctlTrustedOrig)},
		{"revoke, trusted", "POST", "/oauth2/v1/revoke", "token=x&client_id=0oapublic", http.Header{"Origin": {ctlTrustedOrig}}, allowed(200, ctlTrustedOrig)},
		{"introspect, trusted", "POST", "/oauth2/v1/introspect", "token=x&client_id=0oapublic", http.Header{"Origin": {ctlTrustedOrig}}, allowed(200, ctlTrustedOrig)},
		{"keys, untrusted origin", "GET", "/oauth2/v1/keys", "", http.Header{"Origin": {"https://evil.example"}}, plain(200)},
		{"keys, trusted host on another port", "GET", "/oauth2/v1/keys", "", http.Header{"Origin": {"https://spa.example:8443"}}, plain(200)},
		{"keys, trusted host on another scheme", "GET", "/oauth2/v1/keys", "", http.Header{"Origin": {"http://spa.example"}}, plain(200)},
		{"keys, null origin", "GET", "/oauth2/v1/keys", "", http.Header{"Origin": {"null"}}, plain(200)},
		{"keys, no origin", "GET", "/oauth2/v1/keys", "", nil, plain(200)},
		{"authorize gets no CORS", "GET", "/oauth2/v1/authorize", "", http.Header{"Origin": {ctlTrustedOrig}}, result{Status: 400}},
		{"logout gets no CORS", "GET", "/oauth2/v1/logout", "", http.Header{"Origin": {ctlTrustedOrig}}, result{Status: 400}},
		{"preflight token", "OPTIONS", "/oauth2/default/v1/token", "", http.Header{"Origin": {ctlTrustedOrig}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"content-type,x-okta-user-agent-extended"}}, preflight(ctlTrustedOrig, "POST, OPTIONS")},
		{"preflight keys", "OPTIONS", "/oauth2/v1/keys", "", http.Header{"Origin": {added}, "Access-Control-Request-Method": {"GET"}}, preflight(added, "GET, HEAD, OPTIONS")},
		{"preflight userinfo", "OPTIONS", "/oauth2/v1/userinfo", "", http.Header{"Origin": {ctlTrustedOrig}, "Access-Control-Request-Method": {"GET"},
			"Access-Control-Request-Headers": {"authorization"}}, preflight(ctlTrustedOrig, "GET, POST, OPTIONS")},
		{"preflight revoke", "OPTIONS", "/oauth2/v1/revoke", "", http.Header{"Origin": {ctlTrustedOrig}, "Access-Control-Request-Method": {"POST"}}, preflight(ctlTrustedOrig, "POST, OPTIONS")},
		{"preflight, untrusted origin", "OPTIONS", "/oauth2/v1/token", "", http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}}, plain(403)},
		{"OPTIONS without preflight headers", "OPTIONS", "/oauth2/v1/token", "", http.Header{"Origin": {ctlTrustedOrig}}, allowed(405, ctlTrustedOrig)},
	}
	e := ctlEnv(t, func(c *Config) { c.TrustedOrigins = []string{ctlTrustedOrig, ctlTrustedOrig2} })
	if err := e.p.AddTrustedOrigin(added); err != nil {
		t.Fatal(err)
	}
	if err := e.p.AddTrustedOrigin("https://bad.example/path"); err == nil {
		t.Errorf("AddTrustedOrigin accepted an origin with a path")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.ctlRequest(t, http.DefaultClient, tt.method, tt.path, tt.body, tt.header)
			h := r.header
			got := result{
				Status: r.status, AllowOrigin: h.Get("Access-Control-Allow-Origin"), AllowCredentials: h.Get("Access-Control-Allow-Credentials"),
				AllowMethods: h.Get("Access-Control-Allow-Methods"), AllowHeaders: h.Get("Access-Control-Allow-Headers"),
				MaxAge: h.Get("Access-Control-Max-Age"), ExposeHeaders: h.Get("Access-Control-Expose-Headers"),
			}
			for i, v := range h.Values("Vary") {
				if i > 0 {
					got.Vary += ", "
				}
				got.Vary += v
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a preflight leaves a queued error alone", func(t *testing.T) {
		if err := e.p.QueueError(QueuedError{Endpoint: EndpointToken, Status: 500}); err != nil {
			t.Fatal(err)
		}
		defer e.p.ClearErrors()
		r := e.ctlRequest(t, http.DefaultClient, "OPTIONS", "/oauth2/v1/token", "", http.Header{"Origin": {ctlTrustedOrig}, "Access-Control-Request-Method": {"POST"}})
		r2 := e.ctlRequest(t, http.DefaultClient, "POST", "/oauth2/v1/token", "grant_type=x", http.Header{"Origin": {ctlTrustedOrig}, "Authorization": basic("0oaweb", "web secret+/=")["Authorization"]})
		if diff := cmp.Diff([]int{204, 500}, []int{r.status, r2.status}); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
}
