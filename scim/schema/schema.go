// Package schema holds idpkit's SCIM attribute definitions and the rules
// that give decoded JSON resources their meaning.
//
// It implements RFC 7643 §2 (attribute characteristics and data types),
// §3.1 (the common attributes id, externalId and meta), §4.1 (User), §4.2
// (Group), §4.3 (the Enterprise User extension), §6 and §7 (the
// ResourceType and Schema representations) and the schema definitions of
// §8.7. Resolution of attribute names is case-insensitive (RFC 7643 §2.1).
//
// Normalize is strict about data types (§2.3): a value of the wrong type
// is 400 invalidValue, never coerced, except a boolean sent as the string
// "true" or "false" in any case, as Okta and Entra do. An attribute with
// canonical values (§2.4, e.g. emails.type) takes only those, compared
// case-insensitively and stored in their canonical spelling. A required
// string of white space only counts as missing. A dateTime may write "t"
// and "z" in lower case (RFC 3339 §5.6) and is stored in upper case.
package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// Attribute data types of RFC 7643 §2.3.
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeDecimal   = "decimal"
	TypeInteger   = "integer"
	TypeDateTime  = "dateTime"
	TypeReference = "reference"
	TypeComplex   = "complex"
	TypeBinary    = "binary"
)

// Mutability values of RFC 7643 §7.
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"
)

// Returned values of RFC 7643 §7.
const (
	ReturnedAlways  = "always"
	ReturnedNever   = "never"
	ReturnedDefault = "default"
	ReturnedRequest = "request"
)

// Uniqueness values of RFC 7643 §7.
const (
	UniqueNone   = "none"
	UniqueServer = "server"
	UniqueGlobal = "global"
)

// ErrUnknownAttribute is returned (wrapped) when a name does not resolve to
// an attribute of a resource type. Callers map it to the protocol error that
// fits: invalidFilter for filters, invalidPath for PATCH paths.
var ErrUnknownAttribute = errors.New("schema: unknown attribute")

// Attribute is one attribute definition (RFC 7643 §7, "attributes").
type Attribute struct {
	Name            string
	Description     string
	Type            string // one of the Type constants
	MultiValued     bool
	Required        bool
	CaseExact       bool
	Mutability      string // ReadOnly, ReadWrite, Immutable or WriteOnly
	Returned        string // ReturnedAlways, ReturnedNever, ReturnedDefault or ReturnedRequest
	Uniqueness      string // UniqueNone, UniqueServer or UniqueGlobal
	CanonicalValues []string
	ReferenceTypes  []string
	SubAttributes   []*Attribute
}

// Sub returns the sub-attribute called name, compared case-insensitively,
// or nil.
func (a *Attribute) Sub(name string) *Attribute {
	if a == nil {
		return nil
	}
	return find(a.SubAttributes, name)
}

// Schema is a schema definition (RFC 7643 §7).
type Schema struct {
	ID          string // the schema URN
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attribute returns the top-level attribute called name, compared
// case-insensitively, or nil.
func (s *Schema) Attribute(name string) *Attribute {
	if s == nil {
		return nil
	}
	return find(s.Attributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// SplitPath splits an attribute path as written in a filter, a PATCH path
// or a PATCH value key (RFC 7644 §3.10) into its schema URN, attribute name
// and sub-attribute name. The URN is "" when the path is not qualified.
//
//	"name.givenName" → ("", "name", "givenName")
//	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
//	  → ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value")
//
// A path that is exactly a schema URN, such as the enterprise extension's,
// splits into the URN minus its last segment and that segment as name; use
// IsSchemaURN first to tell those apart.
func SplitPath(path string) (urn, name, sub string) {
	rest := path
	if len(path) >= 4 && strings.EqualFold(path[:4], "urn:") {
		i := strings.LastIndexByte(path, ':')
		urn, rest = path[:i], path[i+1:]
	}
	name, sub, _ = strings.Cut(rest, ".")
	return urn, name, sub
}

// common are the attributes of RFC 7643 §3.1 that every resource has and
// that belong to no schema.
func common() []*Attribute {
	return []*Attribute{
		{Name: "id", Description: "A unique identifier for a SCIM resource as defined by the service provider.", Type: TypeString, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedAlways, Uniqueness: UniqueServer},
		{Name: "externalId", Description: "A String that is an identifier for the resource as defined by the provisioning client.", Type: TypeString, CaseExact: true, Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: UniqueNone},
		{Name: "meta", Description: "A complex attribute containing resource metadata.", Type: TypeComplex, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone, SubAttributes: []*Attribute{
			{Name: "resourceType", Description: "The name of the resource type of the resource.", Type: TypeString, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone},
			{Name: "created", Description: "The DateTime that the resource was added to the service provider.", Type: TypeDateTime, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone},
			{Name: "lastModified", Description: "The most recent DateTime that the details of this resource were updated at the service provider.", Type: TypeDateTime, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone},
			{Name: "location", Description: "The URI of the resource being returned.", Type: TypeReference, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone, ReferenceTypes: []string{"uri"}},
			{Name: "version", Description: "The version of the resource being returned.", Type: TypeString, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone},
		}},
	}
}

// Common returns fresh definitions of the common attributes id, externalId
// and meta (RFC 7643 §3.1), which every resource type has.
func Common() []*Attribute { return common() }

// Extension is a schema extension of a resource type (RFC 7643 §6,
// "schemaExtensions").
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a resource type (RFC 7643 §6): its core schema and
// extensions.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension

	common []*Attribute
}

// UserType returns the User resource type: the core User schema and the
// optional Enterprise User extension.
func UserType() *ResourceType {
	return &ResourceType{
		ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account",
		Schema:     User(),
		Extensions: []Extension{{Schema: EnterpriseUser()}},
		common:     common(),
	}
}

// GroupType returns the Group resource type.
func GroupType() *ResourceType {
	return &ResourceType{
		ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Group",
		Schema: Group(),
		common: common(),
	}
}

// Schemas returns the schemas idpkit serves at /Schemas: User, Enterprise
// User and Group.
func Schemas() []*Schema { return []*Schema{User(), EnterpriseUser(), Group()} }

// commonAttrs never writes rt: a ResourceType is shared by concurrent
// requests.
func (rt *ResourceType) commonAttrs() []*Attribute {
	if rt.common == nil {
		return common()
	}
	return rt.common
}

// SchemaFor returns the core schema or the extension whose URN equals urn
// (case-insensitively), or nil.
func (rt *ResourceType) SchemaFor(urn string) *Schema {
	if rt == nil || rt.Schema == nil {
		return nil
	}
	if strings.EqualFold(urn, rt.Schema.ID) {
		return rt.Schema
	}
	for _, e := range rt.Extensions {
		if e.Schema != nil && strings.EqualFold(urn, e.Schema.ID) {
			return e.Schema
		}
	}
	return nil
}

// IsExtension reports whether urn names one of rt's extension schemas.
func (rt *ResourceType) IsExtension(urn string) bool {
	s := rt.SchemaFor(urn)
	return s != nil && s != rt.Schema
}

// IsSchemaURN reports whether path is exactly the URN of rt's core schema or
// one of its extensions (compared case-insensitively).
func (rt *ResourceType) IsSchemaURN(path string) bool { return rt.SchemaFor(path) != nil }

// Resolved is an attribute path resolved against a resource type.
type Resolved struct {
	Schema *Schema    // the schema holding Attr; nil for the common attributes
	Attr   *Attribute // the top-level attribute
	Sub    *Attribute // the sub-attribute, or nil when the path names none
}

// Extension reports whether the attribute lives in an extension schema, and
// so under the resource's key of that schema's URN.
func (r Resolved) Extension(rt *ResourceType) bool {
	return r.Schema != nil && rt != nil && r.Schema != rt.Schema
}

// Leaf returns Sub when set, else Attr.
func (r Resolved) Leaf() *Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// Resolve resolves urn, name and sub (see SplitPath) case-insensitively.
// An empty urn looks in the common attributes, then the core schema, then
// the extensions in order; otherwise urn must name the core schema or an
// extension. An empty sub resolves the attribute itself. Errors wrap
// ErrUnknownAttribute.
func (rt *ResourceType) Resolve(urn, name, sub string) (Resolved, error) {
	if rt == nil || rt.Schema == nil {
		return Resolved{}, fmt.Errorf("%w %q: no resource type", ErrUnknownAttribute, name)
	}
	var res Resolved
	if urn == "" {
		if a := find(rt.commonAttrs(), name); a != nil {
			res = Resolved{Attr: a}
		} else if a := rt.Schema.Attribute(name); a != nil {
			res = Resolved{Schema: rt.Schema, Attr: a}
		} else {
			for _, e := range rt.Extensions {
				if a := e.Schema.Attribute(name); a != nil {
					res = Resolved{Schema: e.Schema, Attr: a}
					break
				}
			}
		}
	} else {
		s := rt.SchemaFor(urn)
		if s == nil {
			return Resolved{}, fmt.Errorf("%w: unknown schema %q", ErrUnknownAttribute, urn)
		}
		if a := s.Attribute(name); a != nil {
			res = Resolved{Schema: s, Attr: a}
		} else if s == rt.Schema {
			if a := find(rt.commonAttrs(), name); a != nil {
				res = Resolved{Attr: a}
			}
		}
	}
	if res.Attr == nil {
		return Resolved{}, fmt.Errorf("%w %q", ErrUnknownAttribute, name)
	}
	if sub != "" {
		res.Sub = res.Attr.Sub(sub)
		if res.Sub == nil {
			return Resolved{}, fmt.Errorf("%w %q", ErrUnknownAttribute, res.Attr.Name+"."+sub)
		}
	}
	return res, nil
}

// Lookup resolves urn, name and sub like Resolve and returns the attribute
// named: the sub-attribute when sub is not empty. Errors wrap
// ErrUnknownAttribute.
func (rt *ResourceType) Lookup(urn, name, sub string) (*Attribute, error) {
	res, err := rt.Resolve(urn, name, sub)
	if err != nil {
		return nil, err
	}
	return res.Leaf(), nil
}

// invalidValue builds the protocol error for a value that does not fit its
// attribute.
func invalidValue(format string, args ...any) *scim.Error {
	return scim.Errorf(400, scim.TypeInvalidValue, "schema: "+format, args...)
}
