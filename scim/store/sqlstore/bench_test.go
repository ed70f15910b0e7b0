package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// benchUser is a User record of a realistic size.
func benchUser(i int) store.Record {
	id := fmt.Sprintf("u%08d", i)
	name := fmt.Sprintf("user%d@example.com", i)
	return store.Record{
		Type: store.TypeUser, ID: id, UserName: name, ExternalID: fmt.Sprintf("00u%08d", i),
		DisplayName: fmt.Sprintf("User %d", i), Emails: []string{name},
		Data: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"` + id + `","userName":"` + name +
			`","name":{"givenName":"User","familyName":"` + id + `"},"emails":[{"value":"` + name + `","primary":true,"type":"work"}],"active":true}`),
	}
}

// seedUsers stores users from..to-1 in batches.
func seedUsers(b *testing.B, s *Store, from, to int) {
	b.Helper()
	const batch = 10000
	for i := from; i < to; i += batch {
		rs := make([]store.Record, 0, batch)
		for j := i; j < min(to, i+batch); j++ {
			rs = append(rs, benchUser(j))
		}
		if err := s.CreateResources(b.Context(), "bench", rs); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStore(b *testing.B) *Store {
	return openAt(b, "sqlite:"+filepath.Join(b.TempDir(), "idpkit.db"), len(migrations), Options{})
}

// BenchmarkStore measures the store's hot paths on SQLite. Run it with
// -tags sqlite_ncruces to compare the drivers.
func BenchmarkStore(b *testing.B) {
	b.Run("create", func(b *testing.B) {
		s := benchStore(b)
		i := 0
		for b.Loop() {
			if _, err := s.CreateResource(b.Context(), "bench", benchUser(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("get-10k", func(b *testing.B) {
		s := benchStore(b)
		seedUsers(b, s, 0, 10000)
		i := 0
		for b.Loop() {
			if _, err := s.GetResource(b.Context(), "bench", store.TypeUser, fmt.Sprintf("u%08d", i*7919%10000)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("userName-eq-10k", func(b *testing.B) {
		s := benchStore(b)
		seedUsers(b, s, 0, 10000)
		i := 0
		for b.Loop() {
			rs, err := s.ListResources(b.Context(), "bench", store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, fmt.Sprintf("USER%d@example.com", i*7919%10000))})
			if err != nil || len(rs) != 1 {
				b.Fatal(len(rs), err)
			}
			i++
		}
	})
	b.Run("page-100-at-50k-of-100k", func(b *testing.B) {
		s := benchStore(b)
		seedUsers(b, s, 0, 100000)
		for b.Loop() {
			rs, err := s.ListResources(b.Context(), "bench", store.TypeUser, store.Query{Offset: 50000, Limit: 100})
			if err != nil || len(rs) != 100 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("add-256-members-to-100k-group", func(b *testing.B) {
		s := benchStore(b)
		const size, add = 100000, 256
		seedUsers(b, s, 0, size+add)
		members := make([]store.Member, size)
		for i := range members {
			members[i] = store.Member{Value: fmt.Sprintf("u%08d", i)}
		}
		g := store.Record{Type: store.TypeGroup, ID: "g", DisplayName: "big", Members: &store.MemberChange{Add: members}}
		if _, err := s.CreateResource(b.Context(), "bench", g); err != nil {
			b.Fatal(err)
		}
		change := &store.MemberChange{}
		var ids []string
		for i := size; i < size+add; i++ {
			change.Add = append(change.Add, store.Member{Value: fmt.Sprintf("u%08d", i)})
			ids = append(ids, fmt.Sprintf("u%08d", i))
		}
		b.ResetTimer()
		set := func(mc *store.MemberChange) func(*store.Record) error {
			return func(r *store.Record) error { r.Members = mc; return nil }
		}
		for i := 0; i < b.N; i++ {
			if _, err := s.UpdateResource(b.Context(), "bench", store.TypeGroup, "g", set(change)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if _, err := s.UpdateResource(b.Context(), "bench", store.TypeGroup, "g", set(&store.MemberChange{Remove: ids})); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	b.Run("CreateResources-10k", func(b *testing.B) {
		s := benchStore(b)
		next := 0
		start := time.Now()
		for i := 0; i < b.N; i++ {
			seedUsers(b, s, next, next+10000)
			next += 10000
		}
		b.ReportMetric(float64(next)/time.Since(start).Seconds(), "users/s")
	})
}

// benchDBEnv names a file BenchmarkLoad1M keeps and BenchmarkRSS1M reads.
const benchDBEnv = "IDPKIT_BENCH_DB"

// BenchmarkLoad1M loads 1,000,000 users into one SQLite tenant with
// CreateResources (in batches of 10,000) and reports users/s and the
// file's size. With IDPKIT_BENCH_DB set it loads that (absent) file and
// keeps it for BenchmarkRSS1M.
func BenchmarkLoad1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		path := os.Getenv(benchDBEnv)
		if path == "" || i > 0 {
			path = filepath.Join(b.TempDir(), "idpkit.db")
		}
		s := openAt(b, "sqlite:"+path, len(migrations), Options{})
		start := time.Now()
		seedUsers(b, s, 0, 1000000)
		b.ReportMetric(1e6/time.Since(start).Seconds(), "users/s")
		b.StopTimer()
		s.Close()
		var size int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				size += fi.Size()
			}
		}
		b.ReportMetric(float64(size)/(1<<20), "MiB")
		b.StartTimer()
	}
}

// vmRSS returns the process's resident set (VmRSS) in MiB.
func vmRSS(b *testing.B) float64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkRSS1M opens the 1,000,000-user file of BenchmarkLoad1M
// (IDPKIT_BENCH_DB), does 10,000 userName lookups and one ListResources
// of 100,000, and reports the resident set after it (run it alone, with
// -benchtime=1x, so that no other benchmark's memory counts).
func BenchmarkRSS1M(b *testing.B) {
	path := os.Getenv(benchDBEnv)
	if path == "" {
		b.Fatalf("set %s to a file made by BenchmarkLoad1M (%s=/tmp/1m.db go test -run=^$ -bench=Load1M -benchtime=1x)", benchDBEnv, benchDBEnv)
	}
	for b.Loop() {
		s := openAt(b, "sqlite:"+path, len(migrations), Options{})
		ctx := b.Context()
		start := time.Now()
		for i := range 10000 {
			name := fmt.Sprintf("user%d@example.com", i*7919%1000000)
			rs, err := s.ListResources(ctx, "bench", store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, name)})
			if err != nil || len(rs) != 1 {
				b.Fatal(len(rs), err)
			}
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/10000, "µs/lookup")
		debug.FreeOSMemory()
		b.ReportMetric(vmRSS(b), "MiB-RSS-lookups")
		rs, err := s.ListResources(ctx, "bench", store.TypeUser, store.Query{Offset: 400000, Limit: 100000})
		if err != nil || len(rs) != 100000 {
			b.Fatal(len(rs), err)
		}
		b.ReportMetric(vmRSS(b), "MiB-RSS-holding-list")
		rs = nil
		// What stays once the Go heap has given back the list: the SQLite
		// caches and the runtime.
		debug.FreeOSMemory()
		b.ReportMetric(vmRSS(b), "MiB-RSS")
		s.Close()
	}
}

// BenchmarkImport100k pages through 100,000 users as an import does:
// 1,000 pages of CountResources(nil) and ListResources in the default
// order with Offset k*100 and Limit 100; reports the seconds for all.
func BenchmarkImport100k(b *testing.B) {
	s := benchStore(b)
	seedUsers(b, s, 0, 100000)
	ctx := b.Context()
	for b.Loop() {
		start := time.Now()
		for off := 0; off < 100000; off += 100 {
			if _, err := s.CountResources(ctx, "bench", store.TypeUser, nil); err != nil {
				b.Fatal(err)
			}
			rs, err := s.ListResources(ctx, "bench", store.TypeUser, store.Query{Offset: off, Limit: 100})
			if err != nil || len(rs) != 100 {
				b.Fatal(len(rs), err)
			}
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/import")
	}
}

// BenchmarkPostgresConcurrentCreates runs 200 CreateResource calls at
// once in one tenant on PostgreSQL (they all move the tenant's
// resource_counts row) and reports creates/s.
func BenchmarkPostgresConcurrentCreates(b *testing.B) {
	s := openAt(b, pgSchemaDSN(b), len(migrations), Options{})
	next := 0
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for range 200 {
			i := next
			next++
			wg.Go(func() {
				if _, err := s.CreateResource(b.Context(), "bench", benchUser(i)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next)/total.Seconds(), "creates/s")
}
