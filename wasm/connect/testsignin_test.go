package connect

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewTestID(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{22,128}$`)
	seen := map[string]bool{}
	for range 50 {
		id, err := NewTestID()
		if err != nil {
			t.Fatal(err)
		}
		if !valid.MatchString(id) {
			t.Fatalf("id %q is not 22..128 characters of [A-Za-z0-9_-]", id)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
	if diff := cmp.Diff("test-sign-in?id=abc", TestSignInPath("abc")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTestOutcome(t *testing.T) {
	status := func(text, class string) []Set {
		return []Set{{IDTestStatus, PropText, text}, {IDTestStatus, PropClass, class},
			{IDTestStatus, PropBusy, "false"}, {IDTestStatus, PropHidden, false}}
	}
	noClaims := []Set{{IDClaims, PropChildren, []Node{}}, {IDClaimsBox, PropHidden, true}}
	tests := []struct {
		name string
		in   TestSignInResult
		want []Set
	}{
		{"signed in, claims sorted and JSON for non-strings", TestSignInResult{Done: true, OK: true, Message: "Signed in as alice@example.com.",
			UserName: "alice@example.com", Claims: map[string]any{
				"sub": "00u1", "email_verified": true, "iat": 1733250000.0, "exp": 1733253600.0, "auth_time": 1733249990.0, "amr": []any{"pwd", "mfa"},
				"nonce_count": 1733250000.0,
				"address":     map[string]any{"country": "DE"}, "name": `<b>Alice</b> "A"`,
			}},
			concat(status("✓ Signed in as alice@example.com.", ClassOK), []Set{
				{IDClaims, PropChildren, []Node{
					{Tag: "dt", Text: "address"}, {Tag: "dd", Text: `{"country":"DE"}`},
					{Tag: "dt", Text: "amr"}, {Tag: "dd", Text: `["pwd","mfa"]`},
					{Tag: "dt", Text: "auth_time"}, {Tag: "dd", Text: "1733249990 (2024-12-03 18:19:50 local time)"},
					{Tag: "dt", Text: "email_verified"}, {Tag: "dd", Text: "true"},
					{Tag: "dt", Text: "exp"}, {Tag: "dd", Text: "1733253600 (2024-12-03 19:20:00 local time)"},
					{Tag: "dt", Text: "iat"}, {Tag: "dd", Text: "1733250000 (2024-12-03 18:20:00 local time)"},
					{Tag: "dt", Text: "name"}, {Tag: "dd", Text: `<b>Alice</b> "A"`},
					{Tag: "dt", Text: "nonce_count"}, {Tag: "dd", Text: "1733250000"},
					{Tag: "dt", Text: "sub"}, {Tag: "dd", Text: "00u1"},
				}},
				{IDClaimsBox, PropHidden, false},
			})},
		{"signed in without a message", TestSignInResult{Done: true, OK: true, UserName: "bob@example.com"},
			concat(status("✓ Signed in as bob@example.com.", ClassOK), noClaims)},
		{"refused, claims kept", TestSignInResult{Done: true, Message: "bob@example.com is not provisioned in idpkit; assign them to the SCIM app in Okta.",
			Claims: map[string]any{"sub": "00u2"}},
			concat(status("✗ bob@example.com is not provisioned in idpkit; assign them to the SCIM app in Okta.", ClassError), []Set{
				{IDClaims, PropChildren, []Node{{Tag: "dt", Text: "sub"}, {Tag: "dd", Text: "00u2"}}},
				{IDClaimsBox, PropHidden, false},
			})},
		{"refused without a message", TestSignInResult{Done: true}, concat(status("✗ The test sign-in was refused.", ClassError), noClaims)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, TestOutcome(tt.in, time.UTC)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTestSets(t *testing.T) {
	tests := []struct {
		name, text, class, busy string
	}{
		{"waiting", TestWaitingText, ClassBusy, "true"},
		{"blocked", PopupBlockedText, ClassError, "false"},
		{"closed", PopupClosedText, ClassError, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []Set{{IDTestStatus, PropText, tt.text}, {IDTestStatus, PropClass, tt.class}, {IDTestStatus, PropBusy, tt.busy},
				{IDTestStatus, PropHidden, false}, {IDClaims, PropChildren, []Node{}}, {IDClaimsBox, PropHidden, true}}
			if diff := cmp.Diff(want, testSets(tt.text, nil, nil)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMinutes(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Minute, "5 minutes"}, {time.Minute, "1 minute"}, {30 * time.Second, "30 seconds"},
		{90 * time.Second, "90 seconds"}, {50 * time.Millisecond, "50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, minutes(tt.d)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
