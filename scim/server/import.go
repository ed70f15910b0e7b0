package server

import (
	"context"
	"fmt"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// importBatch is how many resources one store.CreateResources call
// writes.
const importBatch = 1000

// Import creates resources of one type ("User" or "Group") in tenant as
// POST would (normalised, required attributes checked, ids and meta
// assigned, members resolved, passwords handled as configured) but in
// batches through store.CreateResources; it returns the new ids in order.
// It is for seeding and migration, not for HTTP. A batch is written
// whole or not at all; on an error, the batches before it stay and their
// ids are returned with the error.
func (s *Server) Import(ctx context.Context, tenant, resourceType string, resources []scim.Resource) ([]string, error) {
	var k *kind
	switch resourceType {
	case store.TypeUser:
		k = s.users
	case store.TypeGroup:
		k = s.groups
	default:
		return nil, fmt.Errorf("scim/server: import: unknown resource type %q (use User or Group)", resourceType)
	}
	base := s.publicURL + "/t/" + tenant + "/scim/v2"
	ids := make([]string, 0, len(resources))
	for from := 0; from < len(resources); from += importBatch {
		chunk := resources[from:min(from+importBatch, len(resources))]
		recs := make([]store.Record, 0, len(chunk))
		now := s.writeTime()
		for i, body := range chunk {
			in, err := s.prepare(ctx, tenant, k, clone(body))
			if err != nil {
				return ids, fmt.Errorf("scim/server: import %s %d: %w", resourceType, from+i, err)
			}
			rec, err := s.newRecord(k, base, in, now)
			if err != nil {
				return ids, fmt.Errorf("scim/server: import %s %d: %w", resourceType, from+i, err)
			}
			recs = append(recs, rec)
		}
		if err := s.store.CreateResources(ctx, tenant, recs); err != nil {
			return ids, fmt.Errorf("scim/server: import %d %ss from %d: %w", len(recs), resourceType, from, err)
		}
		for _, rec := range recs {
			ids = append(ids, rec.ID)
		}
	}
	return ids, nil
}
