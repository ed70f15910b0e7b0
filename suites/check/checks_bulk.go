package check

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// bulkChecks returns the checks labelled "bulk": POST /Bulk (RFC 7644
// §3.7) as /ServiceProviderConfig describes it (RFC 7643 §5). Every check
// reads the configuration first; all but bulk-config apply only to a
// server that says bulk is supported, and are skipped otherwise.
func bulkChecks() []Check {
	l := []string{"bulk", "rfc7644"}
	w := []string{"bulk", "rfc7644", "writes"}
	return []Check{
		{ID: "bulk-config", Title: "bulk in /ServiceProviderConfig: when supported, maxOperations and maxPayloadSize are positive; when not, POST /Bulk is 501 Not Implemented (or 404, no such endpoint) with a SCIM Error and creates nothing", Ref: "RFC 7643 §5; RFC 7644 §3.7, §3.12", Labels: w, Run: bulkConfig},
		{ID: "bulk-create-bulkid", Title: `one POST /Bulk creating a user and a group whose members name it as "bulkId:…" answers 200 with status "201" and a location for each, and the group has the user`, Ref: "RFC 7644 §3.7.1–§3.7.3", Labels: w, Run: bulkCreateBulkID},
		{ID: "bulk-forward-reference", Title: "a bulkId reference to an operation that comes later in the request is resolved", Ref: "RFC 7644 §3.7.1, §3.7.2", Labels: w, Run: bulkForwardReference},
		{ID: "bulk-fail-on-errors", Title: "with failOnErrors 1 the server stops at the first failing operation: it is reported, and the operations after it are not performed", Ref: "RFC 7644 §3.7, §3.7.3", Labels: w, Run: bulkFailOnErrors},
		{ID: "bulk-version-412", Title: `an operation whose version is stale fails with status "412" and leaves the resource alone; one with the current version succeeds`, Ref: "RFC 7644 §3.7, §3.14", Labels: w, Run: bulkVersion},
		{ID: "bulk-max-operations", Title: "a request with more operations than maxOperations is 413 with a SCIM Error (built from DELETEs of ids that do not exist)", Ref: "RFC 7644 §3.7.4", Labels: l, Run: bulkMaxOperations},
		{ID: "bulk-max-payload", Title: "a request larger than maxPayloadSize is 413 with a SCIM Error (one PATCH of an id that does not exist)", Ref: "RFC 7644 §3.7.4", Labels: l, Run: bulkMaxPayload},
	}
}

// bulkConfigOf is the bulk part of /ServiceProviderConfig.
type bulkConfigOf struct {
	supported      bool
	maxOperations  int
	maxPayloadSize int
	etag           bool
	x              *Exchange
}

func (t *Target) bulkConfig(ctx context.Context, p *probe) (bulkConfigOf, error) {
	x, err := t.spConfig(ctx, p)
	if err != nil {
		return bulkConfigOf{}, err
	}
	c := bulkConfigOf{x: x}
	// A feature the configuration does not declare either way counts as
	// supported, so that its checks run (and fail) rather than skip.
	b, ok := get(x.JSON, "bulk.supported").(bool)
	c.supported = b || !ok
	b, ok = get(x.JSON, "etag.supported").(bool)
	c.etag = b || !ok
	c.maxOperations = intOf(get(x.JSON, "bulk.maxOperations"))
	c.maxPayloadSize = intOf(get(x.JSON, "bulk.maxPayloadSize"))
	return c, nil
}

// bulkOp is one operation of a BulkResponse.
type bulkOp struct {
	Method, BulkID, Location, Status string
	Response                         any
}

// bulk sends a BulkRequest and returns the exchange and the response's
// operations; every resource the response says was created is remembered
// for clean-up.
func (t *Target) bulk(ctx context.Context, p *probe, failOnErrors int, ops ...map[string]any) (*Exchange, []bulkOp, error) {
	body := map[string]any{"schemas": []string{schemaBulkRequest}, "Operations": ops}
	if failOnErrors > 0 {
		body["failOnErrors"] = failOnErrors
	}
	x, err := t.send(ctx, "POST", "/Bulk", body)
	if err != nil {
		return nil, nil, err
	}
	list, _ := get(x.JSON, "Operations").([]any)
	var out []bulkOp
	for _, o := range list {
		op := bulkOp{Method: str(get(o, "method")), BulkID: str(get(o, "bulkId")), Location: str(get(o, "location")), Response: get(o, "response")}
		switch s := get(o, "status").(type) {
		case string:
			op.Status = s
		case json.Number:
			op.Status = s.String()
			p.failf(x, "operation %s has status %s as a number, want the string %q (RFC 7644 §3.7.3)", op.BulkID, s, s.String())
		}
		if strings.HasPrefix(op.Status, "201") && op.Location != "" {
			t.remember(t.relPath(op.Location))
		}
		out = append(out, op)
	}
	return x, out, nil
}

// bulkResponse checks the BulkResponse shape and returns the operation
// with the given bulkId.
func (p *probe) bulkResponse(x *Exchange, ops []bulkOp) map[string]bulkOp {
	if !p.status(x, 200) {
		return nil
	}
	p.scimJSON(x)
	if !hasSchema(x.JSON, schemaBulkResponse) {
		p.failf(x, "schemas does not contain the BulkResponse URN (RFC 7644 §3.7)")
	}
	by := map[string]bulkOp{}
	for _, o := range ops {
		by[o.BulkID] = o
	}
	return by
}

// created checks that the operation with bulkId id answered 201 with a
// location, and returns the resource's path.
func (p *probe) created(x *Exchange, by map[string]bulkOp, id, endpoint string, t *Target) string {
	o, ok := by[id]
	if !ok {
		p.failf(x, "the response has no operation with bulkId %q", id)
		return ""
	}
	if o.Status != "201" {
		p.failf(x, "operation %s has status %q, want \"201\"", id, o.Status)
		return ""
	}
	path := t.relPath(o.Location)
	if !strings.HasPrefix(path, endpoint+"/") {
		p.failf(x, "operation %s has location %q, want the URL of the new resource under %s", id, o.Location, endpoint)
		return ""
	}
	return path
}

func bulkConfig(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	c, err := t.bulkConfig(ctx, p)
	if err != nil {
		return err
	}
	if _, ok := get(c.x.JSON, "bulk.supported").(bool); !ok {
		p.failf(c.x, "bulk.supported is %s, want a JSON boolean (RFC 7643 §5)", show(get(c.x.JSON, "bulk.supported")))
	}
	if c.supported {
		if c.maxOperations <= 0 || c.maxPayloadSize <= 0 {
			p.failf(c.x, "bulk is supported but maxOperations is %s and maxPayloadSize %s, want positive integers (RFC 7643 §5)",
				show(get(c.x.JSON, "bulk.maxOperations")), show(get(c.x.JSON, "bulk.maxPayloadSize")))
		}
		return p.err()
	}
	userName := t.userName("nobulk")
	x, _, err := t.bulk(ctx, p, 0, map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": oktaUser(userName, "Alice", "Example")})
	if err != nil {
		return err
	}
	switch x.Status {
	case 501, 404:
		p.errorResponse(x, "")
	default:
		p.failf(x, "bulk.supported is false, so POST /Bulk must be 501 Not Implemented (or 404), got %d", x.Status)
	}
	for _, id := range t.findUsers(ctx, userName) {
		t.remember("/Users/" + id)
		p.failf(x, "a refused POST /Bulk created the user %s (%s)", id, userName)
	}
	return p.err()
}

// bulkSupported reads the configuration and reports whether the bulk
// checks apply; when they do not, the error is a Skip.
func (t *Target) bulkSupported(ctx context.Context, p *probe) (bulkConfigOf, bool, error) {
	c, err := t.bulkConfig(ctx, p)
	if err != nil {
		return c, false, err
	}
	if !c.supported {
		return c, false, Skip("/ServiceProviderConfig says bulk.supported is false (bulk-config checks the 501)")
	}
	return c, true, nil
}

func bulkCreateBulkID(ctx context.Context, t *Target) error {
	return bulkCreate(ctx, t, false)
}

func bulkForwardReference(ctx context.Context, t *Target) error {
	return bulkCreate(ctx, t, true)
}

func bulkCreate(ctx context.Context, t *Target, groupFirst bool) error {
	p := newProbe(ctx)
	if _, ok, err := t.bulkSupported(ctx, p); err != nil || !ok {
		return firstErr(err, p)
	}
	userName := t.userName("bulk")
	name := "Bulk Team " + unique()
	user := map[string]any{"method": "POST", "path": "/Users", "bulkId": "user1", "data": oktaUser(userName, "Alice", "Example")}
	group := map[string]any{"method": "POST", "path": "/Groups", "bulkId": "group1", "data": map[string]any{
		"schemas": []string{schemaGroup}, "displayName": name,
		"members": []any{map[string]any{"type": "User", "value": "bulkId:user1"}},
	}}
	ops := []map[string]any{user, group}
	if groupFirst {
		ops = []map[string]any{group, user}
	}
	x, list, err := t.bulk(ctx, p, 0, ops...)
	if err != nil {
		return err
	}
	by := p.bulkResponse(x, list)
	if by == nil {
		t.rememberByName(ctx, userName, name)
		return p.err()
	}
	upath := p.created(x, by, "user1", "/Users", t)
	gpath := p.created(x, by, "group1", "/Groups", t)
	if upath == "" || gpath == "" {
		t.rememberByName(ctx, userName, name)
		return p.err()
	}
	uid := upath[len("/Users/"):]
	g, ok, err := t.fetch(ctx, p, gpath)
	if err != nil {
		return err
	}
	if ok {
		p.equal(g, "displayName", name)
		if got := memberValues(g.JSON); len(got) != 1 || got[0] != uid {
			p.failf(g, "members are %v, want the user %s that bulkId:user1 named", got, uid)
		}
	}
	u, ok, err := t.fetch(ctx, p, upath)
	if err != nil {
		return err
	}
	if ok {
		p.equal(u, "userName", userName)
	}
	return p.err()
}

// rememberByName finds users and groups a bulk request may have created
// when its response did not say so, so that clean-up deletes them.
func (t *Target) rememberByName(ctx context.Context, userName, groupName string) {
	for _, id := range t.findUsers(ctx, userName) {
		t.remember("/Users/" + id)
	}
	for _, id := range t.findGroups(ctx, groupName) {
		t.remember("/Groups/" + id)
	}
}

func bulkFailOnErrors(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	if _, ok, err := t.bulkSupported(ctx, p); err != nil || !ok {
		return firstErr(err, p)
	}
	bad := oktaUser("", "Alice", "Example")
	delete(bad, "userName") // userName is required (RFC 7643 §4.1.1)
	later := t.userName("bulkstop")
	x, list, err := t.bulk(ctx, p, 1,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "bad", "data": bad},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "later", "data": oktaUser(later, "Alice", "Example")},
	)
	if err != nil {
		return err
	}
	by := p.bulkResponse(x, list)
	if by != nil {
		o, ok := by["bad"]
		if !ok || !strings.HasPrefix(o.Status, "4") {
			p.failf(x, "the operation without userName is reported with status %q, want a 4xx status", o.Status)
		} else if get(o.Response, "detail") == nil && get(o.Response, "scimType") == nil {
			p.failf(x, "the failed operation's response must hold the SCIM error (RFC 7644 §3.7.3)")
		}
		if o, ok := by["later"]; ok {
			p.failf(x, "the operation after the failure was performed (status %q) although failOnErrors is 1", o.Status)
		}
	}
	for _, id := range t.findUsers(ctx, later) {
		t.remember("/Users/" + id)
		p.failf(x, "the operation after the failure created the user %s although failOnErrors is 1", id)
	}
	return p.err()
}

func bulkVersion(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	c, ok, err := t.bulkSupported(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if !c.etag {
		return Skip("/ServiceProviderConfig says etag.supported is false; bulk versions need ETags (RFC 7644 §3.7)")
	}
	id, _, err := t.createUser(ctx, p, "bulkver")
	if err != nil {
		return err
	}
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	current := g.Header.Get("ETag")
	if current == "" {
		current = str(get(g.JSON, "meta.version"))
	}
	if current == "" {
		p.failf(g, "etag is supported but the user has neither an ETag header nor meta.version (RFC 7644 §3.14)")
		return p.err()
	}
	patchOp := func(name string) map[string]any {
		return map[string]any{"schemas": []string{schemaPatchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": name}}}
	}
	x, list, err := t.bulk(ctx, p, 0,
		map[string]any{"method": "PATCH", "path": "/Users/" + id, "bulkId": "stale", "version": `W/"stale-` + unique() + `"`, "data": patchOp("Stale Write")},
	)
	if err != nil {
		return err
	}
	if by := p.bulkResponse(x, list); by != nil {
		if o := by["stale"]; o.Status != "412" {
			p.failf(x, "the operation with a stale version has status %q, want \"412\"", o.Status)
		}
	}
	if err := t.unchanged(ctx, p, "/Users/"+id, g, "a bulk operation with a stale version", "displayName", "meta.version"); err != nil {
		return err
	}
	x, list, err = t.bulk(ctx, p, 0,
		map[string]any{"method": "PATCH", "path": "/Users/" + id, "bulkId": "fresh", "version": current, "data": patchOp("Fresh Write")},
	)
	if err != nil {
		return err
	}
	if by := p.bulkResponse(x, list); by != nil {
		if o := by["fresh"]; o.Status != "200" && o.Status != "204" {
			p.failf(x, "the operation with the current version %s has status %q, want \"200\" or \"204\"", current, o.Status)
		}
	}
	return p.err()
}

// missingID is an id no server has: the 413 checks must not touch data
// when a server ignores its limits.
func missingID() string { return "00000000-0000-4000-8000-" + unique() + "ff" }

func bulkMaxOperations(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	c, ok, err := t.bulkSupported(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if c.maxOperations <= 0 {
		return Skip("bulk.maxOperations is not advertised (bulk-config reports it)")
	}
	if c.maxOperations > 10000 {
		return Skip(fmt.Sprintf("bulk.maxOperations is %d; the check builds at most 10001 operations", c.maxOperations))
	}
	ops := make([]map[string]any, c.maxOperations+1)
	for i := range ops {
		ops[i] = map[string]any{"method": "DELETE", "path": "/Users/" + missingID(), "bulkId": "d" + strconv.Itoa(i)}
	}
	x, _, err := t.bulk(ctx, p, 0, ops...)
	if err != nil {
		return err
	}
	if x.Status != 413 {
		p.failf(excerptOnly(x), "%d operations with maxOperations %d: status %d, want 413", len(ops), c.maxOperations, x.Status)
		return p.err()
	}
	p.errorResponse(excerptOnly(x), "")
	return p.err()
}

func bulkMaxPayload(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	c, ok, err := t.bulkSupported(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if c.maxPayloadSize <= 0 {
		return Skip("bulk.maxPayloadSize is not advertised (bulk-config reports it)")
	}
	if c.maxPayloadSize > 64<<20 {
		return Skip(fmt.Sprintf("bulk.maxPayloadSize is %d; the check sends at most 64 MiB", c.maxPayloadSize))
	}
	data := map[string]any{"schemas": []string{schemaPatchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "displayName", "value": strings.Repeat("x", c.maxPayloadSize+1)},
	}}
	x, _, err := t.bulk(ctx, p, 0, map[string]any{"method": "PATCH", "path": "/Users/" + missingID(), "bulkId": "big", "data": data})
	if err != nil {
		return err
	}
	if x.Status != 413 {
		p.failf(excerptOnly(x), "a body of %d bytes with maxPayloadSize %d: status %d, want 413", len(x.ReqBody), c.maxPayloadSize, x.Status)
		return p.err()
	}
	p.errorResponse(excerptOnly(x), "")
	return p.err()
}

// excerptOnly returns a copy of x whose request body is cut short, so that
// a failure report does not carry megabytes of padding.
func excerptOnly(x *Exchange) *Exchange {
	c := *x
	if len(c.ReqBody) > 1000 {
		c.ReqBody = []byte(fmt.Sprintf("%s… (%d bytes)", c.ReqBody[:200], len(x.ReqBody)))
	}
	return &c
}
