package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/idpkit/idpkit/scim/client"
)

// benchUsers fills the tenant acme with n users and returns a client for it.
func benchUsers(b *testing.B, f *fixture, n int) *client.Client {
	b.Helper()
	c := client.New(f.base("acme"), f.acmeToken)
	c.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	for i := range n {
		u := fmt.Sprintf("user%05d@example.com", i)
		if _, err := c.Create(context.Background(), "Users", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": u,
			"name": map[string]any{"givenName": "U", "familyName": fmt.Sprint(i)}, "active": true,
		}); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkOktaRequests measures the requests Okta sends most, against a
// tenant of 1,000 users on SQLite, through HTTP.
func BenchmarkOktaRequests(b *testing.B) {
	f := newFixture(b)
	c := benchUsers(b, f, 1000)
	ctx := context.Background()
	b.Run("filter userName eq", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			l, err := c.List(ctx, "Users", client.ListQuery{Filter: fmt.Sprintf(`userName eq "USER%05d@example.com"`, i%1000), StartIndex: 1, Count: 100})
			if err != nil || l.TotalResults != 1 {
				b.Fatalf("%v %d", err, l.TotalResults)
			}
		}
	})
	b.Run("create user", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := c.Create(ctx, "Users", map[string]any{"userName": fmt.Sprintf("new%08d@example.com", i), "active": true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list users page of 100", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.List(ctx, "Users", client.ListQuery{StartIndex: 1, Count: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GET /Groups", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.List(ctx, "Groups", client.ListQuery{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
