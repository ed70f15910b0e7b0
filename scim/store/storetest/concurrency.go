package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// RunConcurrency runs the transaction tests (dex keeps these apart in
// storage/conformance/transactions.go): many goroutines updating one
// record lose no write, racing creates of one userName let exactly one
// win, and racing TakeToken calls hand the token to exactly one caller.
// Each subtest gets a fresh store from newStore.
func RunConcurrency(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range concurrencyTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// Goroutine counts of the concurrency tests.
const (
	updaters = 50
	racers   = 20
)

// counter is the Data the concurrent updates work on.
type counter struct {
	N    int   `json:"n"`
	Seen []int `json:"seen"`
}

// increment returns an update callback that decodes Data as a
// counter, increments it and appends i to its list.
func increment(i int) func(r *store.Record) error {
	return func(r *store.Record) error {
		var c counter
		if err := json.Unmarshal(r.Data, &c); err != nil {
			return fmt.Errorf("storetest: decode counter: %w", err)
		}
		c.N++
		c.Seen = append(c.Seen, i)
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		r.Data = b
		return nil
	}
}

// race runs fn(0) … fn(n-1) in n goroutines released together and
// returns their errors, indexed by i.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// checkCounter fails unless the counter record tenant/User/id holds
// exactly the increments 0…n-1 and has Version n+1.
func checkCounter(t *testing.T, s store.Store, tenant, id string, n int) {
	t.Helper()
	got := mustGet(t, s, tenant, store.TypeUser, id)
	var c counter
	if err := json.Unmarshal(got.Data, &c); err != nil {
		t.Fatalf("decode counter %s: %v", got.Data, err)
	}
	slices.Sort(c.Seen)
	want := counter{N: n}
	for i := range n {
		want.Seen = append(want.Seen, i)
	}
	if diff := cmp.Diff(want, c, opts); diff != "" {
		t.Errorf("counter after %d concurrent updates (-want +got):\n%s", n, diff)
	}
	if got.Version != int64(n+1) {
		t.Errorf("Version = %d, want %d", got.Version, n+1)
	}
}

var concurrencyTests = []test{
	{"UpdateLosesNoWrite", func(t *testing.T, s store.Store) {
		r := user("u1", "counter")
		r.Data = []byte(`{"n":0,"seen":[]}`)
		mustCreate(t, s, tn, r)
		errs := race(updaters, func(i int) error {
			_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", increment(i))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}
		checkCounter(t, s, tn, "u1", updaters)
	}},
	{"CreateSameUserName", func(t *testing.T, s store.Store) {
		names := []string{"race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM"}
		errs := race(racers, func(i int) error {
			_, err := s.CreateResource(ctxOf(t), tn, user(fmt.Sprintf("u%02d", i), names[i%len(names)]))
			return err
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrExists):
			default:
				t.Errorf("create %d: %v, want nil or ErrExists", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d racing creates of one userName succeeded, want exactly 1", won, racers)
		}
		got, err := s.ListResources(ctxOf(t), tn, store.TypeUser, store.Query{UserName: "race@example.com"})
		if err != nil || len(got) != 1 {
			t.Errorf("ListResources(userName) = %v, %v; want one record", ids(got), err)
		}
	}},
	{"CreateDistinct", func(t *testing.T, s store.Store) {
		errs := race(updaters, func(i int) error {
			_, err := s.CreateResource(ctxOf(t), tn, user(fmt.Sprintf("u%02d", i), fmt.Sprintf("user%02d", i)))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("create %d: %v", i, err)
			}
		}
		if n, err := s.CountResources(ctxOf(t), tn, store.TypeUser); err != nil || n != updaters {
			t.Errorf("CountResources = %d, %v; want %d", n, err, updaters)
		}
	}},
	{"TakeTokenOnce", func(t *testing.T, s store.Store) {
		mustPut(t, s, store.Token{Kind: "admin-link", Key: "once", Tenant: tn, Value: []byte("v"), Expires: soon()})
		errs := race(racers, func(int) error {
			_, err := s.TakeToken(ctxOf(t), "admin-link", "once")
			return err
		})
		got := 0
		for i, err := range errs {
			switch {
			case err == nil:
				got++
			case errors.Is(err, store.ErrNotFound):
			default:
				t.Errorf("take %d: %v, want nil or ErrNotFound", i, err)
			}
		}
		if got != 1 {
			t.Errorf("%d of %d racing TakeToken calls got the token, want exactly 1", got, racers)
		}
	}},
}

// RunShared checks that two stores on one database (two processes, in
// production) see each other's writes and, updating one record from
// both at once, lose none. open returns a new store on the same database
// each time it is called and arranges, with t.Cleanup, to close it.
func RunShared(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	a, b := open(t), open(t)

	mustCreateTenant(t, a, store.Tenant{Name: "from-a", TokenHash: []byte{1}})
	mustCreateTenant(t, b, store.Tenant{Name: "from-b", TokenHash: []byte{2}})
	for _, s := range []store.Store{a, b} {
		for _, name := range []string{"from-a", "from-b"} {
			if _, err := s.GetTenant(ctxOf(t), name); err != nil {
				t.Errorf("GetTenant(%s): %v", name, err)
			}
		}
	}
	wantErr(t, "CreateTenant from b of a's name", b.CreateTenant(ctxOf(t), store.Tenant{Name: "from-a"}), store.ErrExists)

	r := user("u1", "counter")
	r.Data = []byte(`{"n":0,"seen":[]}`)
	mustCreate(t, a, tn, r)
	_, err := b.CreateResource(ctxOf(t), tn, user("u2", "COUNTER"))
	wantErr(t, "CreateResource from b of a's userName", err, store.ErrExists)

	errs := race(updaters, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", increment(i))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	checkCounter(t, a, tn, "u1", updaters)
	checkCounter(t, b, tn, "u1", updaters)

	mustPut(t, a, store.Token{Kind: "admin-link", Key: "k", Value: []byte("v"), Expires: soon()})
	errs = race(racers, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		_, err := s.TakeToken(ctxOf(t), "admin-link", "k")
		return err
	})
	got := 0
	for _, err := range errs {
		if err == nil {
			got++
		}
	}
	if got != 1 {
		t.Errorf("%d of %d TakeToken calls across two stores got the token, want exactly 1", got, racers)
	}
}
