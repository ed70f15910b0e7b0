package schema

import (
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// JSON returns the representation of s served at /Schemas/{id} (RFC 7643
// §7), with meta.resourceType "Schema" and meta.location relative to the
// SCIM base URL ("/Schemas/{id}"). Use JSONAt for an absolute location.
func (s *Schema) JSON() scim.Resource { return s.JSONAt("") }

// JSONAt is JSON with meta.location = baseURL + "/Schemas/" + id; baseURL is
// the SCIM base URL without a trailing slash.
func (s *Schema) JSONAt(baseURL string) scim.Resource {
	return scim.Resource{
		"schemas":     []any{scim.SchemaSchema},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrsJSON(s.Attributes),
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     strings.TrimSuffix(baseURL, "/") + "/Schemas/" + s.ID,
		},
	}
}

func attrsJSON(attrs []*Attribute) []any {
	out := make([]any, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a.JSON())
	}
	return out
}

// JSON returns the attribute definition as it appears in a Schema's
// "attributes" (RFC 7643 §7).
func (a *Attribute) JSON() map[string]any {
	m := map[string]any{
		"name":        a.Name,
		"type":        a.Type,
		"multiValued": a.MultiValued,
		"description": a.Description,
		"required":    a.Required,
		"caseExact":   a.CaseExact,
		"mutability":  a.Mutability,
		"returned":    a.Returned,
		"uniqueness":  a.Uniqueness,
	}
	if len(a.CanonicalValues) > 0 {
		m["canonicalValues"] = strs(a.CanonicalValues)
	}
	if len(a.ReferenceTypes) > 0 {
		m["referenceTypes"] = strs(a.ReferenceTypes)
	}
	if len(a.SubAttributes) > 0 {
		m["subAttributes"] = attrsJSON(a.SubAttributes)
	}
	return m
}

func strs(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// JSON returns the representation of rt served at /ResourceTypes/{id}
// (RFC 7643 §6), with meta.resourceType "ResourceType" and meta.location
// baseURL + "/ResourceTypes/" + id; baseURL is the SCIM base URL.
func (rt *ResourceType) JSON(baseURL string) scim.Resource {
	ext := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		ext = append(ext, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	r := scim.Resource{
		"schemas":     []any{scim.SchemaResourceType},
		"id":          rt.ID,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Schema.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     strings.TrimSuffix(baseURL, "/") + "/ResourceTypes/" + rt.ID,
		},
	}
	if len(ext) > 0 {
		r["schemaExtensions"] = ext
	}
	return r
}
