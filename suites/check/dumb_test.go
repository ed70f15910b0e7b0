package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dumb is a server that answers every request the same way, whatever it
// asks: the whole catalogue run against it must fail (or skip for a
// reason the server declared), since it implements nothing.
type dumb struct {
	status int
	body   string
	spc    string // when set, the body of a 200 GET /ServiceProviderConfig
}

func (d dumb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/scim+json")
	if d.spc != "" && r.URL.Path == "/ServiceProviderConfig" {
		w.Write([]byte(d.spc))
		return
	}
	w.WriteHeader(d.status)
	w.Write([]byte(d.body))
}

func TestCatalogueAgainstDumbServers(t *testing.T) {
	const bulkOff = "skipped: /ServiceProviderConfig says bulk.supported is false (bulk-config checks the 501)"
	const scimError = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"no"}`
	tests := []struct {
		name   string
		server dumb
		// mayPass are the checks whose rule such a server really keeps.
		mayPass []string
		// maySkip are the checks that may skip, by ID, with the reason.
		maySkip map[string]string
	}{
		{
			name:   "every request 404 with a SCIM error",
			server: dumb{status: 404, body: strings.ReplaceAll(scimError, "%d", "404")},
			// An unknown id is 404 with a SCIM error: the one rule a server
			// that has nothing keeps.
			mayPass: []string{"okta-spec-04-unknown-id"},
		},
		{
			name: "every request 404, but etag, sort, bulk and changePassword declared unsupported",
			server: dumb{404, strings.ReplaceAll(scimError, "%d", "404"), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],` +
				`"patch":{"supported":true},"bulk":{"supported":false},"filter":{"supported":true,"maxResults":100},"changePassword":{"supported":false},` +
				`"sort":{"supported":false},"etag":{"supported":false},"authenticationSchemes":[{"type":"oauthbearertoken","name":"Bearer"}]}`},
			// schema-discovery-config reads only the configuration, which
			// is right; bulk-config wants POST /Bulk refused with 501 or
			// 404 when bulk is declared unsupported, which it is.
			mayPass: []string{"bulk-config", "okta-spec-04-unknown-id", "schema-discovery-config"},
			maySkip: map[string]string{
				"etag-header":                "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-match-stale-put":    "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-match-stale-patch":  "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-match-stale-delete": "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-match-any":          "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-weak-forms":            "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-match-current":      "skipped: /ServiceProviderConfig declares etag unsupported",
				"etag-if-none-match":         "skipped: /ServiceProviderConfig declares etag unsupported",
				"paging-sort-ascending":      "skipped: /ServiceProviderConfig declares sort unsupported",
				"paging-sort-descending":     "skipped: /ServiceProviderConfig declares sort unsupported",
				"paging-sort-sub-attribute":  "skipped: /ServiceProviderConfig declares sort unsupported",
				"bulk-version-412":           "skipped: /ServiceProviderConfig declares bulk unsupported",
				"bulk-create-bulkid":         bulkOff,
				"bulk-forward-reference":     bulkOff,
				"bulk-fail-on-errors":        bulkOff,
				"bulk-max-operations":        bulkOff,
				"bulk-max-payload":           bulkOff,
			},
		},
		{
			name:   "every request 500 with a SCIM error",
			server: dumb{status: 500, body: strings.ReplaceAll(scimError, "%d", "500")},
		},
		{
			name:   "every request 200 with {}",
			server: dumb{status: 200, body: `{}`},
			// The bulk limit checks cannot build a request over a limit
			// that is not advertised; bulk-config fails for it.
			maySkip: map[string]string{
				"bulk-max-operations": "skipped: bulk.maxOperations is not advertised (bulk-config reports it)",
				"bulk-max-payload":    "skipped: bulk.maxPayloadSize is not advertised (bulk-config reports it)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.server)
			defer srv.Close()
			target := &Target{BaseURL: srv.URL, Token: "t", Client: srv.Client()}
			// The peer is the same server, so that the tenant checks run.
			target.Peer = &Target{BaseURL: srv.URL, Token: "p", Client: srv.Client()}
			var passed []string
			for _, r := range RunAll(context.Background(), SCIM(), target, nil) {
				switch {
				case r.Passed:
					passed = append(passed, r.ID)
				case r.Skipped:
					// Nothing is declared unsupported: /ServiceProviderConfig
					// is an error or {}, and an undeclared feature counts as
					// supported.
					if tt.maySkip[r.ID] != r.Error {
						t.Errorf("%s skipped: %s", r.ID, r.Error)
					}
				case !strings.Contains(r.Error, "request:") && !strings.Contains(r.Error, "exchange shown above"):
					t.Errorf("%s: the failure shows no exchange:\n%s", r.ID, r.Error)
				}
			}
			slices.Sort(tt.mayPass)
			slices.Sort(passed)
			if diff := cmp.Diff(tt.mayPass, passed); diff != "" {
				t.Errorf("checks that passed against a server that implements nothing (-allowed +passed):\n%s", diff)
			}
		})
	}
}

func TestUndeclaredAttributesSkip(t *testing.T) {
	schemas := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[` +
		`{"id":"urn:ietf:params:scim:schemas:core:2.0:User","attributes":[{"name":"userName"},{"name":"externalId"},{"name":"name"},{"name":"displayName"},{"name":"emails"},{"name":"active"}]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.URL.Path == "/Schemas" {
			w.Write([]byte(schemas))
			return
		}
		w.WriteHeader(404)
		w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no"}`))
	}))
	defer srv.Close()
	tests := []struct {
		check string
		want  string // the skip reason; "" means the check runs (and fails here)
	}{
		{"okta-profile-put", "skipped: /Schemas does not declare title in " + schemaUser + "; the check needs it (an optional attribute)"},
		// These use only core attributes, so they run on any server.
		{"filter-pr", ""},
		{"patch-pathless", ""},
		{"paging-attributes-urn", "skipped: /Schemas does not declare " + schemaEnterprise + "; the check needs the enterprise User extension (optional, RFC 7643 §4.3)"},
		{"patch-ordered", ""},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			r := RunOne(context.Background(), byID(t, tt.check), &Target{BaseURL: srv.URL, Token: "t", Client: srv.Client()})
			got := Result{Skipped: r.Skipped, Error: r.Error}
			if tt.want == "" {
				got.Error = ""
			}
			if diff := cmp.Diff(Result{Skipped: tt.want != "", Error: tt.want}, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}
