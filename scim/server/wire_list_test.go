package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

func TestNewID(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	base := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"epoch", time.UnixMilli(0)},
		{"now", base},
		{"sub-millisecond part ignored", base.Add(999 * time.Microsecond)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g idSource
			id := g.next(tc.at)
			if !shape.MatchString(id) {
				t.Fatalf("next = %q, not a version-7 UUID", id)
			}
			hex := strings.ReplaceAll(id, "-", "")[:12]
			ms, err := strconv.ParseUint(hex, 16, 64)
			if err != nil || int64(ms) != tc.at.UnixMilli() {
				t.Errorf("time field of %q = %d, want %d", id, ms, tc.at.UnixMilli())
			}
		})
	}
	t.Run("later ids sort after earlier ones, and never repeat", func(t *testing.T) {
		var g idSource
		seen := map[string]bool{}
		prev := ""
		for i := range 2000 {
			id := g.next(base.Add(time.Duration(i) * time.Millisecond))
			if seen[id] || id <= prev {
				t.Fatalf("id %d %q repeats or sorts before %q", i, id, prev)
			}
			seen[id], prev = true, id
		}
		// 10,000 in one millisecond, then a clock that steps back: each
		// still sorts after the one before (the counter, then the next
		// millisecond borrowed), so same-millisecond creates list in order.
		at := base.Add(2000 * time.Millisecond)
		for i := range 10000 {
			when := at
			if i > 5000 {
				when = at.Add(-time.Hour)
			}
			id := g.next(when)
			if seen[id] || id <= prev {
				t.Fatalf("id %d %q repeats or sorts before %q", i, id, prev)
			}
			seen[id], prev = true, id
		}
		// Two sources (two processes) in the same millisecond: the random
		// bits keep their ids apart.
		var other idSource
		for range 2000 {
			id := other.next(at)
			if seen[id] {
				t.Fatalf("id %q repeats", id)
			}
			seen[id] = true
		}
	})
}

func TestWriteList(t *testing.T) {
	tests := []struct {
		name      string
		resources []scim.Resource
	}{
		{"empty", nil},
		{"two", []scim.Resource{{"id": "a", "userName": "<b>&"}, {"id": "b", "emails": []any{map[string]any{"value": "x@y"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := make([]json.RawMessage, len(tc.resources))
			for i, r := range tc.resources {
				var err error
				if raw[i], err = encodeResource(r); err != nil {
					t.Fatal(err)
				}
			}
			rec := httptest.NewRecorder()
			writeList(rec, 7, 3, raw)
			want := httptest.NewRecorder()
			writeJSON(want, http.StatusOK, scim.ListResponse{Schemas: []string{scim.SchemaListResponse}, TotalResults: 7, StartIndex: 3,
				ItemsPerPage: len(tc.resources), Resources: append([]scim.Resource{}, tc.resources...)})
			if diff := cmp.Diff(want.Body.String(), rec.Body.String()); diff != "" {
				t.Errorf("body (-writeJSON +writeList):\n%s", diff)
			}
			if diff := cmp.Diff(want.Header(), rec.Header()); diff != "" || rec.Code != 200 {
				t.Errorf("status %d, header (-want +got):\n%s", rec.Code, diff)
			}
		})
	}
}
