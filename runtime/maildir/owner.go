package maildir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// known reports whether an Owner carries information (a zero Owner means
// "unknown").
func (o Owner) known() bool { return o != Owner{} }

// fileModeFor is the mode to create a file with.
func fileModeFor(m fs.FileMode) fs.FileMode {
	if m == 0 {
		return defaultFileMode
	}
	return m & fs.ModePerm
}

// dirModeFor derives a directory mode from a file mode: each read bit
// brings its search bit (0600 → 0700, 0640 → 0750).
func dirModeFor(m fs.FileMode) fs.FileMode {
	if m == 0 {
		return 0
	}
	return m | (m&0o444)>>2
}

// fileOwner derives a file's owner from its directory's: same owner and
// group, no search bits.
func fileOwner(o Owner) Owner {
	if !o.known() {
		return o
	}
	o.Mode &^= 0o111 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	return o
}

// applyOwner gives a path its owner, group and mode; a zero Owner changes
// nothing.
func applyOwner(path string, o Owner, isDir bool) error {
	if !o.known() {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	if st.Uid != o.UID || st.Gid != o.GID {
		if err := os.Lchown(path, int(o.UID), int(o.GID)); err != nil {
			return err
		}
	}
	mode := o.Mode
	if mode&fs.ModePerm == 0 {
		mode |= defaultFileMode
		if isDir {
			mode |= defaultDirMode
		}
	}
	if ownerOf(&st) != (Owner{UID: o.UID, GID: o.GID, Mode: mode}) {
		return os.Chmod(path, mode)
	}
	return nil
}

// applyOwnerFile is applyOwner for an open file.
func applyOwnerFile(f *os.File, o Owner) error {
	if !o.known() {
		return nil
	}
	if err := f.Chown(int(o.UID), int(o.GID)); err != nil {
		return err
	}
	mode := o.Mode
	if mode&fs.ModePerm == 0 {
		mode |= defaultFileMode
	}
	return f.Chmod(mode)
}

// mkdirOwned creates a directory if it is missing and gives it o.
func mkdirOwned(path string, o Owner) error {
	mode := o.Mode & fs.ModePerm
	if mode == 0 {
		mode = defaultDirMode
	}
	if err := os.Mkdir(path, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return applyOwner(path, o, true)
}

// mkdirAll creates a directory and its missing parents; only the
// directories it creates get o.
func mkdirAll(path string, o Owner) error {
	path = filepath.Clean(path)
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return &fs.PathError{Op: "mkdir", Path: p, Err: unix.ENOTDIR}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := mkdirOwned(missing[i], o); err != nil {
			return err
		}
	}
	return nil
}
