package tenant

import (
	"context"
	"errors"
	"fmt"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t *testing.T) (*Service, *sqlstore.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2025, 3, 21, 10, 0, 0, 0, time.UTC)}
	st := newTestStore(t, c.Now)
	return &Service{Store: st, PublicURL: "http://127.0.0.1:8080/", Now: c.Now}, st, c
}

func linkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("admin link %q: %v", link, err)
	}
	return u.Query().Get("token")
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"acme", true},
		{"a", true},
		{"acme-corp-2", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"Acme", false},
		{"-acme", false},
		{"acme-", false},
		{"ac me", false},
		{"acme.corp", false},
		{"acme/x", false},
		{"äcme", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.name)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Errorf("error %v does not match ErrInvalidName", err)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	s, st, _ := newService(t)
	ctx := context.Background()
	got, err := s.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := Created{
		Tenant:      "acme",
		SCIMBaseURL: "http://127.0.0.1:8080/t/acme/scim/v2",
		Token:       got.Token,
		RedirectURI: "http://127.0.0.1:8080/t/acme/oidc/callback",
		AdminURL:    got.AdminURL,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if len(got.Token) < 40 {
		t.Errorf("token %q is too short", got.Token)
	}
	if !strings.HasPrefix(got.AdminURL, "http://127.0.0.1:8080/t/acme/admin/login?token=") {
		t.Errorf("AdminURL = %q", got.AdminURL)
	}
	tn, err := st.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !secret.Equal(tn.TokenHash, got.Token) {
		t.Error("stored hash does not match the token")
	}
	if strings.Contains(string(tn.TokenHash), got.Token) {
		t.Error("token stored in clear")
	}

	errTests := []struct {
		name string
		in   string
		is   []error
	}{
		{"duplicate", "acme", []error{ErrExists, store.ErrExists}},
		{"invalid", "Acme!", []error{ErrInvalidName}},
		{"empty", "", []error{ErrInvalidName}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, e := range tt.is {
				if !errors.Is(err, e) {
					t.Errorf("error %v does not match %v", err, e)
				}
			}
			if !strings.HasPrefix(err.Error(), "tenant: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestRotateToken(t *testing.T) {
	s, st, _ := newService(t)
	ctx := context.Background()
	c, err := s.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.RotateToken(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.GetTenant(ctx, "acme")
	if diff := cmp.Diff([]bool{false, true}, []bool{secret.Equal(tn.TokenHash, c.Token), secret.Equal(tn.TokenHash, tok)}); diff != "" {
		t.Errorf("old/new token valid (-want +got):\n%s", diff)
	}
	if _, err := s.RotateToken(ctx, "nope"); !errors.Is(err, ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RotateToken(unknown) = %v, want ErrNotFound", err)
	}
}

func TestAdminLink(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		steps  func(t *testing.T, s *Service, c *clock, tok string) []error
		wantOK []bool
	}{
		{"works once", func(t *testing.T, s *Service, c *clock, tok string) []error {
			return []error{s.ConsumeAdminLink(ctx, "acme", tok), s.ConsumeAdminLink(ctx, "acme", tok)}
		}, []bool{true, false}},
		{"expires after 15 minutes", func(t *testing.T, s *Service, c *clock, tok string) []error {
			c.Add(15 * time.Minute)
			return []error{s.ConsumeAdminLink(ctx, "acme", tok)}
		}, []bool{false}},
		{"valid at 14 minutes", func(t *testing.T, s *Service, c *clock, tok string) []error {
			c.Add(14 * time.Minute)
			return []error{s.ConsumeAdminLink(ctx, "acme", tok)}
		}, []bool{true}},
		{"other tenant", func(t *testing.T, s *Service, c *clock, tok string) []error {
			return []error{s.ConsumeAdminLink(ctx, "other", tok), s.ConsumeAdminLink(ctx, "acme", tok)}
		}, []bool{false, true}},
		{"garbage and empty", func(t *testing.T, s *Service, c *clock, tok string) []error {
			return []error{s.ConsumeAdminLink(ctx, "acme", "garbage"), s.ConsumeAdminLink(ctx, "acme", "")}
		}, []bool{false, false}},
		{"new link", func(t *testing.T, s *Service, c *clock, tok string) []error {
			link, err := s.AdminLink(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			return []error{s.ConsumeAdminLink(ctx, "acme", linkToken(t, link)), s.ConsumeAdminLink(ctx, "acme", tok)}
		}, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, c := newService(t)
			if _, err := s.Create(ctx, "other"); err != nil {
				t.Fatal(err)
			}
			cr, err := s.Create(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			errs := tt.steps(t, s, c, linkToken(t, cr.AdminURL))
			var got []bool
			for _, err := range errs {
				got = append(got, err == nil)
				if err != nil && !errors.Is(err, ErrInvalidLink) {
					t.Errorf("error %v does not match ErrInvalidLink", err)
				}
			}
			if diff := cmp.Diff(tt.wantOK, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		s, _, _ := newService(t)
		if _, err := s.AdminLink(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("AdminLink(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("service clock decides expiry", func(t *testing.T) {
		// The store checks expiry with its own (real) clock; the service
		// still refuses a link that is old by its injected clock.
		c := &clock{t: time.Now()}
		s := &Service{Store: newTestStore(t, time.Now), PublicURL: "http://x", Now: c.Now}
		cr, err := s.Create(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		c.Add(16 * time.Minute)
		if err := s.ConsumeAdminLink(ctx, "acme", linkToken(t, cr.AdminURL)); !errors.Is(err, ErrInvalidLink) {
			t.Errorf("ConsumeAdminLink after expiry by service clock = %v, want ErrInvalidLink", err)
		}
	})
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"wrapped", ValidateName("-a"), `"-a" must not start or end with a hyphen`},
		{"bare sentinel", ErrInvalidLink, "The admin link is invalid, expired or already used"},
		{"foreign", errors.New("boom"), "boom"},
		{"non-ASCII first letter", fmt.Errorf("%w: émoji", ErrInvalidSignIn), "Émoji"},
		{"URL first", fmt.Errorf("%w: https://127.0.0.1:9090 speaks http, not https", ErrDiscovery), "https://127.0.0.1:9090 speaks http, not https"},
		{"http URL first", fmt.Errorf("%w: http://127.0.0.1:1/.well-known/openid-configuration answered HTTP 404", ErrDiscovery), "http://127.0.0.1:1/.well-known/openid-configuration answered HTTP 404"},
		{"quoted URL first", fmt.Errorf("%w: %q contains a query", ErrInvalidDomain, "https://x.okta.com?a"), `"https://x.okta.com?a" contains a query`},
		{"host name first", fmt.Errorf("%w: dev-1.okta.com answered", ErrDiscovery), "dev-1.okta.com answered"},
		{"host and port first", fmt.Errorf("%w: 127.0.0.1:9090 speaks http", ErrDiscovery), "127.0.0.1:9090 speaks http"},
		{"a word with a full stop", fmt.Errorf("%w: done. then more", ErrDiscovery), "Done. then more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Message(tt.err)); diff != "" {
				t.Errorf("Message (-want +got):\n%s", diff)
			}
		})
	}
}
