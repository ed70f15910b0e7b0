package server

import (
	"net/http"

	"github.com/idpkit/idpkit/scim"
)

// Bulk limits advertised in /ServiceProviderConfig and enforced by POST
// /Bulk (RFC 7644 §3.7.4): more operations, or a larger body, is 413.
const (
	MaxBulkOperations = 1000
	MaxBulkPayload    = 4 << 20
)

// bulk handles POST /Bulk (RFC 7644 §3.7).
func (s *Server) bulk(w http.ResponseWriter, r *request) error {
	return scim.Errorf(http.StatusNotImplemented, "", "bulk is not supported")
}
