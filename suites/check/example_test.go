package check_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/idpkit/idpkit/suites/check"
)

// ExampleRunAll runs Okta's Test API Credentials step and a tenant check
// against a (tiny) SCIM server and prints the outcomes: the tenant check
// is skipped, as the target has no Peer.
func ExampleRunAll() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
	}))
	defer srv.Close()

	var checks []check.Check
	for _, c := range check.Select(check.SCIM(), []string{"okta", "tenant"}, nil) {
		if c.ID == "okta-test-credentials" || c.ID == "tenant-token-isolation" {
			checks = append(checks, c)
		}
	}
	target := &check.Target{BaseURL: srv.URL, Token: "s3cret", Client: srv.Client()}
	for _, r := range check.RunAll(context.Background(), checks, target, nil) {
		fmt.Println(r.ID, r.Passed, r.Skipped)
	}
	// Output:
	// okta-test-credentials true false
	// tenant-token-isolation false true
}
