package storetest

import (
	"context"
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
// win, racing member adds and removes on one group lose none, a user
// deleted while it is being added to a group is never left a member, and
// racing TakeToken calls hand the token to exactly one caller.
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
	creators = 50  // racing creates of one userName
	joiners  = 200 // racing member adds to one group
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

// caseVariant returns s with the letters whose position's bit is set in
// i upper-cased, so that variants 0…2^letters-1 differ only in case.
func caseVariant(s string, i int) string {
	b := []byte(s)
	bit := 0
	for j, c := range b {
		if c < 'a' || c > 'z' {
			continue
		}
		if i&(1<<bit) != 0 {
			b[j] = c - 'a' + 'A'
		}
		bit++
	}
	return string(b)
}

// changeMembersErr applies mc to the group id of tenant tn; it is
// changeMembers for goroutines that must not call t.Fatal.
func changeMembersErr(s store.Store, ctx context.Context, id string, mc store.MemberChange) (store.Record, error) {
	return s.UpdateResource(ctx, tn, store.TypeGroup, id, func(r *store.Record) error {
		r.Members = &mc
		return nil
	})
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
		errs := race(creators, func(i int) error {
			_, err := s.CreateResource(ctxOf(t), tn, user(fmt.Sprintf("u%02d", i), caseVariant("race@example.com", i)))
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
			t.Errorf("%d of %d racing creates of one userName succeeded, want exactly 1", won, creators)
		}
		got, err := s.ListResources(ctxOf(t), tn, store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, "RACE@example.com")})
		if err != nil || len(got) != 1 {
			t.Errorf("ListResources(userName) = %v, %v; want one record", ids(got), err)
		}
		if n, err := s.CountResources(ctxOf(t), tn, store.TypeUser, nil); err != nil || n != 1 {
			t.Errorf("CountResources = %d, %v; want 1", n, err)
		}
	}},
	{"AddMembers", func(t *testing.T, s store.Store) {
		// Each goroutine adds one distinct user to one group.
		var users []store.Record
		for i := range joiners {
			users = append(users, user(fmt.Sprintf("u%03d", i), fmt.Sprintf("user%03d", i)))
		}
		if err := s.CreateResources(ctxOf(t), tn, users); err != nil {
			t.Fatalf("CreateResources: %v", err)
		}
		mustCreate(t, s, tn, group("g1", "Everyone"))
		errs := race(joiners, func(i int) error {
			_, err := changeMembersErr(s, ctxOf(t), "g1", store.MemberChange{Add: ms(users[i].ID)})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("add %d: %v", i, err)
			}
		}
		got := memberIDs(members(t, s, tn, "g1"))
		slices.Sort(got)
		if diff := cmp.Diff(ids(users), got); diff != "" {
			t.Errorf("members after %d concurrent adds (-want +got):\n%s", joiners, diff)
		}
		if v := mustGet(t, s, tn, store.TypeGroup, "g1").Version; v != 1+joiners {
			t.Errorf("Version = %d, want %d", v, 1+joiners)
		}
	}},
	{"AddRemoveMembers", func(t *testing.T, s store.Store) {
		// 100 members at first; 50 goroutines remove the even ones while
		// 50 add newcomers, and 50 add again members that stay.
		var users []store.Record
		var old, newcomers []string
		for i := range 100 {
			id := fmt.Sprintf("m%03d", i)
			users = append(users, user(id, id))
			old = append(old, id)
		}
		for i := range 50 {
			id := fmt.Sprintf("n%03d", i)
			users = append(users, user(id, id))
			newcomers = append(newcomers, id)
		}
		if err := s.CreateResources(ctxOf(t), tn, users); err != nil {
			t.Fatalf("CreateResources: %v", err)
		}
		mustCreate(t, s, tn, groupWith("g1", "Churn", old...))
		errs := race(150, func(i int) error {
			var mc store.MemberChange
			switch i % 3 {
			case 0:
				mc.Remove = []string{old[2*(i/3)]}
			case 1:
				mc.Add = ms(newcomers[i/3])
			case 2:
				mc.Add = []store.Member{{Value: old[2*(i/3)+1], Display: "again"}}
			}
			_, err := changeMembersErr(s, ctxOf(t), "g1", mc)
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("change %d: %v", i, err)
			}
		}
		got := members(t, s, tn, "g1")
		// The odd old members keep their places at the front; the
		// newcomers follow in the order their adds committed.
		var wantFront []store.Member
		for i := 1; i < 100; i += 2 {
			wantFront = append(wantFront, store.Member{Value: old[i], Display: "again"})
		}
		if len(got) != 100 {
			t.Fatalf("%d members after the churn, want 100: %v", len(got), memberIDs(got))
		}
		if diff := cmp.Diff(wantFront, got[:50]); diff != "" {
			t.Errorf("first 50 members (-want +got):\n%s", diff)
		}
		back := memberIDs(got[50:])
		slices.Sort(back)
		if diff := cmp.Diff(newcomers, back); diff != "" {
			t.Errorf("last 50 members (-want +got):\n%s", diff)
		}
		if v := mustGet(t, s, tn, store.TypeGroup, "g1").Version; v != 1+150 {
			t.Errorf("Version = %d, want %d", v, 1+150)
		}
	}},
	{"DeleteWhileAdding", func(t *testing.T, s store.Store) {
		// Each user is deleted while another goroutine adds it to the
		// group: whichever commits first, no member is left that is not
		// a user, and a successful add is undone by the delete that
		// follows it (bumping the group's Version once more).
		const n = 40
		var users []store.Record
		for i := range n {
			users = append(users, user(fmt.Sprintf("d%02d", i), fmt.Sprintf("d%02d", i)))
		}
		users = append(users, user("stays", "stays"))
		if err := s.CreateResources(ctxOf(t), tn, users); err != nil {
			t.Fatalf("CreateResources: %v", err)
		}
		mustCreate(t, s, tn, groupWith("g1", "Doomed", "stays"))
		errs := race(2*n, func(i int) error {
			id := users[i/2].ID
			if i%2 == 0 {
				return s.DeleteResource(ctxOf(t), tn, store.TypeUser, id)
			}
			_, err := changeMembersErr(s, ctxOf(t), "g1", store.MemberChange{Add: ms(id)})
			return err
		})
		added := 0
		for i, err := range errs {
			switch {
			case i%2 == 0 && err != nil:
				t.Errorf("delete %d: %v", i/2, err)
			case i%2 == 1 && err == nil:
				added++
			case i%2 == 1 && !errors.Is(err, store.ErrMissingMember):
				t.Errorf("add %d: %v, want nil or ErrMissingMember", i/2, err)
			}
		}
		if diff := cmp.Diff([]string{"stays"}, memberIDs(members(t, s, tn, "g1"))); diff != "" {
			t.Errorf("members after the race (-want +got):\n%s", diff)
		}
		if v := mustGet(t, s, tn, store.TypeGroup, "g1").Version; v != int64(1+2*added) {
			t.Errorf("Version = %d with %d successful adds, want %d", v, added, 1+2*added)
		}
		t.Logf("%d of %d adds won the race", added, n)
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
		if n, err := s.CountResources(ctxOf(t), tn, store.TypeUser, nil); err != nil || n != updaters {
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
// production) see each other's writes and, updating one record or adding
// members to one group from both at once, lose none. open returns a new store on the same database
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

	// Members added from both stores at once: none lost.
	var joined []store.Record
	for i := range updaters {
		joined = append(joined, user(fmt.Sprintf("j%02d", i), fmt.Sprintf("joiner%02d", i)))
	}
	if err := a.CreateResources(ctxOf(t), tn, joined); err != nil {
		t.Fatalf("CreateResources: %v", err)
	}
	mustCreate(t, b, tn, group("g1", "Both"))
	errs = race(updaters, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		_, err := changeMembersErr(s, ctxOf(t), "g1", store.MemberChange{Add: ms(joined[i].ID)})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("add %d: %v", i, err)
		}
	}
	for _, s := range []store.Store{a, b} {
		got := memberIDs(members(t, s, tn, "g1"))
		slices.Sort(got)
		if diff := cmp.Diff(ids(joined), got); diff != "" {
			t.Errorf("members after adds from two stores (-want +got):\n%s", diff)
		}
		if v := mustGet(t, s, tn, store.TypeGroup, "g1").Version; v != 1+updaters {
			t.Errorf("Version = %d, want %d", v, 1+updaters)
		}
	}
	// A user deleted through a leaves the group as b sees it.
	if err := a.DeleteResource(ctxOf(t), tn, store.TypeUser, joined[0].ID); err != nil {
		t.Fatalf("DeleteResource: %v", err)
	}
	if got := members(t, b, tn, "g1"); len(got) != updaters-1 {
		t.Errorf("b sees %d members after a deleted one, want %d", len(got), updaters-1)
	}

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
