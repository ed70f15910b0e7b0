package tenant

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/secret"
)

// TestRotateTokenGrace follows the stored previous token through
// rotations: a grace period keeps the old token for that long, a revoke
// (grace 0, and RotateToken) ends it at once, and a second rotation during
// a grace period keeps only the token it replaced.
func TestRotateTokenGrace(t *testing.T) {
	type state struct {
		Current, Prev string        // which token is current / previous: "created", "first", "second"
		Until         time.Duration // PrevTokenExpires minus the start time; 0: none
	}
	tests := []struct {
		name  string
		steps []time.Duration // one rotation per entry: its grace (-1 means RotateToken); the clock moves a minute between
		want  state
	}{
		{"grace keeps the old token", []time.Duration{10 * time.Minute}, state{"first", "created", 10 * time.Minute}},
		{"zero grace revokes", []time.Duration{0}, state{"first", "", 0}},
		{"RotateToken revokes", []time.Duration{-1}, state{"first", "", 0}},
		{"second rotation ends the first old token", []time.Duration{10 * time.Minute, 5 * time.Minute}, state{"second", "first", 6 * time.Minute}},
		{"revoke during a grace period ends it", []time.Duration{10 * time.Minute, 0}, state{"second", "", 0}},
		{"RotateToken during a grace period ends it", []time.Duration{10 * time.Minute, -1}, state{"second", "", 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, st, c := newService(t)
			ctx := context.Background()
			start := c.Now()
			created, err := s.Create(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			tokens := map[string]string{"created": created.Token}
			for i, grace := range tc.steps {
				if i > 0 {
					c.Add(time.Minute)
				}
				var tok string
				if grace < 0 {
					tok, err = s.RotateToken(ctx, "acme")
				} else {
					tok, err = s.RotateTokenGrace(ctx, "acme", grace)
				}
				if err != nil {
					t.Fatal(err)
				}
				tokens[[]string{"first", "second"}[i]] = tok
			}
			tn, err := st.GetTenant(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			var got state
			for name, tok := range tokens {
				if secret.Equal(tn.TokenHash, tok) {
					got.Current = name
				}
				if secret.Equal(tn.PrevTokenHash, tok) {
					got.Prev = name
				}
			}
			if !tn.PrevTokenExpires.IsZero() {
				got.Until = tn.PrevTokenExpires.Sub(start)
			}
			if got.Prev == "" && len(tn.PrevTokenHash) != 0 {
				t.Errorf("PrevTokenHash %x is none of the tokens", tn.PrevTokenHash)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stored tokens (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRotateTokenGraceErrors(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	created, err := s.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tenant string
		grace        time.Duration
		want         error
	}{
		{"negative", "acme", -time.Second, ErrInvalidGrace},
		{"above MaxGrace", "acme", MaxGrace + time.Second, ErrInvalidGrace},
		{"unknown tenant", "nope", time.Minute, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.RotateTokenGrace(ctx, tc.tenant, tc.grace)
			if !errors.Is(err, tc.want) {
				t.Errorf("RotateTokenGrace(%s, %v) = %v; want %v", tc.tenant, tc.grace, err, tc.want)
			}
		})
	}
	tn, err := s.Store.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !secret.Equal(tn.TokenHash, created.Token) || len(tn.PrevTokenHash) != 0 {
		t.Error("a refused rotation changed the tenant's tokens")
	}
	if _, err := s.RotateTokenGrace(ctx, "acme", MaxGrace); err != nil {
		t.Errorf("RotateTokenGrace(MaxGrace) = %v; want it accepted", err)
	}
}
