package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A body that is not UTF-8, or escapes half a surrogate pair, is 400
// invalidSyntax: it is never stored with U+FFFD in place of what was sent.
func TestBodyUTF8(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "utf@example.com")
	tests := []struct {
		name, method, path, body string
		status                   int
		userName                 string // of a 201
	}{
		{"invalid UTF-8", "POST", "/Users", "{\"userName\":\"bad\xff\xfeutf\"}", 400, ""},
		{"other invalid UTF-8", "POST", "/Users", "{\"userName\":\"bad\xfe\xffutf\"}", 400, ""},
		{"invalid UTF-8 outside strings", "POST", "/Users", "{\"userName\":\"ok@x\"}\xff", 400, ""},
		{"lone high surrogate", "POST", "/Users", `{"userName":"\ud800"}`, 400, ""},
		{"lone low surrogate", "POST", "/Users", `{"userName":"\udfff"}`, 400, ""},
		{"upper-case escape", "POST", "/Users", `{"userName":"x\uDBFF"}`, 400, ""},
		{"high then not low", "POST", "/Users", `{"userName":"\ud800\u0041"}`, 400, ""},
		{"high then high", "POST", "/Users", `{"userName":"\ud800\ud800"}`, 400, ""},
		{"low then high", "POST", "/Users", `{"userName":"\udc00\ud800"}`, 400, ""},
		{"high at the end", "POST", "/Users", `{"userName":"a","x":"\ud800`, 400, ""},
		{"in a key", "POST", "/Users", `{"userName":"k@x","\ud800":1}`, 400, ""},
		{"PATCH", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"\udfff"}]}`, 400, ""},
		{"PUT", "PUT", "/Users/" + uid, "{\"userName\":\"utf@example.com\",\"title\":\"\xc3\"}", 400, ""},
		{"search", "POST", "/Users/.search", `{"filter":"userName eq \"\ud800\""}`, 400, ""},
		{"bulk", "POST", "/Bulk", bulkBody("", `{"method":"POST","bulkId":"a","path":"/Users","data":{"userName":"\ud800"}}`), 400, ""},
		{"valid pair", "POST", "/Users", `{"userName":"smile\ud83d\ude00@x"}`, 201, "smile😀@x"},
		{"escaped backslash before u", "POST", "/Users", `{"userName":"a\\ud800"}`, 201, `a\ud800`},
		{"escaped backslash then escape", "POST", "/Users", `{"userName":"b\\\u00e9"}`, 201, `b\é`},
		{"UTF-8 as sent", "POST", "/Users", `{"userName":"zoë@x"}`, 201, "zoë@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if tt.status == 400 {
				if diff := cmp.Diff(scimError(400, "invalidSyntax"), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("stored data changed (-before +after):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff([]any{tt.status, tt.userName}, []any{r.status, r.body["userName"]}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}
