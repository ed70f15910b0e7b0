package check

// needs names, per check, what the check needs the target to declare of
// itself: a feature that /ServiceProviderConfig may declare unsupported
// (RFC 7643 §5), or attributes outside the core subset every server has
// (RFC 7643 §4.1, §4.3 — title, locale, the enterprise extension) when
// the check's rule is about them. A check whose need the target declares unsupported is
// skipped with the reason; a declaration that cannot be read counts as
// support, so the check runs and fails rather than passing unseen.
//
// The core subset the checks may use freely: userName, externalId, name
// (givenName, familyName), displayName, emails, active, and groups and
// members.
func needs() map[string][]gate {
	etag := needFeature("etag")
	sort := needFeature("sort")
	title := needAttrs(schemaUser, "title")
	return map[string][]gate{
		"etag-header":                {etag},
		"etag-if-match-stale-put":    {etag},
		"etag-if-match-stale-patch":  {etag},
		"etag-if-match-stale-delete": {etag},
		"etag-if-match-any":          {etag},
		"etag-weak-forms":            {etag},
		"etag-if-match-current":      {etag},
		"etag-if-none-match":         {etag},
		"bulk-version-412":           {needFeature("bulk"), etag},

		"paging-sort-ascending":     {sort},
		"paging-sort-descending":    {sort},
		"paging-sort-sub-attribute": {sort},

		"filter-urn-attribute":           {needEnterprise("department")},
		"paging-attributes-urn":          {needEnterprise("department", "employeeNumber")},
		"patch-pathless-attribute-paths": {needEnterprise("department", "employeeNumber")},
		"entra-pathless-replace":         {needEnterprise("department", "employeeNumber")},
		// Okta's own bodies carry title, locale and the enterprise
		// attributes: these checks test those bodies as Okta sends them.
		"okta-profile-put":      {title},
		"okta-create-user-body": {needAttrs(schemaUser, "title", "locale"), needEnterprise("department", "employeeNumber")},
	}
}

// withNeeds wraps the Run of each check that has needs with its gates.
func withNeeds(checks []Check) []Check {
	n := needs()
	for i, c := range checks {
		if gs := n[c.ID]; len(gs) > 0 {
			checks[i].Run = gated(c.Run, gs...)
		}
	}
	return checks
}
