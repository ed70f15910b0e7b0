package sqlstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// plainPage reads a page of the default order with OFFSET, bypassing the
// counts table and the keyset cursors: the reference scanDefault must
// agree with.
func plainPage(t *testing.T, s *Store, tenant string, q store.Query) []string {
	t.Helper()
	query, args, err := s.selectSQL(tenant, store.TypeUser, q)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(t.Context(), s.q(query), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.ID)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCursorPages pages through the default order while users are
// created (at times before, among and after the others), deleted and
// moved (a changed Created), by a second store on the same database as
// well, and compares every page and count with a plain OFFSET query and
// COUNT(*): a keyset cursor must never serve a wrong page.
func TestCursorPages(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			s := openAt(t, d, len(migrations), Options{})
			other := openAt(t, d, len(migrations), Options{}) // another process's store
			ctx := t.Context()
			rng := rand.New(rand.NewPCG(4, 2))
			at := func(us int) time.Time { return time.UnixMicro(int64(us)).UTC() }
			var seed []store.Record
			for i := range 300 {
				id := fmt.Sprintf("u%04d", i)
				// Pairs share a Created, so the id breaks ties.
				seed = append(seed, store.Record{Type: store.TypeUser, ID: id, UserName: id, Created: at(1000 + 10*(i/2))})
			}
			if err := s.CreateResources(ctx, "acme", seed); err != nil {
				t.Fatal(err)
			}
			// A tenant whose changes must not disturb acme's cursors.
			if _, err := s.CreateResource(ctx, "beta", store.Record{Type: store.TypeUser, ID: "b0", UserName: "b0"}); err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, r := range seed {
				ids = append(ids, r.ID)
			}
			next := 300
			hits := 0
			const size = 13
			for round := range 10 {
				for off := 0; ; off += size {
					q := store.Query{Offset: off, Limit: size}
					_, cached := s.cursors.get(cursorKey{"acme", store.TypeUser, gen(t, s, "acme"), off})
					if cached && off > 0 {
						hits++
					}
					got, err := s.ListResources(ctx, "acme", store.TypeUser, q)
					if err != nil {
						t.Fatal(err)
					}
					want := plainPage(t, s, "acme", q)
					if diff := cmp.Diff(want, idsOf(got)); diff != "" {
						t.Fatalf("round %d, offset %d (-want +got):\n%s", round, off, diff)
					}
					n, err := s.CountResources(ctx, "acme", store.TypeUser, nil)
					if err != nil {
						t.Fatal(err)
					}
					var all int
					if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM resources WHERE tenant = $1 AND type = $2`), "acme", store.TypeUser).Scan(&all); err != nil {
						t.Fatal(err)
					}
					if n != all {
						t.Fatalf("round %d: CountResources = %d, COUNT(*) = %d", round, n, all)
					}
					if len(got) < size {
						break
					}
					// Between pages, one change (or none) by either store.
					w := s
					if rng.IntN(2) == 0 {
						w = other
					}
					switch rng.IntN(6) {
					case 0: // a create anywhere in the order
						id := fmt.Sprintf("u%04d", next)
						next++
						if _, err := w.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: id, UserName: id, Created: at(1000 + rng.IntN(2000))}); err != nil {
							t.Fatal(err)
						}
						ids = append(ids, id)
					case 1: // a delete
						if len(ids) > 20 {
							i := rng.IntN(len(ids))
							var err error
							if rng.IntN(2) == 0 {
								err = w.DeleteResource(ctx, "acme", store.TypeUser, ids[i])
							} else {
								var r store.Record
								if r, err = w.GetResource(ctx, "acme", store.TypeUser, ids[i]); err == nil {
									err = w.DeleteResourceVersion(ctx, "acme", store.TypeUser, ids[i], r.Version)
								}
							}
							if err != nil {
								t.Fatal(err)
							}
							ids = append(ids[:i], ids[i+1:]...)
						}
					case 2: // a resource moves in the order
						id := ids[rng.IntN(len(ids))]
						if _, err := w.UpdateResource(ctx, "acme", store.TypeUser, id, func(r *store.Record) error {
							r.Created = at(1000 + rng.IntN(2000))
							return nil
						}); err != nil {
							t.Fatal(err)
						}
					case 3: // an update that keeps the order
						id := ids[rng.IntN(len(ids))]
						if _, err := w.UpdateResource(ctx, "acme", store.TypeUser, id, func(r *store.Record) error {
							r.DisplayName = "x"
							return nil
						}); err != nil {
							t.Fatal(err)
						}
					case 4: // another tenant
						id := fmt.Sprintf("b%04d", next)
						next++
						if _, err := w.CreateResource(ctx, "beta", store.Record{Type: store.TypeUser, ID: id, UserName: id}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if hits == 0 {
				t.Error("no page was served from a keyset cursor")
			}
			if n := s.cursors.len(); n > maxCursors {
				t.Errorf("cursor cache holds %d, more than %d", n, maxCursors)
			}
		})
	}
}

// gen reads a tenant's generation of Users.
func gen(t *testing.T, s *Store, tenant string) int64 {
	t.Helper()
	_, g, err := readCount(s.r.QueryRowContext(t.Context(), s.q(genSQL), tenant, store.TypeUser))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func idsOf(rs []store.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestCursorCacheBound(t *testing.T) {
	c := newCursorCache(3)
	for i := range 5 {
		c.put(cursorKey{"t", "User", 1, i}, cursor{int64(i), fmt.Sprint(i)})
	}
	c.get(cursorKey{"t", "User", 1, 2}) // most recent now
	c.put(cursorKey{"t", "User", 1, 9}, cursor{9, "9"})
	var kept []int
	for i := range 10 {
		if _, ok := c.get(cursorKey{"t", "User", 1, i}); ok {
			kept = append(kept, i)
		}
	}
	if diff := cmp.Diff([]int{2, 4, 9}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}
