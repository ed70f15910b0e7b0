package connect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTenantFromPath(t *testing.T) {
	tests := []struct {
		name, path, want string
		wantErr          bool
	}{
		{"dialog", "/t/acme/admin/connect-okta", "acme", false},
		{"escaped", "/t/a%20b/admin/connect-okta", "a b", false},
		{"tenant only", "/t/acme", "acme", false},
		{"no prefix", "/admin/connect-okta", "", true},
		{"empty tenant", "/t//admin", "", true},
		{"bad escape", "/t/%zz/admin", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TenantFromPath(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("TenantFromPath(%q) error = %v, want error %v", tt.path, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TenantFromPath(%q) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ name, origin, tenant, want string }{
		{"plain", "http://127.0.0.1:8080", "acme", "http://127.0.0.1:8080/t/acme/admin/api"},
		{"trailing slash", "https://app.example/", "acme", "https://app.example/t/acme/admin/api"},
		{"escaped", "http://h", "a b", "http://h/t/a%20b/admin/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, BaseURL(tt.origin, tt.tenant)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// seen is what a fake API saw of one request.
type seen struct {
	Method, Path, CSRF, ContentType, Body string
}

func fakeAPI(t *testing.T, status int, body string) (*API, *[]seen) {
	t.Helper()
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get(CSRFHeader), r.Header.Get("Content-Type"), string(b)})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &API{Base: srv.URL + "/t/acme/admin/api", Client: srv.Client()}, &got
}

func TestAPISettings(t *testing.T) {
	api, got := fakeAPI(t, 200, `{"tenant":"acme","scimBaseUrl":"http://x/t/acme/scim/v2","redirectUri":"http://x/t/acme/oidc/callback",
		"oktaDomain":"https://dev-1.okta.com","authServer":"","issuer":"https://dev-1.okta.com","clientId":"0oa1",
		"clientSecretSet":true,"users":3,"groups":1,"csrf":"c1"}`)
	s, err := api.Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Tenant: "acme", SCIMBaseURL: "http://x/t/acme/scim/v2", RedirectURI: "http://x/t/acme/oidc/callback",
		OktaDomain: "https://dev-1.okta.com", Issuer: "https://dev-1.okta.com", ClientID: "0oa1", ClientSecretSet: true,
		Users: 3, Groups: 1, CSRF: "c1"}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]seen{{Method: "GET", Path: "/t/acme/admin/api/settings"}}, *got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestAPIPosts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		body  string
	}{
		{"secret", 0, "{}"},
		{"secret with grace", 10 * time.Minute, `{"graceSeconds":600}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, got := fakeAPI(t, 200, `{"token":"tok-1"}`)
			tok, err := api.RotateSecret(context.Background(), "c1", tc.grace)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("tok-1", tok); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
			want := []seen{{"POST", "/t/acme/admin/api/secret", "c1", "application/json", tc.body}}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("oidc", func(t *testing.T) {
		api, got := fakeAPI(t, 200, `{"issuer":"https://dev-1.okta.com","clientId":"0oa1"}`)
		s, err := api.SaveSignIn(context.Background(), "c1", SignIn{OktaDomain: "dev-1.okta.com", ClientID: "0oa1", ClientSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Settings{Issuer: "https://dev-1.okta.com", ClientID: "0oa1"}, s); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		want := []seen{{"POST", "/t/acme/admin/api/oidc", "c1", "application/json",
			`{"oktaDomain":"dev-1.okta.com","clientId":"0oa1","clientSecret":"s","authServer":""}`}}
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error // *APIError compared by value, or a sentinel for errors.Is
	}{
		{"oauth error", 400, `{"error":"invalid_request","error_description":"Okta's discovery document could not be read."}`,
			&APIError{Status: 400, Code: "invalid_request", Description: "Okta's discovery document could not be read."}},
		{"plain text 401", 401, "unauthorized", &APIError{Status: 401}},
		{"empty 500", 500, "", &APIError{Status: 500}},
		{"html 502", 502, "<html>bad gateway</html>", &APIError{Status: 502}},
		{"not json", 200, "<html>", ErrBadAnswer},
		{"no token", 200, `{}`, ErrBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _ := fakeAPI(t, tt.status, tt.body)
			_, err := api.RotateSecret(context.Background(), "c", 0)
			var ae *APIError
			if want, ok := tt.want.(*APIError); ok {
				if !errors.As(err, &ae) {
					t.Fatalf("error = %v, want *APIError", err)
				}
				if diff := cmp.Diff(want, ae); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAPIUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	api := &API{Base: base + "/t/acme/admin/api"}
	_, err := api.Settings(context.Background())
	if err == nil {
		t.Fatal("Settings on a closed server succeeded")
	}
	if diff := cmp.Diff("The idpkit server could not be reached; check that it is running and try again.", Sentence(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
