package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExt(t *testing.T) {
	var user any
	if err := json.Unmarshal([]byte(`{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","manager":{"value":"m"}}}`), &user); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, urn, path string
		want            any
	}{
		{"attribute", schemaEnterprise, "employeeNumber", "7"},
		{"sub-attribute", schemaEnterprise, "manager.value", "m"},
		{"URN in another case", strings.ToUpper(schemaEnterprise), "employeeNumber", "7"},
		{"missing", schemaEnterprise, "department", nil},
		{"other extension", "urn:x:2.0:User", "employeeNumber", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ext(user, tt.urn, tt.path)); diff != "" {
				t.Errorf("ext (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRelPath(t *testing.T) {
	tg := &Target{BaseURL: "https://app.example.com/t/acme/scim/v2/"}
	tests := []struct{ loc, want string }{
		{"https://app.example.com/t/acme/scim/v2/Users/42", "/Users/42"},
		{"http://internal:8080/scim/v2/Groups/7", "/Groups/7"},
		{"/Users/9", "/Users/9"},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tg.relPath(tt.loc)); diff != "" {
				t.Errorf("relPath (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmailsOf(t *testing.T) {
	var u any
	json.Unmarshal([]byte(`{"emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x"}]}`), &u)
	if diff := cmp.Diff([]string{"home=h@x", "work=w@x*"}, emailsOf(u)); diff != "" {
		t.Errorf("emailsOf (-want +got):\n%s", diff)
	}
}

func TestEntraID(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := entraID(), entraID()
	if !guid.MatchString(a) || a == b {
		t.Errorf("entraID() = %q, %q: want two different GUIDs", a, b)
	}
}

func TestExchangeString(t *testing.T) {
	tests := []struct {
		name string
		x    Exchange
		want string
	}{
		{"with bodies", Exchange{Method: "PATCH", Path: "/Users/1", ReqBody: []byte(`{"Operations": []}`), Status: 400,
			Header: http.Header{"Content-Type": {"application/scim+json"}}, Body: []byte(`{"scimType":"invalidValue"}`)},
			"  request:  PATCH /Users/1 {\"Operations\": []}\n  response: 400 application/scim+json {\"scimType\":\"invalidValue\"}"},
		{"empty answer", Exchange{Method: "GET", Path: "/Users", Status: 204, Header: http.Header{}},
			"  request:  GET /Users\n  response: 204 (no Content-Type) (empty body)"},
		{"request headers", Exchange{Method: "PUT", Path: "/Users/1", ReqBody: []byte(`{}`), Status: 412,
			ReqHeader: http.Header{"Accept": {"application/scim+json"}, "Content-Type": {"application/json"}, "If-Match": {`W/"1"`}, "Authorization": {"Bearer s3cret"}},
			Header:    http.Header{}},
			"  request:  PUT /Users/1 {} [Content-Type: application/json; If-Match: W/\"1\"]\n  response: 412 (no Content-Type) (empty body)"},
		{"if-none-match", Exchange{Method: "GET", Path: "/Users/1", Status: 200, ReqHeader: http.Header{"If-None-Match": {`"a", "b"`}}, Header: http.Header{}},
			"  request:  GET /Users/1 [If-None-Match: \"a\", \"b\"]\n  response: 200 (no Content-Type) (empty body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.x.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSendRecordsHeaders checks that an exchange keeps the request
// headers the check set, and never the token.
func TestSendRecordsHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	target := &Target{BaseURL: srv.URL, Token: "s3cret", Client: srv.Client()}
	tests := []struct {
		name string
		body any
		opts []reqOption
		want http.Header
	}{
		{"get", nil, nil, http.Header{"Accept": {"application/scim+json"}}},
		{"body", map[string]any{}, nil, http.Header{"Accept": {"application/scim+json"}, "Content-Type": {"application/scim+json; charset=utf-8"}}},
		{"if-match", map[string]any{}, []reqOption{withContentType("application/json"), withHeader(http.Header{"If-Match": {`"v1"`}})},
			http.Header{"Accept": {"application/scim+json"}, "Content-Type": {"application/json"}, "If-Match": {`"v1"`}}},
		{"own authorization", nil, []reqOption{withAuthorization("Basic eDp5")}, http.Header{"Accept": {"application/scim+json"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := target.send(context.Background(), "PUT", "/Users/1", tt.body, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := x.ReqHeader.Clone()
			got.Del("User-Agent")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReqHeader (-want +got):\n%s", diff)
			}
			if s := x.String(); strings.Contains(s, "s3cret") || strings.Contains(s, "eDp5") {
				t.Errorf("the exchange shows a credential: %s", s)
			}
		})
	}
}

func TestExcerptOnly(t *testing.T) {
	x := &Exchange{ReqBody: []byte(strings.Repeat("x", 5000))}
	got := excerptOnly(x)
	if len(got.ReqBody) > 300 || !strings.Contains(string(got.ReqBody), "(5000 bytes)") || len(x.ReqBody) != 5000 {
		t.Errorf("excerptOnly: %q (original %d bytes)", got.ReqBody, len(x.ReqBody))
	}
}

// noBulk is a server that says bulk is unsupported and answers POST /Bulk
// with status.
type noBulk struct {
	status  int
	scimErr bool
}

func (s noBulk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/scim+json")
	switch r.URL.Path {
	case "/ServiceProviderConfig":
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},"etag":{"supported":true}}`)
	case "/Bulk":
		w.WriteHeader(s.status)
		if s.scimErr {
			fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"bulk is not supported"}`, s.status)
		}
	case "/Users":
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
	default:
		w.WriteHeader(404)
	}
}

func TestBulkUnsupported(t *testing.T) {
	tests := []struct {
		name   string
		server noBulk
		want   string // "" means every bulk check passes
	}{
		{"501 with a SCIM error", noBulk{501, true}, ""},
		{"404 with a SCIM error", noBulk{404, true}, ""},
		{"405 is not in RFC 7644 §3.12", noBulk{405, true}, "must be 501 Not Implemented (or 404), got 405"},
		{"501 without a SCIM error", noBulk{501, false}, "the body is not JSON"},
		{"200 although unsupported", noBulk{200, false}, "got 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.server)
			defer srv.Close()
			tg := &Target{BaseURL: srv.URL, Token: "t", Client: srv.Client()}
			var fails []string
			for _, c := range Select(SCIM(), []string{"bulk"}, nil) {
				r := RunOne(context.Background(), c, tg)
				switch {
				case r.Skipped && c.ID == "bulk-config":
					t.Errorf("bulk-config must not skip: %s", r.Error)
				case r.Skipped:
				case !r.Passed:
					fails = append(fails, r.ID+": "+r.Error)
				}
			}
			if tt.want == "" {
				if len(fails) > 0 {
					t.Fatalf("want every bulk check to pass, got:\n%s", strings.Join(fails, "\n"))
				}
				return
			}
			if len(fails) != 1 || !strings.HasPrefix(fails[0], "bulk-config: ") || !strings.Contains(fails[0], tt.want) {
				t.Fatalf("want bulk-config alone to fail with %q, got:\n%s", tt.want, strings.Join(fails, "\n"))
			}
		})
	}
}

func TestCatalogueB(t *testing.T) {
	areas := map[string]string{"patch-": "patch", "entra-": "entra", "okta-": "okta", "bulk-": "bulk"}
	for _, c := range SCIM() {
		for prefix, label := range areas {
			if strings.HasPrefix(c.ID, prefix) && !c.HasLabel(label) {
				t.Errorf("%s lacks the label %q", c.ID, label)
			}
		}
		if strings.HasPrefix(c.ID, "patch-") && !c.HasLabel("rfc7644") {
			t.Errorf("%s states an RFC 7644 rule but lacks the label rfc7644", c.ID)
		}
	}
}
