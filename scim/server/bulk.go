package server

import (
	"net/http"

	"github.com/idpkit/idpkit/scim"
)

// bulk handles POST /Bulk (RFC 7644 §3.7).
func (s *Server) bulk(w http.ResponseWriter, r *request) error {
	return scim.Errorf(http.StatusNotImplemented, "", "bulk is not supported")
}
