// Package wasm holds the static files of the "Connect Okta" dialog, built
// from wasm/dialog (GOOS=js GOARCH=wasm) by `make wasm`: connect-okta.html,
// start.js, dialog.css, wasm_exec.js and dialog.wasm. The admin handler
// serves connect-okta.html at /t/{tenant}/admin/connect-okta and every file
// at /t/{tenant}/admin/assets/{file}; the page loads the rest with URLs
// relative to itself (assets/…).
//
// It also holds the SCIM conformance tester page (Tester), built from
// wasm/tester: conform.html, start.js, tester.css, tester.wasm and the same
// wasm_exec.js. The app server serves it at /conform/ and `idpkit conform
// --ui` at /; the page loads the rest, and config.json, relative to itself.
package wasm

import (
	"embed"
	"io/fs"
	"slices"
)

//go:embed dist
var dist embed.FS

// Assets is the dialog's files at the root of the file system
// (connect-okta.html, dialog.wasm, …). It is read-only and safe for
// concurrent use; callers must not reassign it.
var Assets fs.FS = only(sub(dist, "dist"), "connect-okta.html", "dialog.css", "start.js", "dialog.wasm", "wasm_exec.js")

// Tester is the tester page's files at the root of the file system
// (conform.html, tester.wasm, start.js, tester.css, wasm_exec.js). It is
// read-only and safe for concurrent use; callers must not reassign it.
var Tester fs.FS = only(sub(dist, "dist"), TesterPage, "tester.css", "start.js", "tester.wasm", "wasm_exec.js")

// TesterPage is the name of the tester's HTML page in Tester.
const TesterPage = "conform.html"

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

// subset is a flat file system that shows only the named files of its
// parent: the dialog and the tester share one embedded folder.
type subset struct {
	fsys  fs.FS
	names []string
}

// only returns the files names of fsys's root as a file system.
func only(fsys fs.FS, names ...string) fs.FS { return subset{fsys, names} }

// Open opens the root or one of the names.
func (s subset) Open(name string) (fs.File, error) {
	if name != "." && !slices.Contains(s.names, name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return s.fsys.Open(name)
}

// ReadDir lists the root's named files.
func (s subset) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	all, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(e fs.DirEntry) bool { return !slices.Contains(s.names, e.Name()) }), nil
}
