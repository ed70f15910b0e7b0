package check

import (
	"context"
	"net/url"
)

// tenantChecks returns the checks labelled "tenant": one tenant's token and
// data are invisible to another tenant of the same service. They need
// Target.Peer, a second tenant; without it they are skipped.
func tenantChecks() []Check {
	l := []string{"tenant", "writes"}
	return []Check{
		{ID: "tenant-token-isolation", Title: "a tenant's token is 401 on another tenant's SCIM URL, in both directions", Ref: "RFC 7644 §2, §7.4 (multi-tenancy: a token is bound to its tenant)", Labels: []string{"tenant"}, Run: tenantTokens},
		{ID: "tenant-data-isolation", Title: "another tenant cannot read, find, change or delete this tenant's users and groups: 404 and no results, with the data unchanged", Ref: "RFC 7644 §6 (multi-tenancy)", Labels: l, Run: tenantData},
	}
}

// needPeer skips a tenant check when no second tenant is configured.
func needPeer(t *Target) error {
	if t.Peer == nil || t.Peer.BaseURL == "" {
		return Skip("needs a second tenant of the same service (idpkit conform --peer-scim-url and --peer-token)")
	}
	return nil
}

func tenantTokens(ctx context.Context, t *Target) error {
	if err := needPeer(t); err != nil {
		return err
	}
	p := newProbe(ctx)
	for _, c := range []struct {
		on    *Target
		token string
	}{{t, t.Peer.Token}, {t.Peer, t.Token}} {
		x, err := c.on.send(ctx, "GET", "/Users?startIndex=1&count=1", nil, withToken(c.token))
		if err != nil {
			return err
		}
		if p.status(x, 401) {
			p.errorResponse(x, "")
		}
	}
	return p.err()
}

func tenantData(ctx context.Context, t *Target) error {
	if err := needPeer(t); err != nil {
		return err
	}
	p := newProbe(ctx)
	uid, userName, err := t.createUser(ctx, p, "tenant")
	if err != nil || uid == "" {
		return err
	}
	gid, err := t.createGroup(ctx, p, "tenant-"+unique(), uid)
	if err != nil || gid == "" {
		return err
	}
	before, err := t.send(ctx, "GET", "/Users/"+url.PathEscape(uid), nil)
	if err != nil {
		return err
	}
	peer := t.Peer
	// What the other tenant must not see.
	for _, path := range []string{"/Users/" + url.PathEscape(uid), "/Groups/" + url.PathEscape(gid)} {
		x, err := peer.send(ctx, "GET", path, nil)
		if err != nil {
			return err
		}
		p.status(x, 404)
	}
	for _, f := range []struct{ endpoint, filter string }{
		{"/Users", `userName eq "` + userName + `"`},
		{"/Users", `id eq "` + uid + `"`},
		{"/Groups", `id eq "` + gid + `"`},
	} {
		x, err := peer.send(ctx, "GET", filterPath(f.endpoint, f.filter, ""), nil)
		if err != nil {
			return err
		}
		if p.status(x, 200) {
			if total, _ := p.listResponse(x); total != 0 {
				p.failf(x, "the other tenant found %d resources of this tenant", total)
			}
		}
	}
	// What the other tenant must not change.
	writes := []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/Users/" + url.PathEscape(uid), map[string]any{"schemas": []string{schemaPatchOp}, "Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}},
		{"PUT", "/Users/" + url.PathEscape(uid), map[string]any{"schemas": []string{schemaUser}, "userName": userName, "active": false}},
		{"DELETE", "/Groups/" + url.PathEscape(gid), nil},
		{"DELETE", "/Users/" + url.PathEscape(uid), nil},
	}
	for _, w := range writes {
		x, err := peer.send(ctx, w.method, w.path, w.body)
		if err != nil {
			return err
		}
		p.status(x, 404)
	}
	after, ok, err := t.fetch(ctx, p, "/Users/"+url.PathEscape(uid))
	if err != nil {
		return err
	}
	if ok {
		if get(after.JSON, "active") != get(before.JSON, "active") || str(get(after.JSON, "meta.version")) != str(get(before.JSON, "meta.version")) {
			p.failf(after, "the user changed after the other tenant's writes (before: active %v, version %q)", get(before.JSON, "active"), str(get(before.JSON, "meta.version")))
		}
	}
	g, ok, err := t.fetch(ctx, p, "/Groups/"+url.PathEscape(gid))
	if err != nil {
		return err
	}
	if ok {
		if m := memberValues(g.JSON); len(m) != 1 || m[0] != uid {
			p.failf(g, "the group's members changed to %v after the other tenant's writes", m)
		}
	}
	return p.err()
}
