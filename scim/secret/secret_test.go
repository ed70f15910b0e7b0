package secret

import (
	"encoding/hex"
	"testing"
)

func TestNewIsRandomAndURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := New()
		if len(s) != 43 {
			t.Fatalf("New() = %q, want 43 characters", s)
		}
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("New() = %q has %q, not URL-safe", s, c)
			}
		}
		if seen[s] {
			t.Fatalf("New() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestEqual(t *testing.T) {
	s := New()
	h := Hash(s)
	tests := []struct {
		name string
		hash []byte
		in   string
		want bool
	}{
		{"same secret", h, s, true},
		{"other secret", h, New(), false},
		{"prefix", h, s[:42], false},
		{"empty input", h, "", false},
		{"short hash", h[:31], s, false},
		{"nil hash", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.hash, tt.in); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
	if HashString(s) != hex.EncodeToString(h) {
		t.Errorf("HashString is not the hex of Hash")
	}
}
