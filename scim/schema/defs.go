package schema

import "github.com/idpkit/idpkit/scim"

// attr builds a readWrite, returned-by-default, non-unique attribute; the
// options adjust it. It keeps the definitions below close to the tables of
// RFC 7643 §8.7.
func attr(name, typ, desc string, opts ...func(*Attribute)) *Attribute {
	a := &Attribute{Name: name, Type: typ, Description: desc, Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: UniqueNone}
	for _, o := range opts {
		o(a)
	}
	return a
}

func multi(a *Attribute)    { a.MultiValued = true }
func required(a *Attribute) { a.Required = true }
func exact(a *Attribute)    { a.CaseExact = true }
func readOnly(a *Attribute) { a.Mutability = ReadOnly }
func immutable(a *Attribute) {
	a.Mutability = Immutable
}

func canonical(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.CanonicalValues = v }
}

func refs(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.ReferenceTypes = v }
}

func subs(s ...*Attribute) func(*Attribute) {
	return func(a *Attribute) { a.SubAttributes = s }
}

// multiSubs are the sub-attributes value, display, type and primary of the
// multi-valued attributes of RFC 7643 §2.4.
func multiSubs(valueType, what string, types ...string) []*Attribute {
	value := attr("value", valueType, what+" for the User.")
	if valueType == TypeReference {
		value.ReferenceTypes = []string{"external"}
	}
	return []*Attribute{
		value,
		attr("display", TypeString, "A human-readable name, primarily used for display purposes."),
		attr("type", TypeString, "A label indicating the attribute's function.", canonical(types...)),
		attr("primary", TypeBoolean, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
	}
}

// User returns the core User schema of RFC 7643 §4.1 and §8.7.1.
func User() *Schema {
	return &Schema{
		ID: scim.SchemaUser, Name: "User", Description: "User Account",
		Attributes: []*Attribute{
			attr("userName", TypeString, "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.", required, func(a *Attribute) { a.Uniqueness = UniqueServer }),
			attr("name", TypeComplex, "The components of the user's real name.", subs(
				attr("formatted", TypeString, "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
				attr("familyName", TypeString, "The family name of the User, or last name in most Western languages."),
				attr("givenName", TypeString, "The given name of the User, or first name in most Western languages."),
				attr("middleName", TypeString, "The middle name(s) of the User."),
				attr("honorificPrefix", TypeString, "The honorific prefix(es) of the User, or title in most Western languages."),
				attr("honorificSuffix", TypeString, "The honorific suffix(es) of the User, or suffix in most Western languages."),
			)),
			attr("displayName", TypeString, "The name of the User, suitable for display to end-users."),
			attr("nickName", TypeString, "The casual way to address the user in real life."),
			attr("profileUrl", TypeReference, "A fully qualified URL pointing to a page representing the User's online profile.", refs("external")),
			attr("title", TypeString, "The user's title, such as \"Vice President\"."),
			attr("userType", TypeString, "Used to identify the relationship between the organization and the user."),
			attr("preferredLanguage", TypeString, "Indicates the User's preferred written or spoken language."),
			attr("locale", TypeString, "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
			attr("timezone", TypeString, "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
			attr("active", TypeBoolean, "A Boolean value indicating the User's administrative status."),
			attr("password", TypeString, "The User's cleartext password.", func(a *Attribute) { a.Mutability = WriteOnly; a.Returned = ReturnedNever }),
			attr("emails", TypeComplex, "Email addresses for the user.", multi, subs(multiSubs(TypeString, "Email addresses", "work", "home", "other")...)),
			attr("phoneNumbers", TypeComplex, "Phone numbers for the User.", multi, subs(multiSubs(TypeString, "Phone number", "work", "home", "mobile", "fax", "pager", "other")...)),
			attr("ims", TypeComplex, "Instant messaging addresses for the User.", multi, subs(multiSubs(TypeString, "Instant messaging address", "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")...)),
			attr("photos", TypeComplex, "URLs of photos of the User.", multi, subs(multiSubs(TypeReference, "URL of a photo", "photo", "thumbnail")...)),
			attr("addresses", TypeComplex, "A physical mailing address for this User.", multi, subs(
				attr("formatted", TypeString, "The full mailing address, formatted for display or use with a mailing label."),
				attr("streetAddress", TypeString, "The full street address component."),
				attr("locality", TypeString, "The city or locality component."),
				attr("region", TypeString, "The state or region component."),
				attr("postalCode", TypeString, "The zip code or postal code component."),
				attr("country", TypeString, "The country name component."),
				attr("type", TypeString, "A label indicating the attribute's function.", canonical("work", "home", "other")),
				attr("primary", TypeBoolean, "A Boolean value indicating the 'primary' or preferred address."),
			)),
			attr("groups", TypeComplex, "A list of groups to which the user belongs.", multi, readOnly, subs(
				attr("value", TypeString, "The identifier of the User's group.", exact, readOnly),
				attr("$ref", TypeReference, "The URI of the corresponding 'Group' resource to which the user belongs.", exact, readOnly, refs("User", "Group")),
				attr("display", TypeString, "A human-readable name, primarily used for display purposes.", readOnly),
				attr("type", TypeString, "A label indicating the attribute's function.", readOnly, canonical("direct", "indirect")),
			)),
			attr("entitlements", TypeComplex, "A list of entitlements for the User.", multi, subs(multiSubs(TypeString, "The value of an entitlement")...)),
			attr("roles", TypeComplex, "A list of roles for the User.", multi, subs(multiSubs(TypeString, "The value of a role")...)),
			attr("x509Certificates", TypeComplex, "A list of certificates issued to the User.", multi, subs(multiSubs(TypeBinary, "The value of an X.509 certificate")...)),
		},
	}
}

// EnterpriseUser returns the Enterprise User extension of RFC 7643 §4.3
// and §8.7.1.
func EnterpriseUser() *Schema {
	return &Schema{
		ID: scim.SchemaEnterpriseUser, Name: "EnterpriseUser", Description: "Enterprise User",
		Attributes: []*Attribute{
			attr("employeeNumber", TypeString, "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
			attr("costCenter", TypeString, "Identifies the name of a cost center."),
			attr("organization", TypeString, "Identifies the name of an organization."),
			attr("division", TypeString, "Identifies the name of a division."),
			attr("department", TypeString, "Identifies the name of a department."),
			attr("manager", TypeComplex, "The User's manager.", subs(
				attr("value", TypeString, "The id of the SCIM resource representing the User's manager.", exact),
				attr("$ref", TypeReference, "The URI of the SCIM resource representing the User's manager.", exact, refs("User")),
				attr("displayName", TypeString, "The displayName of the User's manager.", readOnly),
			)),
		},
	}
}

// Group returns the core Group schema of RFC 7643 §4.2 and §8.7.1.
// displayName is required (RFC 7643 §4.2). members is readWrite; a member's
// value, $ref and type are immutable. A member's value is required: RFC
// 7643 §4.2 lets a service provider require it, and a member without one
// names nobody. display is accepted because Okta and Entra send it.
func Group() *Schema {
	return &Schema{
		ID: scim.SchemaGroup, Name: "Group", Description: "Group",
		Attributes: []*Attribute{
			attr("displayName", TypeString, "A human-readable name for the Group.", required),
			attr("members", TypeComplex, "A list of members of the Group.", multi, subs(
				attr("value", TypeString, "Identifier of the member of this Group.", exact, immutable, required),
				attr("$ref", TypeReference, "The URI corresponding to a SCIM resource that is a member of this Group.", exact, immutable, refs("User", "Group")),
				attr("display", TypeString, "A human-readable name for the member."),
				attr("type", TypeString, "A label indicating the type of resource, e.g., 'User' or 'Group'.", immutable, canonical("User", "Group")),
			)),
		},
	}
}
