package provision

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// ImportPageSize is the count Okta asks for on every page of an import and
// of the group list it reads when the To App settings are saved.
const ImportPageSize = 100

// MaxImportPages bounds an import, so that a server whose totalResults
// never stops growing cannot keep the mock busy forever.
const MaxImportPages = 1000

// SaveToAppSettings is saving the app's "To App" provisioning settings:
// besides storing them, Okta reads the app's groups with GET
// /Groups?startIndex=1&count=100 (for Group Push) and needs 200 with a
// ListResponse. Like Test API Credentials it is sent once, without retries.
func (e *Engine) SaveToAppSettings(ctx context.Context, t Target) error {
	const action = "save to app settings"
	if _, _, err := e.listPage(ctx, e.scim(t), "Groups", 1, 1); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: group list ok", "base", t.BaseURL)
	return nil
}

// ImportUsers is "Import Now" on the app's Import tab: GET
// /Users?startIndex=1&count=100, then startIndex += 100 while fewer than
// totalResults users have been read. itemsPerPage, startIndex and
// totalResults must be JSON numbers. It returns the users in the order the
// server listed them; a page with no resources before totalResults is
// reached is an error (the server's order or count is not stable). Each
// page is retried as any provisioning request is.
func (e *Engine) ImportUsers(ctx context.Context, t Target) ([]scim.Resource, error) {
	rs, err := e.importAll(ctx, t, "Users")
	if err != nil {
		return nil, fail("import users", err)
	}
	e.logger().DebugContext(ctx, "provision: imported users", "count", len(rs))
	return rs, nil
}

// ImportGroups is the group import: the same paging as ImportUsers over
// /Groups.
func (e *Engine) ImportGroups(ctx context.Context, t Target) ([]scim.Resource, error) {
	rs, err := e.importAll(ctx, t, "Groups")
	if err != nil {
		return nil, fail("import groups", err)
	}
	e.logger().DebugContext(ctx, "provision: imported groups", "count", len(rs))
	return rs, nil
}

func (e *Engine) importAll(ctx context.Context, t Target, endpoint string) ([]scim.Resource, error) {
	c := e.scim(t)
	var out []scim.Resource
	seen := map[string]bool{}
	for page, start := 0, 1; ; page, start = page+1, start+ImportPageSize {
		if page == MaxImportPages {
			return out, fmt.Errorf("GET /%s: still not at totalResults after %d pages", endpoint, MaxImportPages)
		}
		rs, total, err := e.listPage(ctx, c, endpoint, start, e.maxAttempts())
		if err != nil {
			return out, err
		}
		for _, r := range rs {
			if id := idOf(r); id != "" {
				if seen[id] {
					return out, fmt.Errorf("GET /%s?startIndex=%d: %s %q was already on an earlier page; the order is not stable across pages", endpoint, start, endpoint[:len(endpoint)-1], id)
				}
				seen[id] = true
			}
		}
		out = append(out, rs...)
		if start+ImportPageSize > total {
			return out, nil
		}
		if len(rs) == 0 {
			return out, fmt.Errorf("GET /%s?startIndex=%d: no resources, but totalResults is %d", endpoint, start, total)
		}
	}
}

// listPage sends GET /<endpoint>?startIndex=<start>&count=100, at most
// attempts times, and returns the page's resources and totalResults.
func (e *Engine) listPage(ctx context.Context, c *client.Client, endpoint string, start, attempts int) ([]scim.Resource, int, error) {
	path := "/" + endpoint + "?" + client.ListQuery{StartIndex: start, Count: ImportPageSize}.Encode()
	var lr struct {
		Schemas      []string        `json:"schemas"`
		TotalResults *int            `json:"totalResults"`
		Resources    []scim.Resource `json:"Resources"`
	}
	resp, err := e.sendN(ctx, c, attempts, "GET", path, nil, &lr)
	if err != nil {
		return nil, 0, err
	}
	if err := wantStatus("GET", path, resp, 200); err != nil {
		return nil, 0, err
	}
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil, 0, fmt.Errorf("GET %s: %w", path, client.ErrEmptyBody)
	}
	if lr.TotalResults == nil && !slices.Contains(lr.Schemas, scim.SchemaListResponse) {
		return nil, 0, fmt.Errorf("GET %s: answer is not a ListResponse", path)
	}
	total := 0
	if lr.TotalResults != nil {
		total = *lr.TotalResults
	}
	return lr.Resources, total, nil
}
