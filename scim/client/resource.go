package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// resourcePath returns "/<endpoint>" or "/<endpoint>/<escaped id>".
func resourcePath(endpoint, id string) string {
	p := "/" + strings.Trim(endpoint, "/")
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

// Get retrieves one resource (RFC 7644 §3.4.1): GET /<endpoint>/<id>, where
// endpoint is "Users" or "Groups".
func (c *Client) Get(ctx context.Context, endpoint, id string) (scim.Resource, error) {
	if id == "" {
		return nil, fmt.Errorf("client: get %s: empty id", endpoint)
	}
	var r scim.Resource
	p := resourcePath(endpoint, id)
	resp, err := c.Do(ctx, "GET", p, nil, &r)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("client: GET %s: %s: %w", p, statusText(resp.Status), ErrEmptyBody)
	}
	return r, nil
}

// List queries an endpoint (RFC 7644 §3.4.2): GET /<endpoint>?<q.Encode()>.
func (c *Client) List(ctx context.Context, endpoint string, q ListQuery) (scim.ListResponse, error) {
	var lr scim.ListResponse
	p := resourcePath(endpoint, "")
	if qs := q.Encode(); qs != "" {
		p += "?" + qs
	}
	resp, err := c.Do(ctx, "GET", p, nil, &lr)
	if err != nil {
		return scim.ListResponse{}, err
	}
	if len(resp.Body) == 0 {
		return scim.ListResponse{}, fmt.Errorf("client: GET %s: %s: %w", p, statusText(resp.Status), ErrEmptyBody)
	}
	return lr, nil
}

// Create creates a resource (RFC 7644 §3.3): POST /<endpoint> with r, and
// returns the resource the server sent back. A success without a body is
// an error wrapping ErrEmptyBody.
func (c *Client) Create(ctx context.Context, endpoint string, r scim.Resource) (scim.Resource, error) {
	return c.write(ctx, "POST", resourcePath(endpoint, ""), r)
}

// Replace replaces a resource (RFC 7644 §3.5.1): PUT /<endpoint>/<id> with
// r, and returns the resource the server sent back. A success without a
// body is an error wrapping ErrEmptyBody.
func (c *Client) Replace(ctx context.Context, endpoint, id string, r scim.Resource) (scim.Resource, error) {
	if id == "" {
		return nil, fmt.Errorf("client: replace %s: empty id", endpoint)
	}
	return c.write(ctx, "PUT", resourcePath(endpoint, id), r)
}

func (c *Client) write(ctx context.Context, method, path string, r scim.Resource) (scim.Resource, error) {
	var out scim.Resource
	resp, err := c.Do(ctx, method, path, r, &out)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("client: %s %s: %s: %w", method, path, statusText(resp.Status), ErrEmptyBody)
	}
	return out, nil
}

// Patch modifies a resource (RFC 7644 §3.5.2): PATCH /<endpoint>/<id> with
// a PatchOp message holding ops. It returns the resource when the server
// sends one (200) and nil with no error when it answers 204 No Content.
func (c *Client) Patch(ctx context.Context, endpoint, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	if id == "" {
		return nil, fmt.Errorf("client: patch %s: empty id", endpoint)
	}
	if ops == nil {
		ops = []scim.PatchOperation{}
	}
	req := scim.PatchRequest{Schemas: []string{scim.SchemaPatchOp}, Operations: ops}
	var out scim.Resource
	if _, err := c.Do(ctx, "PATCH", resourcePath(endpoint, id), req, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes a resource (RFC 7644 §3.6): DELETE /<endpoint>/<id>.
func (c *Client) Delete(ctx context.Context, endpoint, id string) error {
	if id == "" {
		return fmt.Errorf("client: delete %s: empty id", endpoint)
	}
	_, err := c.Do(ctx, "DELETE", resourcePath(endpoint, id), nil, nil)
	return err
}
