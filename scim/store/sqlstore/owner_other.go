//go:build !unix

package sqlstore

import "io/fs"

// sameOwner is a no-op where files have no Unix owner.
func sameOwner(string, fs.FileInfo) error { return nil }
