// Package interop tests idpkit against OpenID Certified peers from the npm
// registry, at the versions pinned in testdata/interop/package-lock.json:
//
//   - panva's openid-client (a certified relying party library) signs in to
//     the mock Okta of package mockidp with the Authorization Code Flow and
//     PKCE (OpenID Connect Core 1.0 §3.1, RFC 7636 §4), on the org
//     authorization server and on the "default" custom server, then
//     refreshes (RFC 6749 §6), reads UserInfo (Core §5.3, whose sub must
//     equal the ID token's) and logs out (RP-Initiated Logout 1.0 §2–§3);
//   - idpkit's own relying party (scim/login) signs a SCIM-provisioned user
//     in against panva's oidc-provider (a certified OpenID provider), and
//     refuses an account that was never provisioned.
//
// The tests run Node.js scripts from testdata/interop (rp.mjs, op.mjs). The
// packages are installed with `npm ci --ignore-scripts` into a cache
// directory outside the repository, named after the hash of package.json
// and package-lock.json and reused by later runs; the work tree never gets a
// node_modules. A missing or too old node or npm fails the tests with what
// to install (Debian: apt-get install nodejs npm); they never skip.
//
// The package has no code outside its tests.
package interop
