package check

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// etagChecks returns the checks labelled "etag": resource versions and
// the conditional requests of RFC 7644 §3.14. Versioning is optional: when
// /ServiceProviderConfig says etag is unsupported, each check verifies only
// that the server does not pretend otherwise (an ETag header, when sent,
// equals meta.version) and passes.
func etagChecks() []Check {
	w := []string{"etag", "rfc7644", "writes"}
	const ref = "RFC 7644 §3.14"
	return []Check{
		{ID: "etag-header", Title: "the ETag header of GET, POST, PUT and PATCH responses equals meta.version, and the version changes when the resource does", Ref: ref + "; RFC 7643 §3.1", Labels: w, Run: etagHeader},
		{ID: "etag-if-match-stale-put", Title: "PUT with a stale If-Match is 412 and leaves the resource unchanged", Ref: ref, Labels: w, Run: etagStale("PUT")},
		{ID: "etag-if-match-stale-patch", Title: "PATCH with a stale If-Match is 412 and leaves the resource unchanged", Ref: ref, Labels: w, Run: etagStale("PATCH")},
		{ID: "etag-if-match-stale-delete", Title: "DELETE with a stale If-Match is 412 and the resource stays", Ref: ref, Labels: w, Run: etagStale("DELETE")},
		{ID: "etag-if-match-any", Title: `If-Match "*" and an If-Match list holding the current tag let PUT, PATCH and DELETE through`, Ref: ref + "; RFC 7232 §3.1", Labels: w, Run: etagIfMatchAny},
		{ID: "etag-if-match-current", Title: "PATCH with If-Match set to the exact ETag the server issued is let through", Ref: ref + "; RFC 7232 §3.1", Labels: w, Run: etagIfMatchCurrent},
		{ID: "etag-weak-forms", Title: `If-Match compares tags by value: W/"v" and "v" name the same version (strict: RFC 7232 §3.1 compares If-Match strongly and RFC 7644 §3.14 lets a server issue weak or strong tags; idpkit compares by value)`, Ref: ref + "; RFC 7232 §2.3, §3.1", Labels: slices.Concat(w, []string{Strict}), Run: etagWeakForms},
		{ID: "etag-if-none-match", Title: "GET with If-None-Match of the current version is 304 with no body; with a stale one it is 200 with the resource", Ref: ref + "; RFC 7232 §3.2", Labels: w, Run: etagIfNoneMatch},
	}
}

// etagStart reads /ServiceProviderConfig and creates a user. When etag is
// unsupported it checks that the ETag header, if any, agrees with
// meta.version, and returns supported false: the caller stops there.
func (t *Target) etagStart(ctx context.Context, p *probe) (supported bool, id string, created *Exchange, err error) {
	supported = !t.featureOff(ctx, "etag")
	ids, err := t.createAll(ctx, p, "/Users", []map[string]any{oktaUser(t.userName("etag"), "Eva", "Tag")})
	if err != nil {
		return false, "", nil, err
	}
	id = ids[0]
	created, err = t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return false, "", nil, err
	}
	if !p.status(created, 200) {
		return false, "", nil, p.err()
	}
	if !supported {
		h, v := created.Header.Get("ETag"), str(get(created.JSON, "meta.version"))
		if h != "" && v != "" && h != v {
			p.failf(created, "etag is declared unsupported, yet the ETag header %q differs from meta.version %q", h, v)
		}
		return false, id, created, nil
	}
	if created.Header.Get("ETag") == "" {
		p.failf(created, "etag is supported (ServiceProviderConfig), but GET sends no ETag header")
		return false, "", nil, p.err()
	}
	return true, id, created, nil
}

// tagMatches checks that x's ETag header equals its meta.version; a 204
// carries no body, so only the header is compared then.
func (p *probe) tagMatches(x *Exchange, what string) string {
	h := x.Header.Get("ETag")
	if h == "" {
		p.failf(x, "%s: no ETag header (RFC 7644 §3.14)", what)
		return ""
	}
	if x.Status == 204 {
		return h
	}
	if v := str(get(x.JSON, "meta.version")); v != h {
		p.failf(x, "%s: the ETag header %q differs from meta.version %q (RFC 7643 §3.1)", what, h, v)
	}
	return h
}

func etagHeader(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	supported := !t.featureOff(ctx, "etag")
	userName := t.userName("etag")
	body := oktaUser(userName, "Eva", "Tag")
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id := str(get(x.JSON, "id"))
	if !supported {
		if h, v := x.Header.Get("ETag"), str(get(x.JSON, "meta.version")); h != "" && v != "" && h != v {
			p.failf(x, "etag is declared unsupported, yet the ETag header %q differs from meta.version %q", h, v)
		}
		return p.err()
	}
	v1 := p.tagMatches(x, "POST")
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if ok {
		if v := p.tagMatches(g, "GET"); v != v1 {
			p.failf(g, "GET of an unchanged resource gives version %q, POST gave %q", v, v1)
		}
	}
	body["displayName"] = "Eva Changed"
	x, err = t.send(ctx, "PUT", "/Users/"+id, body)
	if err != nil {
		return err
	}
	v2 := v1
	if p.status(x, 200) {
		if v2 = p.tagMatches(x, "PUT"); v2 == v1 {
			p.failf(x, "PUT changed displayName but the version stayed %q", v1)
		}
	}
	x, err = t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "displayName", "value": "Eva Tagger"})
	if err != nil {
		return err
	}
	if !p.status(x, 200, 204) {
		return p.err()
	}
	if x.Status == 204 && x.Header.Get("ETag") == "" {
		// 204 has no resource to tag; the next GET must show the change.
		if x, err = t.send(ctx, "GET", "/Users/"+id, nil); err != nil {
			return err
		}
		if !p.status(x, 200) {
			return p.err()
		}
	}
	if v3 := p.tagMatches(x, "PATCH"); v3 == v2 {
		p.failf(x, "PATCH changed displayName but the version stayed %q", v2)
	}
	return p.err()
}

// ifMatch is a request header set with If-Match.
func ifMatch(v string) http.Header { return http.Header{"If-Match": {v}} }

// staleTag returns a tag of the same form as tag that names no version.
func staleTag(tag string) string {
	if strings.HasPrefix(tag, "W/") {
		return `W/"stale-` + unique() + `"`
	}
	return `"stale-` + unique() + `"`
}

func etagStale(method string) func(context.Context, *Target) error {
	return func(ctx context.Context, t *Target) error {
		p := newProbe(ctx)
		ok, id, before, err := t.etagStart(ctx, p)
		if err != nil || !ok {
			return firstErr(err, p)
		}
		old := before.Header.Get("ETag")
		// Change the user so that old is a real, superseded version.
		x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "displayName", "value": "Eva Current"})
		if err != nil {
			return err
		}
		if !p.status(x, 200, 204) {
			return p.err()
		}
		cur, ok, err := t.fetch(ctx, p, "/Users/"+id)
		if err != nil {
			return err
		}
		if !ok {
			return p.err()
		}
		if cur.Header.Get("ETag") == old {
			p.failf(cur, "the PATCH changed displayName but the version stayed %q", old)
			return p.err()
		}
		var body any
		switch method {
		case "PUT":
			b := oktaUser(str(get(cur.JSON, "userName")), "Eva", "Tag")
			b["displayName"] = "Eva Stale"
			body = b
		case "PATCH":
			body = patchRequest(map[string]any{"op": "replace", "path": "displayName", "value": "Eva Stale"})
		}
		x, err = t.send(ctx, method, "/Users/"+id, body, withHeader(ifMatch(old)))
		if err != nil {
			return err
		}
		if x.Status != http.StatusPreconditionFailed {
			p.failf(x, "%s with If-Match %s (superseded by %s): status %d, want 412", method, old, cur.Header.Get("ETag"), x.Status)
		} else {
			p.errorResponse(x, "")
		}
		after, err := t.send(ctx, "GET", "/Users/"+id, nil)
		if err != nil {
			return err
		}
		if after.Status == 404 {
			p.failf(after, "the %s with a stale If-Match deleted the resource", method)
		} else if p.status(after, 200) {
			for _, a := range []string{"displayName", "meta.version"} {
				if b, g := show(get(cur.JSON, a)), show(get(after.JSON, a)); b != g {
					p.failf(after, "after the refused %s with a stale If-Match, %s changed from %s to %s", method, a, b, g)
				}
			}
		}
		return p.err()
	}
}

// statusWith is status for a request sent with the header line h, which
// the failure names in its first sentence (the exchange below it shows
// the request's If-Match and If-None-Match too).
func (p *probe) statusWith(x *Exchange, h string, want ...int) bool {
	if slices.Contains(want, x.Status) {
		return true
	}
	p.failf(x, "%s %s with %s: status %d, want %s", x.Method, x.Path, h, x.Status, joinInts(want))
	return false
}

func etagIfMatchAny(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ok, id, cur, err := t.etagStart(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	b := oktaUser(str(get(cur.JSON, "userName")), "Eva", "Tag")
	b["displayName"] = "Eva Star"
	x, err := t.send(ctx, "PUT", "/Users/"+id, b, withHeader(ifMatch("*")))
	if err != nil {
		return err
	}
	p.statusWith(x, "If-Match: *", 200)
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	list := staleTag(g.Header.Get("ETag")) + ", " + g.Header.Get("ETag")
	x, err = t.send(ctx, "PATCH", "/Users/"+id, patchRequest(map[string]any{"op": "replace", "path": "displayName", "value": "Eva Listed"}), withHeader(ifMatch(list)))
	if err != nil {
		return err
	}
	p.statusWith(x, "If-Match: "+list, 200, 204)
	g, err = t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if !p.status(g, 200) {
		return p.err()
	}
	x, err = t.send(ctx, "DELETE", "/Users/"+id, nil, withHeader(ifMatch(g.Header.Get("ETag"))))
	if err != nil {
		return err
	}
	p.statusWith(x, "If-Match: "+g.Header.Get("ETag")+" (the current version)", 204)
	return p.err()
}

func etagWeakForms(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ok, id, cur, err := t.etagStart(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	tag := cur.Header.Get("ETag")
	other := "W/" + tag
	if v, weak := strings.CutPrefix(tag, "W/"); weak {
		other = v
	}
	x, err := t.send(ctx, "PATCH", "/Users/"+id, patchRequest(map[string]any{"op": "replace", "path": "displayName", "value": "Eva Weak"}), withHeader(ifMatch(other)))
	if err != nil {
		return err
	}
	p.statusWith(x, "If-Match: "+other+" (the current version "+tag+" in the other form)", 200, 204)
	return p.err()
}

func etagIfMatchCurrent(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ok, id, cur, err := t.etagStart(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	tag := cur.Header.Get("ETag")
	x, err := t.send(ctx, "PATCH", "/Users/"+id, patchRequest(map[string]any{"op": "replace", "path": "displayName", "value": "Eva Current"}), withHeader(ifMatch(tag)))
	if err != nil {
		return err
	}
	p.statusWith(x, "If-Match: "+tag+" (the ETag the server issued)", 200, 204)
	return p.err()
}

func etagIfNoneMatch(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ok, id, cur, err := t.etagStart(ctx, p)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	tag := cur.Header.Get("ETag")
	for _, h := range []string{tag, staleTag(tag) + ", " + tag} {
		x, err := t.send(ctx, "GET", "/Users/"+id, nil, withHeader(http.Header{"If-None-Match": {h}}))
		if err != nil {
			return err
		}
		if x.Status != http.StatusNotModified {
			p.failf(x, "GET with If-None-Match: %s (the current version): status %d, want 304", h, x.Status)
		} else if len(strings.TrimSpace(string(x.Body))) > 0 {
			p.failf(x, "a 304 must have no body")
		}
	}
	stale := staleTag(tag)
	x, err := t.send(ctx, "GET", "/Users/"+id, nil, withHeader(http.Header{"If-None-Match": {stale}}))
	if err != nil {
		return err
	}
	if x.Status != 200 {
		p.failf(x, "GET with If-None-Match: %s (not the current %s): status %d, want 200", stale, tag, x.Status)
	} else if str(get(x.JSON, "id")) != id {
		p.failf(x, "GET with a stale If-None-Match must return the resource")
	}
	return p.err()
}
