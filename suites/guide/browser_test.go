package guide

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTextOf(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "not  an\nHTML page", "not an HTML page"},
		{"html", "<html><head><title>T</title></head><body><h1>Signed in</h1><script>x()</script><p>as alice</p></body></html>", "Signed in as alice"},
		{"cut at a character boundary", "a" + strings.Repeat("é", 200), "a" + strings.Repeat("é", 149) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, textOf([]byte(tt.in))); diff != "" {
				t.Errorf("textOf (-want +got):\n%s", diff)
			}
		})
	}
}
