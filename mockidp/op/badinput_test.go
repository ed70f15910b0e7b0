package op

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends malformed requests to every endpoint: each gets a 4xx
// in its protocol's shape, never a 5xx.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("a", 2<<20)
	tests := []struct {
		name, method, path, body, contentType, auth string
		wantStatus                                  int
		wantType                                    string // prefix of Content-Type
	}{
		{"token GET", "GET", "/oauth2/v1/token", "", "", "", 405, "application/json"},
		{"token malformed basic", "POST", "/oauth2/v1/token", "grant_type=authorization_code", "application/x-www-form-urlencoded", "Basic !!!", 401, "application/json"},
		{"token basic without colon", "POST", "/oauth2/v1/token", "grant_type=authorization_code", "application/x-www-form-urlencoded", "Basic Zm9v", 401, "application/json"},
		{"token basic bad escape", "POST", "/oauth2/v1/token", "grant_type=authorization_code", "application/x-www-form-urlencoded", "Basic JXp6OiV6eg==", 401, "application/json"},
		{"token JSON body", "POST", "/oauth2/v1/token", `{"grant_type":"authorization_code"}`, "application/json", "", 401, "application/json"},
		{"token bad form encoding", "POST", "/oauth2/v1/token", "grant_type=%zz", "application/x-www-form-urlencoded", "", 400, "application/json"},
		{"token body over 1 MiB", "POST", "/oauth2/v1/token", "code=" + big, "application/x-www-form-urlencoded", "", 400, "application/json"},
		{"token duplicate client_id", "POST", "/oauth2/v1/token", "client_id=a&client_id=b", "application/x-www-form-urlencoded", "", 400, "application/json"},
		{"authorize PUT", "PUT", "/oauth2/v1/authorize", "", "", "", 405, "text/html"},
		{"authorize bad form", "POST", "/oauth2/v1/authorize", "client_id=%zz", "application/x-www-form-urlencoded", "", 400, "text/html"},
		{"authorize empty", "GET", "/oauth2/v1/authorize", "", "", "", 400, "text/html"},
		{"authorize script in client_id", "GET", "/oauth2/v1/authorize?client_id=%3Cscript%3E", "", "", "", 400, "text/html"},
		{"userinfo DELETE", "DELETE", "/oauth2/v1/userinfo", "", "", "", 405, "application/json"},
		{"userinfo token twice", "POST", "/oauth2/v1/userinfo", "access_token=x", "application/x-www-form-urlencoded", "Bearer y", 400, "application/json"},
		{"userinfo Basic auth", "GET", "/oauth2/v1/userinfo", "", "", "Basic Zm9vOmJhcg==", 401, "application/json"},
		{"logout no params", "GET", "/oauth2/v1/logout", "", "", "", 400, "text/html"},
		{"logout garbage hint", "GET", "/oauth2/v1/logout?id_token_hint=a.b.c", "", "", "", 400, "text/html"},
		{"keys POST", "POST", "/oauth2/v1/keys", "", "", "", 405, "application/json"},
		{"revoke no token", "POST", "/oauth2/v1/revoke", "", "application/x-www-form-urlencoded", "Basic MG9hd2ViOndlYitzZWNyZXQlMkIlMkYlM0Q=", 400, "application/json"},
		{"introspect unknown token", "POST", "/oauth2/v1/introspect", "token=zzz", "application/x-www-form-urlencoded", "Basic MG9hd2ViOndlYitzZWNyZXQlMkIlMkYlM0Q=", 200, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, e.srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			r := do(t, http.DefaultClient, req)
			if r.status != tt.wantStatus || !strings.HasPrefix(r.header.Get("Content-Type"), tt.wantType) {
				t.Errorf("got %d %q, want %d %s; body: %.300s", r.status, r.header.Get("Content-Type"), tt.wantStatus, tt.wantType, r.body)
			}
			if strings.Contains(r.body, "<script>") {
				t.Errorf("unescaped input in page")
			}
		})
	}
}
