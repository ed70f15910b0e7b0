package check

// protocol returned the first RFC 7644 checks (rfc-discovery,
// rfc-content-type, rfc-bad-json, rfc-invalid-filter,
// rfc-filter-precedence, rfc-paging). They now live, split one rule per
// check, in the area files: schema-discovery-config, media-accepted,
// media-bad-json, filter-invalid-syntax/-operator/-attribute,
// filter-precedence and the paging-… checks.
func protocol() []Check {
	return nil
}
