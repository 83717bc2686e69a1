package maildir

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// CheckNoSymlinks checks that a folder's directories below the account's
// Maildir root (each level of folderDir, its cur/, new/ and tmp/, and its
// control directory with CONTROL=) are real directories and not symbolic
// links, opening each level with O_NOFOLLOW from the one above; levels
// that do not exist (yet) end the check of their path. Call it before
// Folder, so that Folder does not create or chmod anything through a
// link, and again before writing into a folder of a directory tree the
// mail user controls, so that a link planted there cannot make the
// (root) writer create files elsewhere.
func (w *Writer) CheckNoSymlinks(folderDir string) error {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	var levels []string
	if folderDir != "" {
		levels = strings.Split(folderDir, "/")
	}
	for _, sub := range [3]string{"cur", "new", "tmp"} {
		if err := checkLevels(w.a.Root, append(levels, sub)); err != nil {
			return err
		}
	}
	if w.s.control != nil {
		ctl := w.s.ControlDir(w.a, folderDir)
		rel, err := filepath.Rel(w.a.Control, ctl)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("control directory %s is outside %s", ctl, w.a.Control)
		}
		if rel != "." {
			if err := checkLevels(w.a.Control, strings.Split(rel, "/")); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLevels opens root, then each level below it with O_NOFOLLOW and
// O_DIRECTORY relative to the previous one, up to the first that does not
// exist.
func checkLevels(root string, levels []string) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", root, err)
	}
	path := root
	for _, l := range levels {
		path = filepath.Join(path, l)
		next, err := unix.Openat(fd, l, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err == unix.ENOENT {
			return nil
		}
		if err == unix.ELOOP || err == unix.ENOTDIR {
			return fmt.Errorf("%s is a symbolic link or not a directory: refusing to write through it", path)
		}
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		fd = next
	}
	unix.Close(fd)
	return nil
}

// NewBase returns a fresh Maildir unique name for a message written under
// a new identity (Dovecot then gives it a new UID), keeping the ",S=" and
// ",W=" fields of the base name it had, if any.
func NewBase(old string) string {
	base := uniqueName()
	if i := strings.IndexByte(old, ','); i >= 0 {
		for _, f := range strings.Split(old[i+1:], ",") {
			if strings.HasPrefix(f, "S=") || strings.HasPrefix(f, "W=") {
				base += "," + f
			}
		}
	}
	return base
}
