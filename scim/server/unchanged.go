package server

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/idpkit/idpkit/scim"
)

// errUnchanged aborts an update transaction that would write the resource
// as it is stored; the caller answers with the record it read, whose
// version, lastModified and ETag stay as they were.
var errUnchanged = errors.New("scim/server: nothing to change")

// sameData reports whether next, a resource about to be stored, holds the
// same data as cur, the stored one, ignoring id and meta (which the server
// writes): their canonical JSON (encoding/json sorts object keys) is
// compared byte for byte.
func sameData(cur, next scim.Resource) bool {
	a, err1 := canonicalData(cur)
	b, err2 := canonicalData(next)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func canonicalData(res scim.Resource) ([]byte, error) {
	c := make(scim.Resource, len(res))
	for k, v := range res {
		if k == "id" || k == "meta" {
			continue
		}
		c[k] = v
	}
	return json.Marshal(c)
}
