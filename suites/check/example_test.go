package check_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/idpkit/idpkit/suites/check"
)

// ExampleRunAll runs the checks labelled "okta" whose ID is the Test API
// Credentials step against a (tiny) SCIM server and prints the outcome.
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
	for _, c := range check.Select(check.SCIM(), []string{"okta"}, nil) {
		if c.ID == "okta-test-credentials" {
			checks = append(checks, c)
		}
	}
	target := &check.Target{BaseURL: srv.URL, Token: "s3cret"}
	for _, r := range check.RunAll(context.Background(), checks, target, nil) {
		fmt.Println(r.ID, r.Passed)
	}
	// Output: okta-test-credentials true
}
