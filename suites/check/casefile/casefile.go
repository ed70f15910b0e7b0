// Package casefile loads and runs SCIM case files: small request/response
// scripts reduced from public bug reports against SCIM servers (Okta and
// Entra ID traffic, RFC 7644 §3). A case is
//
//	{"id": "S01", "title": "…", "steps": [step, …]}
//
// and a step is
//
//	{"method": "PATCH", "path": "/Users/{{u}}",   // relative to the SCIM base URL
//	 "headers": {"Name": "value"},                // optional
//	 "body": {…} | "rawBody": "…",                // optional; sent as application/scim+json
//	 "noAuth": true,                              // optional: no Authorization header
//	 "token": "other",                            // optional: this bearer token instead
//	 "capture": {"u": "id", "loc": "header:Location"},
//	 "expect": {
//	   "status": [200, 204],
//	   "has": {…},                                // recursive subset of the JSON body
//	   "equals": {"Resources.0.id": "{{u}}"},     // dotted path → exact value
//	   "absent": ["title"],                       // dotted paths that must not resolve
//	   "len": {"members": 2},                     // dotted path → array length
//	   "none": {"members": [{"value": "{{b}}"}]}, // no element may match any of these
//	   "contentType": "application/scim+json",    // substring of Content-Type
//	   "headerHas": {"WWW-Authenticate": "Bearer"} // header → substring
//	 }}
//
// "{{rand}}" expands to a suffix unique to one run of a case and "{{name}}"
// to a value captured by an earlier step. Object keys compare
// case-insensitively (SCIM attribute names are case-insensitive, RFC 7643
// §2.1); dotted paths index arrays by number ("Resources.0.id") and may
// name keys that contain dots, such as schema URNs.
//
// The package uses only the standard library so that it builds for
// GOOS=js GOARCH=wasm; like testing/fstest it returns errors and leaves
// failing to the caller.
package casefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Case is one case file: an id, a title and the steps to run in order.
type Case struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Steps []Step `json:"steps"`
}

// Step is one request of a case and what its response must look like.
type Step struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`              // relative to the SCIM base URL, may hold {{vars}}
	Headers map[string]string `json:"headers,omitempty"` // extra request headers; Authorization here wins
	Body    json.RawMessage   `json:"body,omitempty"`    // a JSON body; strings may hold {{vars}}
	RawBody *string           `json:"rawBody,omitempty"` // a body sent byte for byte (after {{vars}})
	NoAuth  bool              `json:"noAuth,omitempty"`  // send no Authorization header
	Token   *string           `json:"token,omitempty"`   // send this bearer token instead of the target's
	Capture map[string]string `json:"capture,omitempty"` // var → dotted JSON path or "header:Name"
	Expect  Expect            `json:"expect"`
}

// Expect is what a step's response must satisfy. Every field but Status
// is optional; Status lists the acceptable status codes.
type Expect struct {
	Status      []int             `json:"status"`
	Has         any               `json:"has,omitempty"`
	Equals      map[string]any    `json:"equals,omitempty"`
	Absent      []string          `json:"absent,omitempty"`
	Len         map[string]int    `json:"len,omitempty"`
	None        map[string][]any  `json:"none,omitempty"`
	ContentType string            `json:"contentType,omitempty"`
	HeaderHas   map[string]string `json:"headerHas,omitempty"`
}

// Parse decodes and validates one case file. Unknown fields are errors, so
// that a misspelt expectation never passes silently.
func Parse(data []byte) (Case, error) {
	var c Case
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Case{}, fmt.Errorf("casefile: %w", err)
	}
	if dec.More() {
		return Case{}, errors.New("casefile: data after the case object")
	}
	if err := c.validate(); err != nil {
		return Case{}, err
	}
	return c, nil
}

func (c Case) validate() error {
	if c.ID == "" {
		return errors.New("casefile: case has no id")
	}
	if len(c.Steps) == 0 {
		return fmt.Errorf("casefile: case %s has no steps", c.ID)
	}
	for i, s := range c.Steps {
		n := i + 1
		switch {
		case s.Method == "":
			return fmt.Errorf("casefile: case %s step %d has no method", c.ID, n)
		case !strings.HasPrefix(s.Path, "/") && !strings.HasPrefix(s.Path, "{{"):
			return fmt.Errorf("casefile: case %s step %d: path %q does not start with /", c.ID, n, s.Path)
		case len(s.Body) > 0 && s.RawBody != nil:
			return fmt.Errorf("casefile: case %s step %d has both body and rawBody", c.ID, n)
		case len(s.Expect.Status) == 0:
			return fmt.Errorf("casefile: case %s step %d expects no status", c.ID, n)
		case s.NoAuth && s.Token != nil:
			return fmt.Errorf("casefile: case %s step %d has both noAuth and token", c.ID, n)
		}
		for v, p := range s.Capture {
			if v == "" || v == "rand" || p == "" {
				return fmt.Errorf("casefile: case %s step %d: bad capture %q: %q", c.ID, n, v, p)
			}
		}
	}
	return nil
}

// Load reads every *.json file in dir of fsys, in name order, and parses
// each as a case. Case ids must be unique.
func Load(fsys fs.FS, dir string) ([]Case, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("casefile: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("casefile: no *.json case files in %s", dir)
	}
	sort.Strings(names)
	seen := map[string]string{}
	cases := make([]Case, 0, len(names))
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("casefile: %w", err)
		}
		c, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if prev, ok := seen[c.ID]; ok {
			return nil, fmt.Errorf("casefile: %s and %s both have id %s", prev, name, c.ID)
		}
		seen[c.ID] = name
		cases = append(cases, c)
	}
	return cases, nil
}
