// Command tester is the in-browser SCIM conformance tester compiled to
// WebAssembly (GOOS=js GOARCH=wasm), served at /conform by the app server
// and at / by `idpkit conform --ui`. It reads a default SCIM base URL from
// config.json beside the page (a 404 means none), and on Run sends
// check.Preflight and then check.Select(check.SCIM(), nil, nil), the same
// default selection as `idpkit conform --scim-url`, through net/http (the
// browser's fetch). Results are grouped by label with a filter, each
// failure shows the check's error (request and response) and its RFC
// section, and they download as JSON and JUnit XML (check.WriteJSON,
// check.WriteJUnit). The checks are those of RFC 7643 and RFC 7644.
package main
