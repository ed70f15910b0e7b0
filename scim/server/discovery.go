package server

import (
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// serviceProviderConfig handles GET /ServiceProviderConfig (RFC 7643 §5,
// RFC 7644 §4). It states what the server does: PATCH, Bulk within
// MaxBulkOperations and MaxBulkPayload, filters with at most MaxCount
// results a page, password changes (PUT or PATCH, stored hashed), sortBy
// and ETags.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scim.Resource{
		"schemas":          []any{scim.SchemaSPConfig},
		"documentationUri": "https://github.com/idpkit/idpkit",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": MaxBulkOperations, "maxPayloadSize": MaxBulkPayload},
		"filter":           map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with the tenant's SCIM secret as a bearer token (RFC 6750)",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     r.base + "/ServiceProviderConfig",
		},
	})
	return nil
}

// resourceTypes handles GET /ResourceTypes (RFC 7644 §4).
func (s *Server) resourceTypes(w http.ResponseWriter, r *request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	var list []scim.Resource
	for _, k := range []*kind{s.users, s.groups} {
		list = append(list, k.rt.JSON(r.base))
	}
	writeJSON(w, http.StatusOK, listOf(list))
	return nil
}

// resourceType handles GET /ResourceTypes/{name}.
func (s *Server) resourceType(w http.ResponseWriter, r *request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	name := r.PathValue("name")
	for _, k := range []*kind{s.users, s.groups} {
		if strings.EqualFold(k.rt.ID, name) {
			writeJSON(w, http.StatusOK, k.rt.JSON(r.base))
			return nil
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "no resource type %q; there are User and Group", name)
}

// schemas handles GET /Schemas (RFC 7644 §4).
func (s *Server) schemas(w http.ResponseWriter, r *request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	var list []scim.Resource
	for _, sc := range schema.Schemas() {
		list = append(list, sc.JSONAt(r.base))
	}
	writeJSON(w, http.StatusOK, listOf(list))
	return nil
}

// schema handles GET /Schemas/{id}.
func (s *Server) schema(w http.ResponseWriter, r *request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	for _, sc := range schema.Schemas() {
		if strings.EqualFold(sc.ID, id) {
			writeJSON(w, http.StatusOK, sc.JSONAt(r.base))
			return nil
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "no schema %q", id)
}

// listOf wraps a complete list in a ListResponse.
func listOf(list []scim.Resource) scim.ListResponse {
	if list == nil {
		list = []scim.Resource{}
	}
	return scim.ListResponse{Schemas: []string{scim.SchemaListResponse}, TotalResults: len(list), StartIndex: 1, ItemsPerPage: len(list), Resources: list}
}

// noFilter refuses a filter on a discovery endpoint with 403 (RFC 7644
// §4: a client must not take an unfiltered answer for a filtered one).
func noFilter(r *request) error {
	if _, ok := r.query["filter"]; ok {
		return scim.Errorf(http.StatusForbidden, "", "the discovery endpoints do not take a filter; leave it out to read them whole")
	}
	return nil
}
