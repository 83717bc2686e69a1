package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// PrivateDir takes the group and other permission bits off the directory
// at path (0755 becomes 0700) when it is the caller's own: when ours
// accepts the name of every entry in it. A directory holding anything else
// is shared (an administrator's -state-dir /var/lib, backup_path /opt)
// and is left as it is. It follows a symlink: the path is one the
// administrator chose.
func PrivateDir(path string, ours func(name string) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	for _, n := range names {
		if !ours(n) {
			return nil
		}
	}
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
		keep := fi.Mode() & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if err := f.Chmod(keep | perm&^0o077); err != nil {
			return fmt.Errorf("making %s private: %w", path, err)
		}
	}
	return nil
}
