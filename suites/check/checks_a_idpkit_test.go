//go:build !js

// The run against idpkit's own server needs SQLite (modernc.org/sqlite),
// which does not build for GOOS=js; the catalogue itself does.

package check

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim/app/apptest"
)

// areaA lists the labels of the filter, paging, etag and schema checks.
var areaA = []string{"filter", "paging", "etag", "schema"}

// idpkitTarget starts idpkit's own app server on a temporary SQLite file
// and returns a target for a new tenant of it.
func idpkitTarget(t *testing.T) *Target { return idpkitTargetWrapped(t, nil) }

// idpkitTargetWrapped is idpkitTarget with wrap (when not nil) in front of
// the app server, to inject a fault.
func idpkitTargetWrapped(t *testing.T, wrap func(http.Handler) http.Handler) *Target {
	t.Helper()
	srv := apptest.Start(t, wrap)
	created := srv.Tenant(t, "conformance")
	return &Target{BaseURL: created.SCIMBaseURL, Token: created.Token, Client: srv.Client}
}

// TestAreaAAgainstIdpkit runs every filter, paging, etag and schema check
// against idpkit's own server: each must pass.
func TestAreaAAgainstIdpkit(t *testing.T) {
	target := idpkitTarget(t)
	checks := Select(SCIM(), areaA, nil)
	if len(checks) < 60 {
		t.Fatalf("only %d checks carry the labels %v", len(checks), areaA)
	}
	for _, c := range checks {
		t.Run(c.ID, func(t *testing.T) {
			if r := RunOne(context.Background(), c, target); !r.Passed {
				t.Errorf("%s (%s) failed:\n%s", c.ID, c.Title, r.Error)
			}
		})
	}
}

// TestAreaACatalogue checks the rules every check of these areas follows:
// its ID starts with its area, it carries its area label and an RFC label,
// and a check that writes says so.
func TestAreaACatalogue(t *testing.T) {
	for _, c := range Select(SCIM(), areaA, nil) {
		area, _, _ := strings.Cut(c.ID, "-")
		if area == "media" {
			area = "schema"
		}
		if !c.HasLabel(area) {
			t.Errorf("%s: the ID's area %q is not among its labels %v", c.ID, area, c.Labels)
		}
		if !c.HasLabel("rfc7644") && !c.HasLabel("rfc7643") {
			t.Errorf("%s: no rfc7643 or rfc7644 label in %v", c.ID, c.Labels)
		}
		if !strings.Contains(c.Ref, "RFC 764") {
			t.Errorf("%s: Ref %q names no section of RFC 7643 or 7644", c.ID, c.Ref)
		}
	}
}

// dropQuery returns a fault that removes the query parameter name from
// every request, as a server that does not know it would ignore it.
func dropQuery(name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del(name)
			r.URL.RawQuery = q.Encode()
			next.ServeHTTP(w, r)
		})
	}
}

// dropHeader returns a fault that removes a request header.
func dropHeader(name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del(name)
			next.ServeHTTP(w, r)
		})
	}
}

// TestAreaAOnFaultyIdpkit puts a fault in front of idpkit's server and
// checks that the check about it fails, naming the fault.
func TestAreaAOnFaultyIdpkit(t *testing.T) {
	tests := []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		check string
		want  string
	}{
		{"filter ignored", dropQuery("filter"), "filter-eq", "filter userName eq"},
		{"sortBy ignored", dropQuery("sortBy"), "paging-sort-sub-attribute", "sortBy=name.familyName: order"},
		{"startIndex ignored", dropQuery("startIndex"), "paging-disjoint", "is on two pages"},
		{"excludedAttributes ignored", dropQuery("excludedAttributes"), "filter-group-membership", "carries members"},
		{"If-Match ignored", dropHeader("If-Match"), "etag-if-match-stale-patch", "want 412"},
		{"If-None-Match ignored", dropHeader("If-None-Match"), "etag-if-none-match", "want 304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := idpkitTargetWrapped(t, tt.wrap)
			r := RunOne(context.Background(), byID(t, tt.check), target)
			if r.Passed || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("want a failure containing %q, got passed=%v: %s", tt.want, r.Passed, r.Error)
			}
		})
	}
}
