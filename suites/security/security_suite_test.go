// Package security_test is the security suite: it attacks idpkit's app
// server (scim/app behind the serve command's middleware and timeouts, on
// a real listener, with a mock Okta for sign-in) on SQLite and on
// PostgreSQL, and asserts each refusal and that the stored data (every
// tenant's row, users, groups and members, read through the store) is
// exactly as before the attempt.
//
//	go test ./suites/security
//	IDPKIT_TEST_POSTGRES=postgres://… go test ./suites/security
//
// PostgreSQL comes from IDPKIT_TEST_POSTGRES (scim/store/sqlstore/pgtest);
// without a reachable server the suite fails (it never skips).
//
// Attacks, what is asserted, and the outcome on both backends (Dec 2026):
//
//	attack                                             refusal asserted                                              outcome
//	-------------------------------------------------  ------------------------------------------------------------  -------
//	tenant A's token (and no token) on tenant B's      401 + WWW-Authenticate for GET/POST/PUT/PATCH/DELETE ×        refused
//	  every SCIM route                                   Users, Users/{id}, Groups, Groups/{id}, Users/.search,
//	                                                     Groups/.search, /.search, Bulk, ServiceProviderConfig,
//	                                                     ResourceTypes(/User), Schemas(/{id}), Me, /, unknown;
//	                                                     no B data in any body
//	SQL injection in filters: eq ne co sw ew gt ge lt  200 with only the tenant's own ids (0 rows for eq/co/sw/ew,   refused
//	  le, pr, and/or/not, value paths emails[…],         id, value paths) or 400; never 5xx; GET and POST .search;
//	  members[…], in values and attribute names          tables intact
//	SQL injection in sortBy, sortOrder, attributes,    200 (own ids only) or 400                                     refused
//	  excludedAttributes, startIndex, count
//	SQL injection in PATCH paths (add/replace/remove)  400                                                           refused
//	  and in ids (GET/PUT/PATCH/DELETE)                  400/404
//	ids: .., ../Groups, ..%2f, %2e%2e, %00, a%00b,     400/404/405, or the mux's 307 that stays under               refused
//	  unicode, RTL override, fullwidth dots, %ff, 10 KB  /t/acme/scim/v2; a ../ out to tenant B redirects there
//	                                                     and A's token is refused (401)
//	CRLF (%0d%0a) in path, query, tenant, admin link,  no injected header line (Set-Cookie, X-Injected), no CR/LF   refused
//	  and in userName/externalId/id of a created user    in any header value; Location is PublicURL + server id
//	open redirect: return_to, returnTo, next,          every Location is on the app's origin or the configured      refused
//	  redirect(_uri), url, continue, target, RelayState, Okta (whose redirect_uri is the tenant's callback); no
//	  post_logout_redirect_uri, state, return on login,  meta-refresh/JS redirect to the target; mux path-cleaning
//	  logout, me, admin link, test sign-in, callback     redirects (//evil, /\evil) stay on the origin
//	CSRF on POST admin/api/secret and admin/api/oidc:  403; secret unchanged                                         refused
//	  no / wrong / case-changed X-Idpkit-Csrf, cross-
//	  site Origin or Sec-Fetch-Site without the header
//	CSRF: cross-site Origin (evil, "null") or          403                                                           refused
//	  Sec-Fetch-Site: cross-site WITH the right header
//	cross-site sign-out (Origin, Sec-Fetch-Site)       403 and the session still works                               refused
//	session fixation: planted idpkit_session,          new cookie values after sign-in / admin link; the planted     refused
//	  idpkit_login, idpkit_admin                         session is not signed in; sign-out ends it on the server
//	cookies on an https PublicURL (login, admin link,  every cookie Secure and HttpOnly; also via a trusted proxy's  refused
//	  logout) and behind X-Forwarded-Proto: https        X-Forwarded-Proto; HSTS sent
//	20 MiB body (Users, Bulk), 100k-deep JSON (Users,  400/413; 414/431/400 for the huge GET filter; 400 for 10k     refused
//	  Bulk, .search, PATCH), 1 MB filter (GET, .search), nested parentheses
//	  10k nested parentheses
//	slow headers (trickled, one byte a second)         connection closed after ReadHeaderTimeout (10 s), no 200     refused
//	token comparison timing                            scim/secret.Equal uses subtle.ConstantTimeCompare and        holds
//	                                                     wire.go uses secret.Equal; right, wrong, other tenant's
//	                                                     and unknown-tenant tokens make the same store calls
//	                                                     (one GetTenant) before any resource read
//	many wrong tokens: one address (X-Forwarded-For    429 + Retry-After + SCIM error body; the right token from     refused
//	  via trusted proxy), one tenant from many addresses another address still gets 200
//
// Every row (but the timing source check) is run inside a snapshot of
// every tenant's row, users, groups and members, which must be equal
// after the attempt.
//
// The audit trail each attack leaves, asserted on both backends (records
// read after the writer's Flush; "×N" is a count, not rows: refusals
// that can be repeated at will are summarised, the first at once, then
// one record a minute per kind and source carrying the count):
//
//	attack                                             audit records asserted
//	-------------------------------------------------  ------------------------------------------------------------------
//	tenant A's token (and no token) on tenant B's      B: scim auth-refused counting every request, reads included (85),
//	  (summarised: at most two rows per kind)            no actor,
//	  every SCIM route                                   target the endpoint (User, Group, Bulk, .search, Schemas, …,
//	                                                     never the id), detail {method, reason: wrong-token | no-token},
//	                                                     outcome 401; A: none
//	SQL injection in filters, sortBy, sortOrder,       none: authenticated reads and searches change nothing, whether
//	  attributes, paging (GET and POST .search)          answered 200 or 400 (an access log is not the audit's job)
//	SQL injection in PATCH paths and in ids            one scim patch/replace/delete per write, actor current:<token id>,
//	  (PUT/PATCH/DELETE)                                 target User/<id as sent>, outcome 400/404 (GETs: none)
//	ids with traversal and odd characters              one record per write the handlers answered (none for the mux's
//	                                                     307), target escaped (%00, %0D) and ≤128 bytes; the ../ to
//	                                                     tenant B: B's auth-refused
//	CRLF in path, query, tenant, admin link, user      no CR, LF or NUL in any field; the created user's create 201 and
//	                                                     delete 204 name it by id only
//	open redirects on login, logout, me, admin link,   admin admin-link refused (invalid-link) and signin state-refused
//	  test sign-in, callback                             (no-state, unknown-state for state=…) per attempt (91 each), the
//	                                                     used link's admin-link ok; login, logout, me: none
//	CSRF on admin POSTs (no, wrong, case-changed       admin admin-refused, target admin/api/secret or admin/api/oidc,
//	  header; cross-site; no session)                    reason csrf (×4 per route), cross-site (×2), no-session (401);
//	                                                     at most two rows per kind; then secret-rotated ok
//	cross-site admin POST with the right header        admin-refused cross-site ×3 per route
//	session fixation, cross-site sign-out              signin signed-in (actor the Okta sub, target User/<id>), admin-link
//	                                                     ok; signin signout-refused cross-site, outcome 403 (×2)
//	cookie flags                                       not asserted (no attack: an admin link's ok record)
//	oversized, deep, huge                              the refused writes: create, bulk, patch with outcome 400/413 and no
//	                                                     detail; reads and searches: none
//	slow headers                                       none: no request reaches the app
//	token comparison                                   B: auth-refused wrong-token ×2 (A's token, "x"); unknown tenant: none
//	many wrong tokens                                  auth-refused per 401; the 429s (a flood of 200 from one address, the
//	                                                     tenant's budget) scim rate-limited, outcome 429, ≤2 rows each
//	every record of the run                            identifiers only: no SCIM token (current or rotated), admin-link
//	                                                     token, CSRF value, password, userName, email or externalId
package security_test

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// backend is one store the suite runs on.
type backend struct{ name, dsn string }

var backends []backend

func TestSecurity(t *testing.T) {
	backends = []backend{
		{"SQLite", "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")},
		{"PostgreSQL", pgtest.Schema(t, "idpkit_security_", false)},
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Security")
}

var _ = Describe("security", func() {
	for _, b := range backendsAtBuild() {
		Describe(b.name, Ordered, ContinueOnFailure, func() {
			var e *env
			BeforeAll(func() {
				var err error
				e, err = startEnv(context.Background(), b.dsn)
				DeferCleanup(func() {
					if e != nil {
						e.close()
					}
				})
				Expect(err).NotTo(HaveOccurred())
			})
			attacks(func() *env { return e }, b.name == "SQLite")
		})
	}
})

// backendsAtBuild returns the backends when Ginkgo builds the tree (inside
// RunSpecs, after TestSecurity set them).
func backendsAtBuild() []backend { return backends }
