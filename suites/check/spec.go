package check

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// oktaSpec returns the assertions of Okta's "SCIM 2.0 SPEC Test", the test
// an integration must pass before it is listed in the Okta Integration
// Network, one check per step.
func oktaSpec() []Check {
	l := []string{"okta-spec", "okta"}
	w := []string{"okta-spec", "okta", "writes"}
	return []Check{
		{ID: "okta-spec-01-list-users", Title: "GET /Users?count=1&startIndex=1 returns a ListResponse whose first user has id, name, userName, active and an email", Ref: "Okta SCIM 2.0 SPEC Test, step 1 (the first user's id, name.givenName, name.familyName, userName, active and email); RFC 7644 §3.4.2 (the ListResponse)", Labels: w, Run: specListUsers},
		{ID: "okta-spec-02-get-user", Title: "GET /Users/{id} returns the user the list returned", Ref: "Okta SCIM 2.0 SPEC Test, step 2; RFC 7644 §3.4.1", Labels: w, Run: specGetUser},
		{ID: "okta-spec-03-filter-unknown", Title: "filtering on an unknown userName returns 200 with totalResults 0", Ref: "Okta SCIM 2.0 SPEC Test, steps 3 and 5; RFC 7644 §3.4.2", Labels: l, Run: specFilterUnknown},
		{ID: "okta-spec-04-unknown-id", Title: "GET /Users/{unknown id} returns 404 with the SCIM Error schema, status \"404\" and a detail", Ref: "Okta SCIM 2.0 SPEC Test, steps 4 and 12; RFC 7644 §3.12", Labels: l, Run: specUnknownID},
		{ID: "okta-spec-06-create-user", Title: "POST /Users with application/json returns 201 with the user, active, with an id, and GET returns it", Ref: "Okta SCIM 2.0 SPEC Test, steps 6 and 7; RFC 7644 §3.3", Labels: w, Run: specCreateUser},
		{ID: "okta-spec-08-duplicate", Title: "a second POST with exactly the same userName returns 409 (the case variant is schema-uniqueness-case's)", Ref: "Okta SCIM 2.0 SPEC Test, step 8; RFC 7644 §3.3, §3.12 uniqueness", Labels: w, Run: specDuplicate},
		{ID: "okta-spec-09-filter-case", Title: "filtering on the userName in upper case finds the user (userName is caseExact false)", Ref: "Okta SCIM 2.0 SPEC Test, step 9; RFC 7643 §4.1.1", Labels: w, Run: specFilterCase},
		{ID: "okta-spec-10-groups-fast", Title: "GET /Groups returns 200 in under 600 ms with Resources an array", Ref: "Okta SCIM 2.0 SPEC Test, step 10", Labels: l, Run: specGroupsFast},
		{ID: "okta-spec-11-wrong-token", Title: "a request with a wrong or missing token returns 401 with the Error schema, status \"401\" and a detail (the WWW-Authenticate challenge is media-bearer-challenge's)", Ref: "Okta SCIM 2.0 SPEC Test, step 11; RFC 7644 §2, §3.12", Labels: l, Run: specWrongToken},
	}
}

func specListUsers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	// The SPEC test needs at least one user; make sure there is one.
	if _, _, err := t.createUser(ctx, p, "spec"); err != nil {
		return err
	}
	x, ok, err := t.fetch(ctx, p, "/Users?count=1&startIndex=1")
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	_, rs := p.listResponse(x)
	if len(rs) == 0 {
		p.failf(x, "Resources is empty although a user exists")
		return p.err()
	}
	if len(rs) > 1 {
		p.failf(x, "count=1 returned %d resources", len(rs))
	}
	first := &Exchange{Method: x.Method, Path: x.Path, ReqHeader: x.ReqHeader, Status: x.Status, Header: x.Header, Body: x.Body, JSON: rs[0]}
	// The first user listed need not be the check's own: Okta's SPEC test
	// reads whichever user comes first, so the message says whose it is.
	whose := ""
	if !strings.HasPrefix(str(get(rs[0], "userName")), "spec.") {
		whose = fmt.Sprintf(" (this user, %s, was already on the server: the check did not create it, but Okta's SPEC test reads the first user listed, whoever it is)", show(get(rs[0], "userName")))
	}
	for _, a := range []string{"id", "name.familyName", "name.givenName", "userName", "emails.0.value"} {
		if v := get(rs[0], a); v == nil || v == "" {
			p.failf(first, "the first user listed: %s is missing%s", a, whose)
		}
	}
	if _, ok := get(rs[0], "active").(bool); !ok {
		p.failf(first, "the first user listed: active is %s, want a JSON boolean%s", show(get(rs[0], "active")), whose)
	}
	return p.err()
}

func specGetUser(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "spec")
	if err != nil {
		return err
	}
	x, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	p.scimJSON(x)
	p.equal(x, "id", id)
	p.equal(x, "userName", userName)
	p.equal(x, "name.givenName", "Alice")
	p.equal(x, "name.familyName", "Example")
	p.equal(x, "emails.0.value", userName)
	p.equal(x, "active", true)
	return p.err()
}

func specFilterUnknown(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, ok, err := t.fetch(ctx, p, filterPath("/Users", `userName eq "`+t.userName("nobody")+`"`, "startIndex=1&count=100"))
	if err != nil {
		return err
	}
	if ok {
		total, rs := p.listResponse(x)
		if total != 0 || len(rs) != 0 {
			p.failf(x, "totalResults %d with %d resources, want 0 (an unfiltered list?)", total, len(rs))
		}
	}
	return p.err()
}

func specUnknownID(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for _, id := range []string{"010101010101010101010101", "00000000-0000-4000-8000-" + unique() + "00"} {
		x, err := t.send(ctx, "GET", "/Users/"+id, nil)
		if err != nil {
			return err
		}
		if p.status(x, 404) {
			p.errorResponse(x, "")
		}
	}
	return p.err()
}

func specCreateUser(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("spec")
	body := map[string]any{
		"schemas":     []string{schemaUser},
		"userName":    userName,
		"name":        map[string]any{"givenName": "Bjørn", "familyName": "O'Neil-Łukasz"},
		"emails":      []any{map[string]any{"primary": true, "value": userName, "type": "work"}},
		"displayName": "Bjørn O'Neil-Łukasz",
		"active":      true,
	}
	x, ok, err := t.post(ctx, p, "/Users", body, withContentType("application/json"))
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id, err := p.scimID(x, "the created user has no id")
	if err != nil {
		return err
	}
	check := func(x *Exchange) {
		p.equal(x, "active", true)
		p.equal(x, "userName", userName)
		p.equal(x, "name.givenName", "Bjørn")
		p.equal(x, "name.familyName", "O'Neil-Łukasz")
		if !hasSchema(x.JSON, schemaUser) {
			p.failf(x, "schemas does not contain the core User URN")
		}
	}
	check(x)
	if loc := x.Header.Get("Location"); loc != "" && !strings.HasSuffix(loc, "/Users/"+id) {
		p.failf(x, "Location %q does not name the new user (RFC 7644 §3.3)", loc)
	}
	return t.readBack(ctx, p, "/Users/"+id, check)
}

func specDuplicate(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("dup")
	body := oktaUser(userName, "Alice", "Example")
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	x, err = t.send(ctx, "POST", "/Users", body)
	if err != nil {
		return err
	}
	if x.Status != 409 {
		p.failf(x, "a second POST of userName %q (the user just created): status %d, want 409 uniqueness", userName, x.Status)
	} else {
		p.errorResponse(x, "uniqueness")
	}
	return p.err()
}

func specFilterCase(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "Case")
	if err != nil {
		return err
	}
	for _, u := range []string{strings.ToUpper(userName), strings.ToLower(userName)} {
		x, ok, err := t.fetch(ctx, p, filterPath("/Users", `userName eq "`+u+`"`, "startIndex=1&count=100"))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		total, rs := p.listResponse(x)
		if total != 1 || len(rs) != 1 || str(get(rs[0], "id")) != id {
			p.failf(x, "want exactly the user %s (userName compares case-insensitively, RFC 7643 §4.1.1)", id)
			continue
		}
		if got := str(get(rs[0], "userName")); got != userName {
			p.failf(x, "userName came back as %q, want the stored case %q", got, userName)
		}
	}
	return p.err()
}

func specGroupsFast(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, ok, err := t.fetch(ctx, p, "/Groups")
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	total, rs := p.listResponse(x)
	if total >= 1 && rs == nil {
		p.failf(x, "Resources must be an array when totalResults is %d", total)
	}
	if x.Duration > 600*time.Millisecond {
		p.failf(x, "took %v, Okta allows 600ms", x.Duration.Round(time.Millisecond))
	}
	return p.err()
}

func specWrongToken(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	path := filterPath("/Users", `userName eq "`+t.userName("x")+`"`, "")
	for _, o := range []reqOption{withAuthorization("non-token"), withToken(t.Token + "x"), withToken(unique())} {
		x, err := t.send(ctx, "GET", path, nil, o)
		if err != nil {
			return err
		}
		if p.status(x, 401) {
			p.errorResponse(x, "")
		}
	}
	x, err := t.send(ctx, "GET", path, nil, withToken(""))
	if err != nil {
		return err
	}
	if p.status(x, 401) {
		p.errorResponse(x, "")
	}
	return p.err()
}
