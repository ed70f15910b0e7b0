package server

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// The differential test of pushdown and pushSort: resources in a real
// SQLite store, filters evaluated by the store (through pushdown) and by
// filter.Eval, sorts by the store (through pushSort) and in memory.

const diffTenant = "diff"

// diffData is the generated directory: records as stored and resources
// as the server renders them (with members and groups).
type diffData struct {
	store  *sqlstore.Store
	users  []scim.Resource
	groups []scim.Resource
	// pieces are strings filters compare with: values in the data, in
	// other cases, and parts of them.
	pieces []string
	times  []time.Time
}

var diffNames = []string{
	"alice", "Alice", "ALICE.SMITH", "bob", "Bob_Jones", "zoë", "ZOË", "Ångström", "åsa", "straße", "ǅemal",
	"a%b", "a_b", `a\b`, "100%", "_lead", "%", "_", `\`, "a%", "a_", "abc", "abd", "ab", "Ab", "x y", "日本",
	"😀smile", "İstanbul", "ı", "K", "k", "Ω", "ω",
}

// diffPick returns a random element of s.
func diffPick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// diffMixCase changes the case of some letters of s.
func diffMixCase(r *rand.Rand, s string) string {
	var b strings.Builder
	for _, c := range s {
		switch r.IntN(3) {
		case 0:
			b.WriteString(strings.ToUpper(string(c)))
		case 1:
			b.WriteString(strings.ToLower(string(c)))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// diffRoundTrip returns v as JSON decodes it.
func diffRoundTrip(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

// newDiffData stores nUsers users and nGroups groups, generated from seed.
func newDiffData(t *testing.T, seed uint64, nUsers, nGroups int) *diffData {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateTenant(ctx, store.Tenant{Name: diffTenant}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	d := &diffData{store: st}
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	stamp := func() time.Time {
		if len(d.times) > 0 && r.IntN(6) == 0 {
			return diffPick(r, d.times) // a tie
		}
		t := base.Add(time.Duration(r.Int64N(int64(90*24*time.Hour))) / time.Millisecond * time.Millisecond)
		d.times = append(d.times, t)
		return t
	}
	// id makes ids of which some differ only in case.
	var ids []string
	id := func(prefix string) string {
		if len(ids) > 0 && r.IntN(8) == 0 {
			v := diffPick(r, ids)
			flipped := strings.ToUpper(v)
			if flipped == v {
				flipped = strings.ToLower(v)
			}
			if !slices.Contains(ids, flipped) {
				ids = append(ids, flipped)
				return flipped
			}
		}
		v := fmt.Sprintf("%s%x%s", prefix, r.Uint32(), diffPick(r, []string{"a", "B", "c_", "%"}))
		ids = append(ids, v)
		return v
	}
	folded := map[string]bool{}
	var recs []store.Record
	for i := range nUsers {
		name := diffMixCase(r, diffPick(r, diffNames))
		if r.IntN(3) > 0 {
			name += diffPick(r, []string{"", ".", "@", "%", "_"}) + diffMixCase(r, diffPick(r, diffNames))
		}
		for folded[store.Fold(name)] {
			name += fmt.Sprint(i)
		}
		folded[store.Fold(name)] = true
		u := map[string]any{"schemas": []string{scim.SchemaUser}, "id": id("u"), "userName": name}
		var rec store.Record
		rec.Type, rec.ID, rec.UserName = store.TypeUser, u["id"].(string), name
		switch r.IntN(5) {
		case 0: // absent
		case 1:
			u["externalId"] = ""
		default:
			rec.ExternalID = diffMixCase(r, diffPick(r, diffNames))
			u["externalId"] = rec.ExternalID
		}
		switch r.IntN(5) {
		case 0:
		case 1:
			u["displayName"] = ""
		default:
			rec.DisplayName = diffMixCase(r, diffPick(r, diffNames)) + " " + diffMixCase(r, diffPick(r, diffNames))
			u["displayName"] = rec.DisplayName
		}
		var emails []any
		for range r.IntN(4) {
			e := map[string]any{}
			if r.IntN(2) == 0 {
				e["type"] = diffPick(r, []string{"work", "home", "other"})
			}
			switch r.IntN(8) {
			case 0: // only a type (or nothing)
			case 1:
				e["value"] = ""
				rec.Emails = append(rec.Emails, "")
			default:
				v := diffMixCase(r, diffPick(r, diffNames)) + "@" + diffMixCase(r, diffPick(r, []string{"example.com", "Ex_ample.org", "x%y.net"}))
				e["value"] = v
				rec.Emails = append(rec.Emails, v)
			}
			if r.IntN(4) == 0 {
				e["primary"] = true
			}
			if len(e) == 0 {
				e["display"] = "nothing"
			}
			emails = append(emails, e)
		}
		if len(emails) > 0 {
			// at most one primary
			seen := false
			for _, e := range emails {
				m := e.(map[string]any)
				if m["primary"] == true {
					if seen {
						delete(m, "primary")
					}
					seen = true
				}
			}
			u["emails"] = emails
		}
		if r.IntN(2) == 0 {
			u["title"] = diffPick(r, diffNames)
		}
		u["active"] = r.IntN(2) == 0
		rec.Created = stamp()
		rec.Modified = rec.Created
		if r.IntN(2) == 0 {
			rec.Modified = stamp()
		}
		data, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = data
		recs = append(recs, rec)
		d.pieces = append(d.pieces, name, rec.ExternalID, rec.DisplayName, rec.ID)
		d.pieces = append(d.pieces, rec.Emails...)
	}
	if err := st.CreateResources(ctx, diffTenant, recs); err != nil {
		t.Fatalf("create users: %v", err)
	}
	userIDs := make([]string, len(recs))
	for i, rec := range recs {
		userIDs[i] = rec.ID
	}
	groupsOf := map[string][]any{}
	members := map[string][]any{}
	for range nGroups {
		g := map[string]any{"schemas": []string{scim.SchemaGroup}, "id": id("g")}
		rec := store.Record{Type: store.TypeGroup, ID: g["id"].(string), Created: stamp(), Members: &store.MemberChange{}}
		rec.Modified = rec.Created
		rec.DisplayName = diffMixCase(r, diffPick(r, diffNames))
		if r.IntN(3) == 0 {
			rec.DisplayName += " " + diffMixCase(r, diffPick(r, diffNames))
		}
		g["displayName"] = rec.DisplayName
		if r.IntN(2) == 0 {
			rec.ExternalID = diffMixCase(r, diffPick(r, diffNames))
			g["externalId"] = rec.ExternalID
		}
		var ms []any
		for _, i := range r.Perm(len(userIDs))[:r.IntN(min(30, len(userIDs)))] {
			m := store.Member{Value: userIDs[i]}
			if r.IntN(2) == 0 {
				m.Display = diffPick(r, diffNames)
			}
			rec.Members.Add = append(rec.Members.Add, m)
			elem := map[string]any{"value": m.Value}
			if m.Display != "" {
				elem["display"] = m.Display
			}
			ms = append(ms, elem)
			groupsOf[m.Value] = append(groupsOf[m.Value], map[string]any{"value": rec.ID, "display": rec.DisplayName, "type": "direct"})
		}
		members[rec.ID] = ms
		data, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = data
		if _, err := st.CreateResource(ctx, diffTenant, rec); err != nil {
			t.Fatalf("create group: %v", err)
		}
		d.pieces = append(d.pieces, rec.DisplayName, rec.ExternalID, rec.ID)
	}
	// Render what the store holds, in its default order.
	render := func(typ string, extra func(res scim.Resource)) []scim.Resource {
		got, err := st.ListResources(ctx, diffTenant, typ, store.Query{})
		if err != nil {
			t.Fatalf("list %s: %v", typ, err)
		}
		var out []scim.Resource
		for _, rec := range got {
			var res scim.Resource
			if err := json.Unmarshal(rec.Data, &res); err != nil {
				t.Fatal(err)
			}
			res["meta"] = map[string]any{
				"resourceType": typ,
				"created":      rec.Created.UTC().Format(timeFormat),
				"lastModified": rec.Modified.UTC().Format(timeFormat),
				"version":      fmt.Sprintf("W/%q", fmt.Sprint(rec.Version)),
			}
			extra(res)
			out = append(out, diffRoundTrip(res))
		}
		return out
	}
	d.users = render(store.TypeUser, func(res scim.Resource) {
		if gs := groupsOf[res["id"].(string)]; len(gs) > 0 {
			res["groups"] = gs
		}
	})
	d.groups = render(store.TypeGroup, func(res scim.Resource) {
		if ms := members[res["id"].(string)]; len(ms) > 0 {
			res["members"] = ms
		}
	})
	if len(d.users) != nUsers || len(d.groups) != nGroups {
		t.Fatalf("stored %d users and %d groups, want %d and %d", len(d.users), len(d.groups), nUsers, nGroups)
	}
	return d
}

// literal returns a comparison value for a string attribute: from the
// data, in another case, a part of it, a LIKE metacharacter, or "".
func (d *diffData) literal(r *rand.Rand) string {
	s := diffPick(r, d.pieces)
	rs := []rune(s)
	switch r.IntN(10) {
	case 0:
		return diffMixCase(r, s)
	case 1, 2:
		if len(rs) > 1 {
			i := r.IntN(len(rs))
			j := i + 1 + r.IntN(len(rs)-i)
			return string(rs[i:j])
		}
	case 3:
		return diffPick(r, []string{"%", "_", `\`, "a%", "%b", "a_b", `a\b`, "@", ".", "", "x", "z", "ZZZ", "日本"})
	case 4:
		if len(rs) > 2 {
			return diffMixCase(r, string(rs[:1+r.IntN(len(rs)-1)]))
		}
	}
	return s
}

// timeLiteral returns a dateTime value near a stored time, at various
// precisions and offsets.
func (d *diffData) timeLiteral(r *rand.Rand) string {
	t := diffPick(r, d.times)
	switch r.IntN(6) {
	case 0:
	case 1:
		t = t.Add(time.Duration(r.IntN(3)-1) * time.Millisecond)
	case 2:
		t = t.Add(time.Duration(r.IntN(2001) - 1000)) // sub-µs
	case 3:
		t = t.Add(time.Duration(r.IntN(2001)-1000) * time.Microsecond)
	case 4:
		t = t.Add(time.Duration(r.Int64N(int64(48*time.Hour))) - 24*time.Hour)
	}
	loc := diffPick(r, []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -5*3600-1800)})
	layout := diffPick(r, []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000000000Z07:00"})
	s := t.In(loc).Format(layout)
	if r.IntN(4) == 0 {
		s = strings.ToLower(s)
	}
	return s
}

var (
	diffStringOps = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
	diffTimeOps   = []string{"eq", "ne", "gt", "ge", "lt", "le", "sw", "co"}
)

// diffQuote returns s as a filter string literal.
func diffQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// leaf returns a random comparison, presence test or value path valid for
// the type.
func (d *diffData) leaf(r *rand.Rand, user bool) string {
	strs := []string{"id", "externalId", "displayName", "ID", "urn:ietf:params:scim:schemas:core:2.0:User:externalId"}
	ids := []string{"members.value", "members", "Members.Value"}
	if user {
		strs = []string{"userName", "UserName", "id", "externalId", "displayName", "emails.value", "emails", "EMAILS.VALUE",
			"urn:ietf:params:scim:schemas:core:2.0:User:userName", "title", "emails.type", "name.givenName"}
		ids = []string{"groups.value", "groups", "groups.display"}
	} else {
		strs[4] = "urn:ietf:params:scim:schemas:core:2.0:Group:displayName"
		strs = append(strs, "members.display")
	}
	times := []string{"meta.created", "meta.lastModified", "META.CREATED"}
	switch r.IntN(14) {
	case 0:
		return diffPick(r, append(append(strs, ids...), times...)) + " pr"
	case 1:
		return diffPick(r, append(append(strs, ids...), times...)) + diffPick(r, []string{" eq null", " ne null"})
	case 2, 3:
		t := d.timeLiteral(r)
		return diffPick(r, times) + " " + diffPick(r, diffTimeOps) + " " + diffQuote(t)
	case 4:
		var id string
		if user {
			id = diffPick(r, d.groups)["id"].(string)
		} else {
			id = diffPick(r, d.users)["id"].(string)
		}
		if r.IntN(4) == 0 {
			id = diffMixCase(r, id)
		}
		if r.IntN(3) == 0 {
			a := "members"
			if user {
				a = "groups"
			}
			return a + "[value eq " + diffQuote(id) + "]"
		}
		return diffPick(r, ids) + " " + diffPick(r, []string{"eq", "eq", "ne", "sw"}) + " " + diffQuote(id)
	case 5:
		if user {
			inner := []string{
				"value " + diffPick(r, diffStringOps) + " " + diffQuote(d.literal(r)),
				"value pr", "value eq null", "type eq \"work\"", "primary eq true",
				"not (value " + diffPick(r, diffStringOps) + " " + diffQuote(d.literal(r)) + ")",
			}
			a := diffPick(r, inner)
			if r.IntN(2) == 0 {
				a += diffPick(r, []string{" and ", " or "}) + diffPick(r, inner)
			}
			return "emails[" + a + "]"
		}
	case 6:
		if user {
			return "active eq " + diffPick(r, []string{"true", "false"})
		}
	}
	return diffPick(r, strs) + " " + diffPick(r, diffStringOps) + " " + diffQuote(d.literal(r))
}

// expr returns a random filter of up to depth levels of and, or and not.
func (d *diffData) expr(r *rand.Rand, user bool, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return d.leaf(r, user)
	}
	switch r.IntN(5) {
	case 0:
		return "not (" + d.expr(r, user, depth-1) + ")"
	case 1, 2:
		return "(" + d.expr(r, user, depth-1) + ") and (" + d.expr(r, user, depth-1) + ")"
	}
	return "(" + d.expr(r, user, depth-1) + ") or (" + d.expr(r, user, depth-1) + ")"
}

// diffFixedFilters cover every field and operator, with the edge values.
func diffFixedFilters(user bool) []string {
	var out []string
	fields := []string{"id", "externalId", "displayName"}
	vals := []string{"", "a", "A", "alice", "%", "_", `\`, "a%", "a_b", `a\b`, "zoë", "ZOË", "日本", "ab", "Ab", "k", "K", "ω", "i"}
	if user {
		fields = append(fields, "userName", "emails.value", "emails")
	}
	for _, f := range fields {
		for _, op := range diffStringOps {
			for _, v := range vals {
				out = append(out, f+" "+op+" "+diffQuote(v))
			}
		}
		out = append(out, f+" pr", f+" eq null", f+" ne null", "not ("+f+" pr)")
	}
	for _, f := range []string{"meta.created", "meta.lastModified"} {
		for _, op := range []string{"eq", "ne", "gt", "ge", "lt", "le"} {
			for _, v := range []string{"2024-03-15T00:00:00Z", "2024-03-15T00:00:00.0000001Z", "2024-03-15t02:00:00+02:00", "1999-01-01T00:00:00Z", "2100-01-01T00:00:00.999999999Z"} {
				out = append(out, f+" "+op+" "+diffQuote(v))
			}
		}
		out = append(out, f+" pr", f+" eq null")
	}
	if user {
		out = append(out, "emails pr", "emails[value pr]", "emails[type eq \"work\"]", "emails[value eq null]",
			"groups pr", "groups.value pr", "groups eq null", "not (groups pr)", "emails[type eq \"work\" and value co \"@\"]",
			"emails[type eq \"work\"].value co \"example\"", "emails.value ne null", "emails eq null")
	} else {
		out = append(out, "members pr", "members.value pr", "members eq null", "not (members pr)", "members.value ne null")
	}
	return out
}

// dataFilters are filters built from the stored data: dateTime literals
// a nanosecond to a microsecond around stored instants, and pairs of one
// user's emails, which one element must satisfy together.
func (d *diffData) dataFilters(user bool) []string {
	var out []string
	for i, t := range d.times[:8] {
		f := []string{"meta.created", "meta.lastModified"}[i%2]
		for _, delta := range []time.Duration{-1000, -999, -1, 0, 1, 999, 1000, 1001} {
			lit := t.Add(delta).Format(time.RFC3339Nano)
			for _, op := range []string{"eq", "ne", "gt", "ge", "lt", "le"} {
				out = append(out, f+" "+op+" "+diffQuote(lit))
			}
		}
	}
	if !user {
		return out
	}
	for _, u := range d.users {
		es, _ := u["emails"].([]any)
		var vals []string
		for _, e := range es {
			if v, _ := e.(map[string]any)["value"].(string); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) < 2 || vals[0] == vals[1] || len(out) > 200 {
			continue
		}
		a, b := diffQuote(vals[0]), diffQuote(vals[1])
		out = append(out, "emails[value eq "+a+" and value eq "+b+"]", "emails[value eq "+a+" or value eq "+b+"]",
			"emails.value eq "+a+" and emails.value eq "+b, "emails[value eq "+a+" and not (value eq "+b+")]")
	}
	return out
}

// diffIDs returns the ids of resources.
func diffIDs(rs []scim.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i], _ = r["id"].(string)
	}
	return out
}

func TestPushdownDifferential(t *testing.T) {
	d := newDiffData(t, 4, 300, 40)
	for _, tc := range []struct {
		typ  string
		rt   *schema.ResourceType
		data []scim.Resource
	}{
		{store.TypeUser, schema.UserType(), d.users},
		{store.TypeGroup, schema.GroupType(), d.groups},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			user := tc.typ == store.TypeUser
			filters := append(diffFixedFilters(user), d.dataFilters(user)...)
			r := rand.New(rand.NewPCG(7, uint64(len(tc.typ))))
			for range 300 {
				filters = append(filters, d.expr(r, user, 3))
			}
			exactN, pushedN := 0, 0
			for _, f := range filters {
				e, err := filter.Parse(f)
				if err != nil {
					t.Fatalf("Parse(%q): %v", f, err)
				}
				if err := filter.Validate(e, tc.rt); err != nil {
					t.Fatalf("Validate(%q): %v", f, err)
				}
				want := map[string]bool{}
				for _, res := range tc.data {
					ok, err := filter.Eval(e, res, tc.rt)
					if err != nil {
						t.Fatalf("Eval(%q): %v", f, err)
					}
					if ok {
						want[res["id"].(string)] = true
					}
				}
				cond, exact := pushdown(e, tc.rt)
				if exact {
					exactN++
				}
				if cond != nil {
					pushedN++
				}
				recs, err := d.store.ListResources(t.Context(), diffTenant, tc.typ, store.Query{Where: cond})
				if err != nil {
					t.Errorf("filter %s: ListResources(%s): %v", f, diffCondString(cond), err)
					continue
				}
				got := map[string]bool{}
				for _, rec := range recs {
					got[rec.ID] = true
				}
				var missing, extra []string
				for id := range want {
					if !got[id] {
						missing = append(missing, id)
					}
				}
				for id := range got {
					if !want[id] {
						extra = append(extra, id)
					}
				}
				slices.Sort(missing)
				slices.Sort(extra)
				if len(missing) > 0 || (exact && len(extra) > 0) {
					t.Errorf("filter %s\n  cond %s (exact %v)\n  Eval accepts %d, store selects %d\n  missing from the store: %q\n  selected but rejected by Eval: %q",
						f, diffCondString(cond), exact, len(want), len(got), missing, extra)
				}
			}
			t.Logf("%d filters: %d pushed, %d exact", len(filters), pushedN, exactN)
		})
	}
}

// diffCondString renders a condition for failure messages.
func diffCondString(c *store.Cond) string {
	if c == nil {
		return "all"
	}
	switch {
	case c.Not != nil:
		return "not(" + diffCondString(c.Not) + ")"
	case c.And != nil || c.Or != nil:
		op, parts := " and ", c.And
		if c.Or != nil {
			op, parts = " or ", c.Or
		}
		s := make([]string, len(parts))
		for i := range parts {
			s[i] = diffCondString(&parts[i])
		}
		return "(" + strings.Join(s, op) + ")"
	case c.Field == store.FieldCreated || c.Field == store.FieldModified:
		return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Time.Format(time.RFC3339Nano))
	}
	return fmt.Sprintf("%s %s %q", c.Field, c.Op, c.Value)
}

func TestPushSortDifferential(t *testing.T) {
	d := newDiffData(t, 9, 200, 60)
	ctx := t.Context()
	for _, tc := range []struct {
		typ  string
		rt   *schema.ResourceType
		data []scim.Resource
	}{
		{store.TypeUser, schema.UserType(), d.users},
		{store.TypeGroup, schema.GroupType(), d.groups},
	} {
		for _, sortBy := range []string{"userName", "externalId", "displayName", "id", "meta.created", "meta.lastModified"} {
			if sortBy == "userName" && tc.typ == store.TypeGroup {
				continue
			}
			for _, desc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s %s desc=%v", tc.typ, sortBy, desc), func(t *testing.T) {
					so, err := resolveSort(sortBy, tc.rt)
					if err != nil {
						t.Fatal(err)
					}
					f, ok := pushSort(so)
					if !ok {
						t.Fatalf("pushSort(%q) not ok", sortBy)
					}
					items := make([]item, len(tc.data))
					for i, res := range tc.data {
						items[i] = item{res: res, key: so.key(res)}
					}
					sortItems(items, true, desc)
					want := make([]string, len(items))
					for i, it := range items {
						want[i] = it.res["id"].(string)
					}
					recs, err := d.store.ListResources(ctx, diffTenant, tc.typ, store.Query{Sort: f, Desc: desc})
					if err != nil {
						t.Fatal(err)
					}
					got := make([]string, len(recs))
					for i, rec := range recs {
						got[i] = rec.ID
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("order by %s desc=%v: in memory (-) vs store (+):\n%s", f, desc, diff)
					}
					// A page of the sorted list is the same page of the
					// in-memory sort.
					page, err := d.store.ListResources(ctx, diffTenant, tc.typ, store.Query{Sort: f, Desc: desc, Offset: 17, Limit: 23})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want[17:40], diffIDs(diffRecords(page))); diff != "" {
						t.Errorf("page of order by %s desc=%v: (-want +got):\n%s", f, desc, diff)
					}
				})
			}
		}
	}
}

// diffRecords returns resources holding only the records' ids.
func diffRecords(recs []store.Record) []scim.Resource {
	out := make([]scim.Resource, len(recs))
	for i, rec := range recs {
		out[i] = scim.Resource{"id": rec.ID}
	}
	return out
}
