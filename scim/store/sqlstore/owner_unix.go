//go:build unix

package sqlstore

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// sameOwner gives path the owner and group of like, the file it replaces.
// Only root (or the owner itself, for its own groups) may; anyone else
// is told which user to run as.
func sameOwner(path string, like fs.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("the target belongs to user %d, group %d, and this user cannot give the restored file that owner: run restore as that user or as root: %w", st.Uid, st.Gid, err)
	}
	return nil
}
