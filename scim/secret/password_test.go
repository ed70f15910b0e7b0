package secret

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHashPassword(t *testing.T) {
	a, err := HashPassword("S3cret!")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("S3cret!")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(a, "$")
	got := map[string]any{
		"parts":       len(parts),
		"scheme":      parts[0],
		"iterations":  parts[1],
		"saltLen":     len(parts[2]), // 16 bytes, unpadded base64
		"keyLen":      len(parts[3]), // 32 bytes, unpadded base64
		"salted":      a != b,
		"noPlaintext": !strings.Contains(a, "S3cret!"),
		"verifies":    VerifyPassword(a, "S3cret!"),
	}
	want := map[string]any{
		"parts": 4, "scheme": "pbkdf2-sha256", "iterations": strconv.Itoa(PasswordIterations),
		"saltLen": 22, "keyLen": 43, "salted": true, "noPlaintext": true, "verifies": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HashPassword = %q mismatch (-want +got):\n%s", a, diff)
	}
	if PasswordIterations < 100_000 {
		t.Errorf("PasswordIterations = %d, want at least 100,000", PasswordIterations)
	}
}

func TestVerifyPassword(t *testing.T) {
	stored, err := HashPassword("S3cret!")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(stored, "$")
	tests := []struct {
		name, stored, password string
		want                   bool
	}{
		{"right password", stored, "S3cret!", true},
		{"wrong password", stored, "s3cret!", false},
		{"empty password", stored, "", false},
		{"plaintext stored", "S3cret!", "S3cret!", false},
		{"empty stored", "", "", false},
		{"other scheme", "bcrypt$" + strings.Join(parts[1:], "$"), "S3cret!", false},
		{"iterations changed", strings.Join([]string{parts[0], "99999", parts[2], parts[3]}, "$"), "S3cret!", false},
		{"absurd iterations", strings.Join([]string{parts[0], "999999999", parts[2], parts[3]}, "$"), "S3cret!", false},
		{"zero iterations", strings.Join([]string{parts[0], "0", parts[2], parts[3]}, "$"), "S3cret!", false},
		{"bad salt", strings.Join([]string{parts[0], parts[1], "!!", parts[3]}, "$"), "S3cret!", false},
		{"missing key", strings.Join(parts[:3], "$"), "S3cret!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyPassword(tt.stored, tt.password); got != tt.want {
				t.Errorf("VerifyPassword(%q, %q) = %v, want %v", tt.stored, tt.password, got, tt.want)
			}
		})
	}
}

// One hash must stay cheap enough for a SCIM create that carries a
// password; the bound is loose so a busy CI machine does not flake.
func TestHashPasswordCost(t *testing.T) {
	start := time.Now()
	if _, err := HashPassword("S3cret!"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("HashPassword took %v", d)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("S3cret!"); err != nil {
			b.Fatal(err)
		}
	}
}
