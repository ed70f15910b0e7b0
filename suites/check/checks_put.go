package check

import (
	"context"
	"net/url"
)

// putChecks returns the checks of PUT (RFC 7644 §3.5.1), labelled
// "schema" with the other attribute-characteristic rules: a PUT replaces
// every readWrite attribute, ignores readOnly values and unknown ones.
func putChecks() []Check {
	w := []string{"schema", "rfc7644", "writes"}
	return []Check{
		{ID: "schema-put-replaces-all", Title: "PUT replaces the resource: attributes it leaves out are cleared, the ones it sends are stored, id and meta.created in the body are ignored, and unknown attributes are ignored", Ref: "RFC 7644 §3.5.1; RFC 7643 §2.2, §3.1", Labels: w, Run: putReplacesAll},
	}
}

func putReplacesAll(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "put")
	if err != nil || id == "" {
		return firstErr(err, p)
	}
	path := "/Users/" + url.PathEscape(id)
	before, ok, err := t.fetch(ctx, p, path)
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	created := str(get(before.JSON, "meta.created"))
	body := map[string]any{
		"schemas":  []string{schemaUser},
		"id":       "not-" + id, // readOnly: ignored
		"meta":     map[string]any{"created": "2001-01-01T00:00:00Z", "resourceType": "User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Replaced", "familyName": "Example"},
		"active":   true,
		// displayName and emails are left out: PUT clears them.
		"urn:idpkit:unknown:2.0:Probe": map[string]any{"x": "y"},
		"idpkitUnknownAttribute":       "ignored",
	}
	put, err := t.send(ctx, "PUT", path, body)
	if err != nil {
		return err
	}
	if !p.status(put, 200) {
		return p.err()
	}
	got, ok, err := t.fetch(ctx, p, path)
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	for _, x := range []*Exchange{put, got} {
		p.equal(x, "id", id)
		p.equal(x, "name.givenName", "Replaced")
		p.equal(x, "userName", userName)
		for _, gone := range []string{"displayName", "emails", "idpkitUnknownAttribute"} {
			if v := get(x.JSON, gone); v != nil {
				p.failf(x, "%s is %s after a PUT that left it out (PUT replaces every readWrite attribute; unknown ones are ignored)", gone, show(v))
			}
		}
		if created != "" && str(get(x.JSON, "meta.created")) != created {
			p.failf(x, "meta.created changed from %q to %q: meta is readOnly and a PUT cannot set it", created, str(get(x.JSON, "meta.created")))
		}
	}
	// The id the body named must not have become a resource.
	other, err := t.send(ctx, "GET", "/Users/"+url.PathEscape("not-"+id), nil)
	if err != nil {
		return err
	}
	if other.Status == 200 {
		t.remember("/Users/" + url.PathEscape("not-"+id))
		p.failf(other, "the id in the PUT body created or renamed a resource; id is readOnly")
	}
	return p.err()
}
