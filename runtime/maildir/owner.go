package maildir

import (
	"io/fs"
	"os"
)

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
	if !o.Known() {
		return o
	}
	o.Mode &^= 0o111 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	return o
}

// applyOwnerFile gives an open file its owner, group and mode; a zero
// Owner changes nothing.
func applyOwnerFile(f *os.File, o Owner) error {
	if !o.Known() {
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
