package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/client"
	"github.com/idpkit/idpkit/scim/store"
)

// benchClient returns a client for tenant acme that keeps connections open.
func benchClient(f *fixture) *client.Client {
	c := client.New(f.base("acme"), f.acmeToken)
	c.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	return c
}

// benchUsers fills the tenant acme with n users through the API and
// returns a client for it.
func benchUsers(b *testing.B, f *fixture, n int) *client.Client {
	b.Helper()
	c := benchClient(f)
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

// seedUsers writes n users of Okta's shape into tenant acme directly
// through the store (the API would take minutes for 10,000), as the server
// stores them: the normalised resource with id and meta. Ids are
// "bench-00000"…; userNames "user00000@example.com"….
func seedUsers(b *testing.B, f *fixture, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	work := make(chan int)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range work {
				id, un := fmt.Sprintf("bench-%05d", i), fmt.Sprintf("user%05d@example.com", i)
				res := scim.Resource{
					"schemas":     []any{scim.SchemaUser},
					"id":          id,
					"userName":    un,
					"externalId":  fmt.Sprintf("00u%017d", i),
					"name":        map[string]any{"givenName": "User", "familyName": fmt.Sprint(i)},
					"displayName": fmt.Sprintf("User %d", i),
					"emails":      []any{map[string]any{"value": un, "type": "work", "primary": true}},
					"locale":      "en-US",
					"active":      true,
					"meta": map[string]any{"resourceType": "User", "created": now.Format(timeFormat), "lastModified": now.Format(timeFormat),
						"location": f.base("acme") + "/Users/" + id, "version": `W/"1"`},
				}
				data, err := json.Marshal(res)
				if err == nil {
					_, err = f.store.CreateResource(ctx, "acme", store.Record{
						Type: store.TypeUser, ID: id, UserName: un, ExternalID: res["externalId"].(string), DisplayName: res["displayName"].(string),
						Data: data, Created: now, Modified: now,
					})
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("seed users: %v", err)
	default:
	}
}

// BenchmarkHTTP10k measures the requests Okta sends, through HTTP, against
// a tenant that holds 10,000 users on SQLite. The users are seeded once per
// process, through the store. The server records activity, as the app's
// does.
func BenchmarkHTTP10k(b *testing.B) {
	const n = 10000
	f := newFixtureWith(b, Config{Activity: activity.New(0)})
	start := time.Now()
	seedUsers(b, f, n)
	b.Logf("seeded %d users in %v", n, time.Since(start).Round(time.Millisecond))
	c := benchClient(f)
	ctx := context.Background()
	if got, err := f.store.CountResources(ctx, "acme", store.TypeUser, nil); err != nil || got != n {
		b.Fatalf("seeded %d users, %v; want %d", got, err, n)
	}
	// Okta sends a password with every new user; its PBKDF2 hash is most
	// of what a create costs, so both are measured.
	for _, bc := range []struct {
		name, prefix string
		password     bool
	}{{"create", "new", true}, {"create without password", "nopw", false}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				u := fmt.Sprintf("%s%08d@example.com", bc.prefix, i)
				r := scim.Resource{
					"schemas": []any{scim.SchemaUser}, "userName": u, "externalId": fmt.Sprintf("00u%s%014d", bc.prefix, i),
					"name":        map[string]any{"givenName": "New", "familyName": fmt.Sprint(i)},
					"emails":      []any{map[string]any{"primary": true, "value": u, "type": "work"}},
					"displayName": "New User", "locale": "en-US", "groups": []any{}, "active": true,
				}
				if bc.password {
					r["password"] = "Secret-123!"
				}
				if _, err := c.Create(ctx, "Users", r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("filtered-get userName eq", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := (i * 7919) % n
			l, err := c.List(ctx, "Users", client.ListQuery{Filter: fmt.Sprintf(`userName eq "USER%05d@example.com"`, k), StartIndex: 1, Count: 100})
			if err != nil || l.TotalResults != 1 {
				b.Fatalf("filter user %d: %v, %d results", k, err, l.TotalResults)
			}
		}
	})
	b.Run("patch deactivate/reactivate", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := (i * 7919) % n
			v := json.RawMessage(fmt.Sprintf(`{"active":%t}`, i%2 == 1))
			if _, err := c.Patch(ctx, "Users", fmt.Sprintf("bench-%05d", k), []scim.PatchOperation{{Op: "replace", Value: v}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOktaRequests measures the requests Okta sends most, against a
// tenant of 1,000 users created through HTTP on SQLite, on a server that
// records activity, as the app's does.
func BenchmarkOktaRequests(b *testing.B) {
	f := newFixtureWith(b, Config{Activity: activity.New(0)})
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

// BenchmarkScale measures, through HTTP on SQLite, the requests whose
// cost must not grow with the tenant: a PATCH adding 256 members to a
// group of 100,000 (seeded with Import), a page of 100 at startIndex
// 50,001 of 100,000 users, and GET of the 100,000-member group with and
// without its members.
func BenchmarkScale(b *testing.B) {
	const n = 100000
	f := newFixture(b)
	start := time.Now()
	ids, gid := bigGroup(b, f, n)
	b.Logf("imported %d users and a group of all of them in %v", len(ids), time.Since(start).Round(time.Millisecond))
	extra := importUsers(b, f, "extra", 256*64)
	c := benchClient(f)
	ctx := context.Background()
	b.Run("PATCH add 256 members to a 100k group", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			chunk := extra[(i%64)*256 : (i%64+1)*256]
			if i >= 64 {
				// Every chunk is in the group: take it out again first
				// so the add changes something.
				rm := make([]any, len(chunk))
				for j, id := range chunk {
					rm[j] = map[string]any{"value": id}
				}
				v, _ := json.Marshal(rm)
				if err := patchNoBody(ctx, f, gid, scim.PatchOperation{Op: "remove", Path: "members", Value: v}); err != nil {
					b.Fatal(err)
				}
			}
			add := make([]any, len(chunk))
			for j, id := range chunk {
				add[j] = map[string]any{"value": id}
			}
			v, _ := json.Marshal(add)
			if err := patchNoBody(ctx, f, gid, scim.PatchOperation{Op: "add", Path: "members", Value: v}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("page of 100 at 50,001", func(b *testing.B) {
		for b.Loop() {
			l, err := c.List(ctx, "Users", client.ListQuery{StartIndex: 50001, Count: 100})
			if err != nil || len(l.Resources) != 100 {
				b.Fatalf("%v %d", err, len(l.Resources))
			}
		}
	})
	b.Run("paged import of 100k, count=100", func(b *testing.B) {
		// What Okta's import does: startIndex 1, 101, 201, … until
		// totalResults, in the default order. One op is the whole import.
		for b.Loop() {
			read, total := 0, 1
			for start := 1; start <= total; start += 100 {
				l, err := c.List(ctx, "Users", client.ListQuery{StartIndex: start, Count: 100})
				if err != nil {
					b.Fatal(err)
				}
				read, total = read+len(l.Resources), l.TotalResults
			}
			if read != total || total < n {
				b.Fatalf("imported %d of %d users", read, total)
			}
		}
	})
	b.Run("GET 100k group excludedAttributes=members", func(b *testing.B) {
		for b.Loop() {
			if err := getStatus(f, "/Groups/"+gid+"?excludedAttributes=members"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GET 100k group with members", func(b *testing.B) {
		for b.Loop() {
			if err := getStatus(f, "/Groups/"+gid); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// patchNoBody sends a PATCH of group gid to acme that asks for no members
// in the answer, as Microsoft Entra ID does.
func patchNoBody(ctx context.Context, f *fixture, gid string, ops ...scim.PatchOperation) error {
	body, _ := json.Marshal(scim.PatchRequest{Schemas: []string{scim.SchemaPatchOp}, Operations: ops})
	resp, data, err := f.send("acme", f.acmeToken, "PATCH", "/Groups/"+gid+"?excludedAttributes=members", string(body), nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PATCH: %d %.300s", resp.StatusCode, data)
	}
	return nil
}

// getStatus GETs path of acme and wants 200.
func getStatus(f *fixture, path string) error {
	resp, data, err := f.send("acme", f.acmeToken, "GET", path, "", nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.300s", path, resp.StatusCode, data)
	}
	return nil
}
