package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A required string that is only white space counts as missing, on POST,
// PUT, PATCH and Bulk, and nothing is stored: 400 invalidValue naming the
// attribute, or, when a PATCH blanks a value that was there, 400
// mutability like any PATCH that empties a required attribute.
func TestBlankRequired(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "blank@example.com")
	gid := f.call(t, "POST", "/Groups", `{"displayName":"blank"}`, nil).body["id"].(string)
	tests := []struct {
		name, method, path, body, attr, scimType string
	}{
		{"POST spaces", "POST", "/Users", `{"userName":"   "}`, "userName", "invalidValue"},
		{"POST tab and newline", "POST", "/Users", `{"userName":"\t\n"}`, "userName", "invalidValue"},
		{"POST no-break space", "POST", "/Users", `{"userName":"\u00a0"}`, "userName", "invalidValue"},
		{"POST group", "POST", "/Groups", `{"displayName":"  "}`, "displayName", "invalidValue"},
		{"PUT user", "PUT", "/Users/" + uid, `{"userName":"  "}`, "userName", "invalidValue"},
		{"PUT group", "PUT", "/Groups/" + gid, `{"displayName":" "}`, "displayName", "invalidValue"},
		{"PATCH user", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"userName","value":"   "}]}`, "userName", "mutability"},
		{"PATCH user without path", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","value":{"userName":" "}}]}`, "userName", "mutability"},
		{"PATCH group", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"  "}]}`, "displayName", "mutability"},
		{"bulk POST", "POST", "/Bulk", bulkBody("", `{"method":"POST","bulkId":"b","path":"/Users","data":{"userName":"  "}}`), "userName", "invalidValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.callUnchanged(t, tt.method, tt.path, tt.body, nil)
			body := r.body
			if tt.path == "/Bulk" {
				ops, _ := r.body["Operations"].([]any)
				if len(ops) != 1 {
					t.Fatalf("bulk: %s", r.raw)
				}
				var status string
				status, _ = ops[0].(map[string]any)["status"].(string)
				body, _ = ops[0].(map[string]any)["response"].(map[string]any)
				if status != "400" {
					t.Errorf("bulk operation status %s, want 400", status)
				}
			} else if diff := cmp.Diff(scimError(400, tt.scimType), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if d, _ := body["detail"].(string); body["scimType"] != tt.scimType || !strings.Contains(d, `"`+tt.attr+`"`) {
				t.Errorf("detail %q (scimType %v) does not name %s", d, body["scimType"], tt.attr)
			}
		})
	}
	t.Run("names with inner spaces are fine", func(t *testing.T) {
		r := f.call(t, "POST", "/Groups", `{"displayName":" Sales Team "}`, nil)
		if diff := cmp.Diff([]any{201, " Sales Team "}, []any{r.status, r.body["displayName"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBlankRequiredOverHTTP: "   " is no userName or displayName, and
// the detail names the attribute (and the PATCH operation).
func TestBlankRequiredOverHTTP(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "blank@example.com")
	tests := []struct {
		name, method, path, body, detail string
	}{
		{"POST blank userName", "POST", "/Users", `{"userName":"   "}`, "userName"},
		{"POST blank displayName", "POST", "/Groups", `{"displayName":" \t "}`, "displayName"},
		{"PUT blank userName", "PUT", "/Users/" + uid, `{"userName":"  "}`, "userName"},
		{"PATCH blank userName", "PATCH", "/Users/" + uid, patchBody(`[{"op":"replace","path":"userName","value":"  "}]`), `operation 1 (replace): attribute "userName"`},
		{"PATCH remove userName", "PATCH", "/Users/" + uid, patchBody(`[{"op":"add","path":"title","value":"x"},{"op":"remove","path":"userName"}]`), `operation 2 (remove): attribute "userName"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.callUnchanged(t, tt.method, tt.path, tt.body, nil)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400: %s", r.status, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q does not contain %q", d, tt.detail)
			}
		})
	}
}
