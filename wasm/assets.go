// Package wasm holds the static files of the "Connect Okta" dialog, built
// from wasm/dialog (GOOS=js GOARCH=wasm) by `make wasm`: connect-okta.html,
// dialog.js, dialog.css, wasm_exec.js and dialog.wasm. The admin handler
// serves connect-okta.html at /t/{tenant}/admin/connect-okta and every file
// at /t/{tenant}/admin/assets/{file}; the page loads the rest with URLs
// relative to itself (assets/…).
package wasm

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Assets is the dialog's files at the root of the file system
// (connect-okta.html, dialog.wasm, …). It is read-only and safe for
// concurrent use; callers must not reassign it.
var Assets fs.FS = sub(dist, "dist")

// Page is the name of the dialog's HTML page in Assets.
const Page = "connect-okta.html"

// sub is fs.Sub for a constant, valid directory name, for which it cannot
// fail; the fallback keeps initialisation free of panics all the same.
func sub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		return f
	}
	return s
}
