package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// PrivateDir takes the group and other permission bits off the directory
// at path (0755 becomes 0700). It follows a symlink: the path is one the
// administrator chose (backup_path, -state-dir).
func PrivateDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	defer f.Close()
	return restrict(f, path)
}

// PrivateFile takes the group and other permission bits off the file at
// path (0644 becomes 0600), never following a symlink and never blocking
// on a special file. A missing file is not an error.
func PrivateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	defer f.Close()
	return restrict(f, path)
}

func restrict(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(perm &^ 0o077); err != nil {
			return fmt.Errorf("making %s private: %w", path, err)
		}
	}
	return nil
}
