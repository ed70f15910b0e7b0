package login_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/app/apptest"
)

// TestRotateSecretGrace: POST …/admin/api/secret takes an optional
// adminapi.SecretRequest. With graceSeconds the old secret keeps working
// (until the stored end, graceSeconds from now); without it, with 0 or
// with no body the old secret stops at once; a body out of range or not
// JSON is refused with 400 and changes nothing.
func TestRotateSecretGrace(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantStatus int
		wantOld    int           // the old secret's status afterwards
		wantGrace  time.Duration // the stored PrevTokenExpires minus the rotation's time; 0: none
		wantDesc   string        // a part of the 400's error_description
	}{
		{"no body", "", http.StatusOK, http.StatusUnauthorized, 0, ""},
		{"empty object", "{}", http.StatusOK, http.StatusUnauthorized, 0, ""},
		{"zero", `{"graceSeconds":0}`, http.StatusOK, http.StatusUnauthorized, 0, ""},
		{"ten minutes", `{"graceSeconds":600}`, http.StatusOK, http.StatusOK, 10 * time.Minute, ""},
		{"a day", `{"graceSeconds":86400}`, http.StatusOK, http.StatusOK, 24 * time.Hour, ""},
		{"negative", `{"graceSeconds":-1}`, http.StatusBadRequest, http.StatusOK, 0, "between 0"},
		{"above a day", `{"graceSeconds":86401}`, http.StatusBadRequest, http.StatusOK, 0, "between 0"},
		{"not a number", `{"graceSeconds":"600"}`, http.StatusBadRequest, http.StatusOK, 0, "JSON object"},
		{"not JSON", `graceSeconds=600`, http.StatusBadRequest, http.StatusOK, 0, "JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apptest.Start(t, nil)
			acme := newAdmin(t, srv, "acme")
			old := acme.created.Token
			before := time.Now()
			st, body := acme.do("POST", acme.api("secret"), map[string]string{adminapi.CSRFHeader: acme.csrf, "Content-Type": "application/json"}, tc.body)
			after := time.Now()
			if st != tc.wantStatus {
				t.Fatalf("rotate: %d %s; want %d", st, body, tc.wantStatus)
			}
			if st == http.StatusOK {
				var s adminapi.Secret
				if err := json.Unmarshal([]byte(body), &s); err != nil || s.Token == "" {
					t.Fatalf("rotate: %s: %v", body, err)
				}
				if st, _ := acme.scim(s.Token, "GET", "/Users", ""); st != http.StatusOK {
					t.Errorf("the new secret answered %d", st)
				}
			} else {
				var e adminapi.Error
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != "invalid_request" || !strings.Contains(e.Description, tc.wantDesc) {
					t.Errorf("refusal %s (%v); want invalid_request saying %q", body, err, tc.wantDesc)
				}
			}
			got, _ := acme.scim(old, "GET", "/Users", "")
			if diff := cmp.Diff(tc.wantOld, got); diff != "" {
				t.Errorf("the old secret's status (-want +got):\n%s", diff)
			}
			tn, err := srv.Config.Store.GetTenant(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantGrace == 0 {
				if len(tn.PrevTokenHash) != 0 || !tn.PrevTokenExpires.IsZero() {
					t.Errorf("a previous token is kept until %v; want none", tn.PrevTokenExpires)
				}
				return
			}
			lo, hi := before.Add(tc.wantGrace).Add(-time.Microsecond), after.Add(tc.wantGrace)
			if tn.PrevTokenExpires.Before(lo) || tn.PrevTokenExpires.After(hi) {
				t.Errorf("the previous token ends %v; want between %v and %v", tn.PrevTokenExpires, lo, hi)
			}
		})
	}
}
