// Package scim holds the protocol types shared by idpkit's SCIM 2.0 server,
// client and conformance checks: schema URNs, the error type of RFC 7644
// §3.12, the ListResponse of RFC 7644 §3.4.2 and the PatchOp message of
// RFC 7644 §3.5.2.
//
// Resources are handled as decoded JSON objects (Resource); the packages
// scim/schema, scim/filter and scim/patch give them meaning.
package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Schema and message URNs from RFC 7643 §8.7 and RFC 7644 §3.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaSearchRequest  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	SchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// MediaType is the SCIM media type of RFC 7644 §8.1.
const MediaType = "application/scim+json"

// Resource is a SCIM resource as decoded JSON: attribute names map to
// strings, float64 or json.Number, bools, nil, []any and map[string]any.
type Resource = map[string]any

// The scimType values of RFC 7644 §3.12, Table 9.
const (
	TypeInvalidFilter = "invalidFilter"
	TypeTooMany       = "tooMany"
	TypeUniqueness    = "uniqueness"
	TypeMutability    = "mutability"
	TypeInvalidSyntax = "invalidSyntax"
	TypeInvalidPath   = "invalidPath"
	TypeNoTarget      = "noTarget"
	TypeInvalidValue  = "invalidValue"
	TypeInvalidVers   = "invalidVers"
	TypeSensitive     = "sensitive"
)

// Error is a SCIM error response (RFC 7644 §3.12). It implements error and
// marshals to the error JSON, with status as a string.
//
// Two errors match under errors.Is when their ScimType is equal, or, when
// the target has no ScimType, when their Status is equal; Detail is ignored.
type Error struct {
	Status   int    // HTTP status code
	ScimType string // one of the Type constants, or empty
	Detail   string // human-readable detail
}

// Sentinel errors to match with errors.Is.
var (
	ErrInvalidFilter = &Error{Status: http.StatusBadRequest, ScimType: TypeInvalidFilter}
	ErrTooMany       = &Error{Status: http.StatusBadRequest, ScimType: TypeTooMany}
	ErrUniqueness    = &Error{Status: http.StatusConflict, ScimType: TypeUniqueness}
	ErrMutability    = &Error{Status: http.StatusBadRequest, ScimType: TypeMutability}
	ErrInvalidSyntax = &Error{Status: http.StatusBadRequest, ScimType: TypeInvalidSyntax}
	ErrInvalidPath   = &Error{Status: http.StatusBadRequest, ScimType: TypeInvalidPath}
	ErrNoTarget      = &Error{Status: http.StatusBadRequest, ScimType: TypeNoTarget}
	ErrInvalidValue  = &Error{Status: http.StatusBadRequest, ScimType: TypeInvalidValue}
	ErrNotFound      = &Error{Status: http.StatusNotFound}
	ErrUnauthorized  = &Error{Status: http.StatusUnauthorized}
)

// Errorf returns an *Error with the given status, scimType and formatted detail.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Error returns "scim: <status> <scimType>: <detail>".
func (e *Error) Error() string {
	s := "scim: " + strconv.Itoa(e.Status)
	if e.ScimType != "" {
		s += " " + e.ScimType
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is reports whether target is an *Error of the same kind (see Error).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t.ScimType != "" {
		return e.ScimType == t.ScimType
	}
	return e.Status == t.Status
}

type errorJSON struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// MarshalJSON encodes e as the SCIM error JSON of RFC 7644 §3.12.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorJSON{Schemas: []string{SchemaError}, Status: strconv.Itoa(e.Status), ScimType: e.ScimType, Detail: e.Detail})
}

// UnmarshalJSON decodes the SCIM error JSON; status may be a string or a number.
func (e *Error) UnmarshalJSON(b []byte) error {
	var raw struct {
		Status   json.RawMessage `json:"status"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var s string
	if err := json.Unmarshal(raw.Status, &s); err != nil {
		s = string(raw.Status)
	}
	n, err := strconv.Atoi(s)
	if err != nil && len(raw.Status) > 0 {
		return fmt.Errorf("scim: error status %s is not a number", raw.Status)
	}
	*e = Error{Status: n, ScimType: raw.ScimType, Detail: raw.Detail}
	return nil
}

// ListResponse is the response to a query (RFC 7644 §3.4.2).
type ListResponse struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []Resource `json:"Resources"`
}

// PatchRequest is a PATCH request body (RFC 7644 §3.5.2).
type PatchRequest struct {
	Schemas    []string         `json:"schemas"`
	Operations []PatchOperation `json:"Operations"`
}

// PatchOperation is one operation of a PatchRequest. Op is kept as sent;
// the patch engine matches it case-insensitively.
type PatchOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}
