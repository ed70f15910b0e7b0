// Command dialog is the "Connect Okta" dialog compiled to WebAssembly
// (GOOS=js GOARCH=wasm). It is only syscall/js glue: it finds the tenant in
// location.pathname, puts connect.Markup into #app, applies the Set updates
// of a connect.Dialog to the DOM and forwards clicks, form submission and
// the clipboard's answers. It polls the activity every second and the audit
// trail every 5 seconds while the page is visible (and at once when it
// gets the focus), until the admin signs out, and opens the test
// sign-in's popup with window.open inside the click, as popup blockers
// require. Lists are built with createElement and textContent, never
// innerHTML. The admin API is reached through net/http, which
// uses the browser's fetch and so sends the admin session cookie.
package main
