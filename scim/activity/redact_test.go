package activity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRedactQuery: secrets go, filters and paging stay as sent.
func TestRedactQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"startIndex=1&count=2", "startIndex=1&count=2"},
		{"filter=userName%20eq%20%22a%40b.c%22", "filter=userName%20eq%20%22a%40b.c%22"},
		{"filter=userName+eq+%22a%22", "filter=userName+eq+%22a%22"},
		{"access_token=abc&count=2", "access_token=REDACTED&count=2"},
		{"TOKEN=abc&Api-Key=k&client_secret=s&pwd=p&sessionId=x&code=c", "TOKEN=REDACTED&Api-Key=REDACTED&client_secret=REDACTED&pwd=REDACTED&sessionId=REDACTED&code=REDACTED"},
		{"token", "token"},
		{"access%5Ftoken=abc", "access%5Ftoken=REDACTED"},
		{"filter=password%20eq%20%22hunter2%22", "filter=password%20eq%20%22REDACTED%22"},
		{"filter=userName%20eq%20%22a%22%20and%20password%20eq%20%22x%5C%22y%22", "filter=userName%20eq%20%22a%22%20and%20password%20eq%20%22REDACTED%22"},
		{"filter=password%20pr", "filter=password%20pr"},
		{"filter=password%20zz%20hunter2", "filter=password%20REDACTED"},
		{"filter=password%20eq%20hunter2%zz", "filter=REDACTED"},
		{"FILTER=Password%20Eq%20%22h%22", "FILTER=Password%20Eq%20%22REDACTED%22"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RedactQuery(tc.in)); diff != "" {
				t.Errorf("RedactQuery(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
