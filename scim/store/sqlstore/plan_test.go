package sqlstore

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim/store"
)

// TestQueryPlans checks with EXPLAIN that lookups, the default order and
// the membership queries use their indexes on both backends (on
// PostgreSQL with sequential scans disabled, since the tables are tiny: a
// plan without the index then means the index cannot serve the query,
// such as a collation mismatch).
func TestQueryPlans(t *testing.T) {
	cases := []struct {
		name  string
		typ   string
		q     store.Query
		index string // a regular expression the plan must match
	}{
		{"userName eq", store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, "alice")}, "resources_user_name"},
		{"externalId eq", store.TypeUser, store.Query{Where: store.Eq(store.FieldExternalID, "x")}, "resources_external_id"},
		{"displayName eq", store.TypeUser, store.Query{Where: store.Eq(store.FieldDisplayName, "x")}, "resources_display_name"},
		{"displayName sw", store.TypeUser, store.Query{Where: &store.Cond{Field: store.FieldDisplayName, Op: store.OpSw, Value: "al"}}, "resources_display_name"},
		{"email eq", store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, "a@x")}, "emails_value"},
		{"groups eq", store.TypeUser, store.Query{Where: store.Eq(store.FieldGroup, "g1")}, "members_group"},
		{"members eq", store.TypeGroup, store.Query{Where: store.Eq(store.FieldMember, "u1")}, "members_user"},
		{"ids in a batch", store.TypeUser, store.Query{Where: &store.Cond{Or: []store.Cond{*store.Eq(store.FieldID, "u1"), *store.Eq(store.FieldID, "u2"), *store.Eq(store.FieldID, "u3")}}}, "sqlite_autoindex_resources_1|resources_pkey"},
		{"deep page", store.TypeUser, store.Query{Offset: 50000, Limit: 100}, "resources_created"},
		{"modified gt", store.TypeUser, store.Query{Where: &store.Cond{Field: store.FieldModified, Op: store.OpGt}, Sort: store.FieldModified}, "resources_modified"},
	}
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			ctx := t.Context()
			fixture(t, s)
			if s.fl.name == "postgres" {
				// Enough rows for the planner's statistics to mean something,
				// as autovacuum's ANALYZE gives it in production.
				var batch []store.Record
				for i := range 3000 {
					id := fmt.Sprintf("p%05d", i)
					batch = append(batch, store.Record{Type: store.TypeUser, ID: id, UserName: id, ExternalID: id, DisplayName: id, Emails: []string{id + "@example.com"}})
				}
				for i := range 30 {
					var add []store.Member
					for j := range 40 {
						add = append(add, store.Member{Value: fmt.Sprintf("p%05d", i*40+j)})
					}
					batch = append(batch, store.Record{Type: store.TypeGroup, ID: fmt.Sprintf("pg%02d", i), DisplayName: "x", Members: &store.MemberChange{Add: add}})
				}
				if err := s.CreateResources(ctx, "acme", batch); err != nil {
					t.Fatal(err)
				}
				if _, err := s.w.ExecContext(ctx, "ANALYZE"); err != nil {
					t.Fatal(err)
				}
			}
			conn, err := s.r.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			explain := "EXPLAIN QUERY PLAN "
			if s.fl.name == "postgres" {
				explain = "EXPLAIN "
				if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
				defer conn.ExecContext(ctx, "RESET enable_seqscan")
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					query, args, err := s.selectSQL("acme", c.typ, c.q)
					if err != nil {
						t.Fatal(err)
					}
					rows, err := conn.QueryContext(ctx, explain+s.q(query), args...)
					if err != nil {
						t.Fatal(err)
					}
					defer rows.Close()
					cols, _ := rows.Columns()
					var plan []string
					for rows.Next() {
						vals := make([]any, len(cols))
						ptrs := make([]any, len(cols))
						for i := range vals {
							ptrs[i] = &vals[i]
						}
						if err := rows.Scan(ptrs...); err != nil {
							t.Fatal(err)
						}
						if s, ok := vals[len(vals)-1].(string); ok {
							plan = append(plan, s)
						} else if b, ok := vals[len(vals)-1].([]byte); ok {
							plan = append(plan, string(b))
						}
					}
					text := strings.Join(plan, "\n")
					if !regexp.MustCompile(c.index).MatchString(text) {
						t.Errorf("plan does not use %s:\n%s", c.index, text)
					}
					if c.name == "deep page" && s.fl.name == "sqlite" && (!strings.Contains(text, "COVERING INDEX resources_created") || strings.Contains(text, "TEMP B-TREE FOR ORDER BY (")) {
						t.Errorf("deep page is not an ordered covering-index scan:\n%s", text)
					}
				})
			}
		})
	}
}
