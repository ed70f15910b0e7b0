package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestConfiguredLimits: Config.FailureLimits sets the failure budgets
// and Config.TenantRate the per-tenant request rate, and the failures
// (401, and the failure limiter's 429) spend nothing of the request rate,
// so Okta's right token still gets its whole budget after a flood.
func TestConfiguredLimits(t *testing.T) {
	type result struct {
		Flood      map[int]int // statuses of the attacker's 40 wrong tokens
		Okta       []int       // then the right token, 4 times
		RetryAfter string      // of Okta's last answer
		Detail     string      // its SCIM error detail
		Other      int         // the right token of another tenant
		Later      int         // Okta again, after a second
	}
	tests := []struct {
		name string
		cfg  app.Config
		want result
	}{
		{"3 failures per address, 1 request/s with a burst of 3", app.Config{
			FailureLimits: httpx.FailureLimiterConfig{AddressFailures: 3},
			TenantRate:    httpx.TenantRateConfig{Rate: 1, Burst: 3},
		}, result{
			Flood: map[int]int{401: 3, 429: 37}, Okta: []int{200, 200, 200, 429}, RetryAfter: "1",
			Detail: "too many requests for this tenant; wait 1 second before trying again", Other: 200, Later: 200,
		}},
		{"no address limit", app.Config{
			FailureLimits: httpx.FailureLimiterConfig{AddressFailures: httpx.NoLimit},
			TenantRate:    httpx.TenantRateConfig{Rate: 1, Burst: 3},
		}, result{
			Flood: map[int]int{401: 40}, Okta: []int{200, 200, 200, 429}, RetryAfter: "1",
			Detail: "too many requests for this tenant; wait 1 second before trying again", Other: 200, Later: 200,
		}},
		{"DisableRateLimits keeps the request rate", app.Config{
			DisableRateLimits: true,
			FailureLimits:     httpx.FailureLimiterConfig{AddressFailures: 3},
			TenantRate:        httpx.TenantRateConfig{Rate: 0.5, Burst: 2},
		}, result{
			Flood: map[int]int{401: 40}, Okta: []int{200, 200, 429, 429}, RetryAfter: "2",
			Detail: "too many requests for this tenant; wait 2 seconds before trying again", Other: 200, Later: 429,
		}},
		{"no request rate by default", app.Config{}, result{
			Flood: map[int]int{401: 20, 429: 20}, Okta: []int{200, 200, 200, 200}, Other: 200, Later: 200,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			cfg := tt.cfg
			cfg.Store, cfg.PublicURL, cfg.Now = st, "http://idpkit.example", func() time.Time { return now }
			h := app.New(cfg)
			tenants := app.Tenants(cfg)
			acme, err := tenants.Create(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			beta, err := tenants.Create(ctx, "beta")
			if err != nil {
				t.Fatal(err)
			}
			do := func(ip, path, token string) *httptest.ResponseRecorder {
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = ip
				req.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w
			}
			const attacker, okta = "192.0.2.66:4000", "198.51.100.1:443"
			got := result{Flood: map[int]int{}}
			for range 40 {
				got.Flood[do(attacker, "/t/acme/scim/v2/Users", "wrong").Code]++
			}
			var last *httptest.ResponseRecorder
			for range 4 {
				last = do(okta, "/t/acme/scim/v2/Users", acme.Token)
				got.Okta = append(got.Okta, last.Code)
			}
			if last.Code == 429 {
				got.RetryAfter = last.Header().Get("Retry-After")
				var e struct {
					Schemas        []string
					Status, Detail string
				}
				if err := json.Unmarshal(last.Body.Bytes(), &e); err != nil {
					t.Errorf("429 body %q: %v", last.Body, err)
				}
				got.Detail = e.Detail
				if diff := cmp.Diff([]string{"urn:ietf:params:scim:api:messages:2.0:Error", "429", "application/scim+json; charset=utf-8"},
					append(e.Schemas, e.Status, last.Header().Get("Content-Type"))); diff != "" {
					t.Errorf("429 answer (-want +got):\n%s", diff)
				}
			}
			got.Other = do(okta, "/t/beta/scim/v2/Users", beta.Token).Code
			now = now.Add(time.Second)
			got.Later = do(okta, "/t/acme/scim/v2/Users", acme.Token).Code
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTenantRateUnknownTenants: requests to unknown tenants, refused for their token,
// spend no budget.
func TestTenantRateUnknownTenants(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := app.New(app.Config{Store: st, PublicURL: "http://idpkit.example", DisableRateLimits: true, TenantRate: httpx.TenantRateConfig{Rate: 1, Burst: 1}})
	statuses := map[int]int{}
	for i := range 200 {
		req := httptest.NewRequest("GET", fmt.Sprintf("/t/t%d/scim/v2/Users", i), nil)
		req.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		statuses[w.Code]++
		// The same unknown tenant again: not limited, nothing was charged.
		w = httptest.NewRecorder()
		h.ServeHTTP(w, req)
		statuses[w.Code]++
	}
	if diff := cmp.Diff(map[int]int{401: 400}, statuses); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestTenantRateTokenlessPaths: requests without a token to paths under
// /t/{tenant}/scim/ that the app answers without any credential check (the
// catch-all 404 of paths that are no SCIM endpoint, ServeMux's redirect
// of a path that is not clean) spend nothing of the tenant's SCIM budget,
// so however many come, Okta's right token keeps its whole burst. Tenant
// names that are no valid name (a 100 kB one) are not limited either.
func TestTenantRateTokenlessPaths(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := app.Config{Store: st, PublicURL: "http://idpkit.example", TenantRate: httpx.TenantRateConfig{Rate: 1, Burst: 3}}
	h := app.New(cfg)
	created, err := app.Tenants(cfg).Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	huge := "/t/" + strings.Repeat("a", 100_000)
	paths := []string{"/t/acme/scim/x", "/t/acme/scim/", "/t/acme/scim/v2%2FUsers", "/t/acme/scim/v2//Users", "/t/acme/scim/v2/./Users", "/t/acme/scim/x/../v2/Users",
		huge + "/scim/x", huge + "/scim/v2/Users", "/t/ACME/scim/v2/Users"}
	statuses := map[int]int{}
	for range 10 {
		for _, p := range paths {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.RawPath, req.RequestURI = p, p
			req.URL.Path, _ = url.PathUnescape(p)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			statuses[w.Code/100*100]++
		}
	}
	if _, ok := statuses[429]; ok {
		t.Errorf("tokenless requests got 429: %v", statuses)
	}
	var got []int
	for range 4 {
		req := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+created.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		got = append(got, w.Code)
	}
	if diff := cmp.Diff([]int{200, 200, 200, 429}, got); diff != "" {
		t.Errorf("Okta after %v tokenless requests (-want +got):\n%s", statuses, diff)
	}
}
