package check

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// mediaChecks returns the media-type and request-body checks (IDs media-…,
// labelled "schema" and "media"): RFC 7644 §3.1, §8.1 and the errors of
// §3.12.
func mediaChecks() []Check {
	mw := []string{"schema", "media", "rfc7644", "writes"}
	return []Check{
		{ID: "media-accepted", Title: "requests in application/scim+json and application/json, with or without charset=utf-8, are accepted", Ref: "RFC 7644 §3.1, §8.1", Labels: mw, Run: mediaAccepted},
		{ID: "media-unsupported", Title: "a body in text/plain or application/xml is 415 with a SCIM error body, with nothing stored", Ref: "RFC 7644 §3.1, §3.12; RFC 9110 §15.5.16", Labels: mw, Run: mediaUnsupported},
		{ID: "media-response-type", Title: "every response with a body, errors included, is application/scim+json", Ref: "RFC 7644 §3.1, §8.1", Labels: mw, Run: mediaResponseType},
		{ID: "media-bad-json", Title: "a body that is not a JSON object is 400 invalidSyntax, with nothing stored", Ref: "RFC 7644 §3.12", Labels: mw, Run: mediaBadJSON},
		{ID: "media-json-depth", Title: "a body nested 40 levels deep (inside name) is 400 invalidSyntax, with nothing stored (strict: RFC 8259 §9 lets a server limit depth; idpkit allows 32)", Ref: "RFC 7644 §3.12; RFC 8259 §9", Labels: slices.Concat(mw, []string{"strict"}), Run: mediaDepth},
		{ID: "media-bearer-challenge", Title: "a 401 for a request without a token carries a WWW-Authenticate challenge such as Bearer realm=\"…\"", Ref: "RFC 6750 §3; RFC 7644 §2", Labels: []string{"media", "rfc7644"}, Run: mediaBearerChallenge},
		{ID: "media-too-large", Title: "a 2 MiB body is 413, with nothing stored (strict: idpkit accepts 1 MiB; RFC 7644 leaves the limit to the server)", Ref: "RFC 7644 §3.12; RFC 9110 §15.5.14", Labels: slices.Concat(mw, []string{"strict"}), Run: mediaTooLarge},
	}
}

func mediaAccepted(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for _, ct := range []string{"application/scim+json", "application/json", "application/scim+json; charset=utf-8", "application/json; charset=UTF-8"} {
		x, err := t.send(ctx, "POST", "/Users", oktaUser(t.userName("ct"), "Alice", "Example"), withContentType(ct))
		if err != nil {
			return err
		}
		if x.Status != 201 {
			p.failf(x, "Content-Type %s: status %d, want 201", ct, x.Status)
			continue
		}
		p.scimJSON(x)
	}
	return p.err()
}

func mediaUnsupported(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("media")
	js := []byte(`{"schemas":["` + schemaUser + `"],"userName":"` + userName + `"}`)
	for _, c := range []struct {
		ct   string
		body []byte
	}{
		{"text/plain", js},
		{"application/xml", []byte(`<User><userName>` + userName + `</userName></User>`)},
	} {
		x, err := t.send(ctx, "POST", "/Users", nil, withRaw(c.body), withContentType(c.ct))
		if err != nil {
			return err
		}
		if x.Status != http.StatusUnsupportedMediaType {
			p.failf(x, "Content-Type %s: status %d, want 415", c.ct, x.Status)
			continue
		}
		p.errorResponse(x, "")
	}
	if err := t.noneStored(ctx, p, "/Users", `userName eq "`+userName+`"`, "the body was not SCIM JSON"); err != nil {
		return err
	}
	return p.err()
}

func mediaResponseType(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "rt")
	if err != nil {
		return err
	}
	x, err := t.send(ctx, "POST", "/Users", oktaUser(t.userName("rt"), "Re", "Sponse"))
	if err != nil {
		return err
	}
	xs := []*Exchange{x}
	for _, path := range []string{"/Users/" + id, filterPath("/Users", `userName eq "`+userName+`"`, ""), "/Groups?count=1", "/Users/no-such-" + unique(),
		"/Users?filter=" + "userName%20eq", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes"} {
		y, err := t.send(ctx, "GET", path, nil)
		if err != nil {
			return err
		}
		xs = append(xs, y)
	}
	y, err := t.send(ctx, "GET", "/Users", nil, withToken("wrong-"+unique()))
	if err != nil {
		return err
	}
	xs = append(xs, y)
	for _, x := range xs {
		if len(strings.TrimSpace(string(x.Body))) == 0 {
			continue
		}
		if ct := strings.ToLower(x.Header.Get("Content-Type")); !strings.HasPrefix(ct, "application/scim+json") {
			p.failf(x, "Content-Type %q, want application/scim+json", x.Header.Get("Content-Type"))
		}
	}
	return p.err()
}

func mediaBadJSON(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("bad")
	for _, raw := range []string{`{"userName": "` + userName + `",`, `not json`, `["array"]`, `{"userName": "` + userName + `"} trailing`} {
		x, err := t.send(ctx, "POST", "/Users", nil, withRaw([]byte(raw)))
		if err != nil {
			return err
		}
		if x.Status != 400 {
			p.failf(x, "status %d, want 400 invalidSyntax", x.Status)
			continue
		}
		p.errorResponse(x, "invalidSyntax")
	}
	if err := t.noneStored(ctx, p, "/Users", `userName eq "`+userName+`"`, "the body was not a JSON object"); err != nil {
		return err
	}
	return p.err()
}

func mediaDepth(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("deep")
	// The nest sits inside name, an attribute every server declares, so
	// that a server refusing unknown attributes does not pass for that.
	nested := strings.Repeat(`{"x":`, 39) + `1` + strings.Repeat(`}`, 39)
	raw := fmt.Sprintf(`{"schemas":[%q],"userName":%q,"name":{"givenName":"Deep","familyName":%s}}`, schemaUser, userName, nested)
	x, err := t.send(ctx, "POST", "/Users", nil, withRaw([]byte(raw)))
	if err != nil {
		return err
	}
	if x.Status != 400 {
		p.failf(x, "a body nested 40 deep: status %d, want 400 invalidSyntax", x.Status)
	} else {
		p.errorResponse(x, "invalidSyntax")
	}
	if err := t.noneStored(ctx, p, "/Users", `userName eq "`+userName+`"`, "the body was nested too deep"); err != nil {
		return err
	}
	return p.err()
}

func mediaTooLarge(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("big")
	raw := fmt.Sprintf(`{"schemas":[%q],"userName":%q,"displayName":%q}`, schemaUser, userName, strings.Repeat("a", 2<<20))
	x, err := t.send(ctx, "POST", "/Users", nil, withRaw([]byte(raw)))
	if err != nil {
		return err
	}
	if x.Status != http.StatusRequestEntityTooLarge {
		p.failf(x, "a 2 MiB body: status %d, want 413", x.Status)
	} else {
		p.errorResponse(x, "")
	}
	if err := t.noneStored(ctx, p, "/Users", `userName eq "`+userName+`"`, "the body was too large"); err != nil {
		return err
	}
	return p.err()
}

func mediaBearerChallenge(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, err := t.send(ctx, "GET", "/Users?startIndex=1&count=1", nil, withToken(""))
	if err != nil {
		return err
	}
	if p.status(x, 401) && x.Header.Get("WWW-Authenticate") == "" {
		p.failf(x, "a 401 must carry a WWW-Authenticate challenge such as `Bearer realm=\"…\"` (RFC 6750 §3, the bearer-token rules RFC 7644 §2 refers to)")
	}
	return p.err()
}
