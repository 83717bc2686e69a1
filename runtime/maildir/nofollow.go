package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink is wrapped by the Writer's errors when a directory or file
// it would write through is a symbolic link (or a directory level is not
// a directory): it refuses, rather than let a link planted by the mail
// user make the (root) writer create or change files elsewhere.
var ErrSymlink = errors.New("refusing to write through it")

// dirHandle is a directory the Writer opened level by level with
// O_NOFOLLOW, and the path it stands for (for messages). Every file and
// directory the Writer creates, renames, changes or removes is named
// relative to one (openat, mkdirat, renameat2, unlinkat, fchown), so that
// no symbolic link is followed once the walk is below the part of the
// path the administrator wrote (template.fixedDir).
type dirHandle struct {
	fd   int
	path string
	// base is the trusted directory the walk started from.
	base string
}

// close closes the handle.
func (d *dirHandle) close() { unix.Close(d.fd) }

// join is the path of a name in the directory, for messages.
func (d *dirHandle) join(name string) string { return filepath.Join(d.path, name) }

// openDirBelow opens path, which must lie below the trusted directory
// base, without following a symbolic link below base: base is opened as
// it is (its links are the administrator's), then each level with
// O_NOFOLLOW|O_DIRECTORY relative to the one above. With create, missing
// levels are made (mkdirat) and get o; with applyLast the last level gets
// o even when it existed. A level that is a link or not a directory is
// an error wrapping ErrSymlink.
func openDirBelow(base, path string, create bool, o Owner, applyLast bool) (*dirHandle, error) {
	rel, err := filepath.Rel(base, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s is not below %s", path, base)
	}
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT && create {
		if err = mkdirTrusted(base, o); err == nil {
			fd, err = unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: base, Err: err}
	}
	d := &dirHandle{fd: fd, path: base, base: base}
	if rel == "." {
		if applyLast {
			if err := d.apply(o, true); err != nil {
				d.close()
				return nil, err
			}
		}
		return d, nil
	}
	levels := strings.Split(rel, "/")
	for i, l := range levels {
		next, err := d.sub(l, create, o, applyLast && i == len(levels)-1)
		d.close()
		if err != nil {
			return nil, err
		}
		d = next
	}
	return d, nil
}

// mkdirTrusted creates a missing trusted directory and its missing
// parents (the administrator's part of the path, where links are
// followed); the directories it creates get o.
func mkdirTrusted(path string, o Owner) error {
	parent := filepath.Dir(path)
	if _, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) && parent != path {
		if err := mkdirTrusted(parent, o); err != nil {
			return err
		}
	}
	fd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: parent, Err: err}
	}
	d := &dirHandle{fd: fd, path: parent, base: parent}
	defer d.close()
	sub, err := d.sub(filepath.Base(path), true, o, false)
	if err != nil {
		return err
	}
	sub.close()
	return nil
}

// sub opens a directory of d without following a link; with create it
// makes it when missing and gives it o, with apply it gives it o anyway.
func (d *dirHandle) sub(name string, create bool, o Owner, apply bool) (*dirHandle, error) {
	path := d.join(name)
	made := false
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT && create {
		mode := o.Mode & fs.ModePerm
		if mode == 0 {
			mode = defaultDirMode
		}
		if err = unix.Mkdirat(d.fd, name, uint32(mode)); err != nil && err != unix.EEXIST {
			return nil, &fs.PathError{Op: "mkdir", Path: path, Err: err}
		}
		made = err == nil
		fd, err = unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, d.openError(name, err)
	}
	s := &dirHandle{fd: fd, path: path, base: d.base}
	if made || apply {
		if err := s.apply(o, true); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// openError describes a failed open of a name of d: a link or a
// non-directory is refused with ErrSymlink.
func (d *dirHandle) openError(name string, err error) error {
	path := d.join(name)
	if err != unix.ELOOP && err != unix.ENOTDIR {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return fmt.Errorf("%s is not a directory: %w", path, ErrSymlink)
	}
	return fmt.Errorf("%s is a symbolic link: %w", path, ErrSymlink)
}

// apply gives the directory (or, for files, see applyOwnerFile) its
// owner, group and mode; a zero Owner changes nothing.
func (d *dirHandle) apply(o Owner, isDir bool) error {
	if !o.Known() {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: d.path, Err: err}
	}
	if st.Uid != o.UID || st.Gid != o.GID {
		if err := unix.Fchown(d.fd, int(o.UID), int(o.GID)); err != nil {
			return &fs.PathError{Op: "chown", Path: d.path, Err: err}
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
		if err := unix.Fchmod(d.fd, uint32(unixMode(mode))); err != nil {
			return &fs.PathError{Op: "chmod", Path: d.path, Err: err}
		}
	}
	return nil
}

// unixMode converts a file mode with its special bits to chmod's.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m & fs.ModePerm)
	if m&fs.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
}

// create creates a new file in d (O_EXCL, never through a link) for
// writing.
func (d *dirHandle) create(name string, mode fs.FileMode) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode&fs.ModePerm))
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: d.join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.join(name)), nil
}

// readFile reads a small regular file of d without following a link.
func (d *dirHandle) readFile(name string, limit int64) ([]byte, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	f := os.NewFile(uintptr(fd), d.join(name))
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", d.join(name))
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// lstat stats a name of d without following a link.
func (d *dirHandle) lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// remove removes a file of d.
func (d *dirHandle) remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// names lists the names in d.
func (d *dirHandle) names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	var out []string
	for {
		names, err := f.Readdirnames(4096)
		out = append(out, names...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, &fs.PathError{Op: "readdir", Path: d.path, Err: err}
		}
	}
}

// renameNoReplace renames a file of d to a name of to without replacing
// an existing destination: renameat2(RENAME_NOREPLACE), or link and
// unlink where the filesystem lacks it. An existing destination gives an
// error wrapping fs.ErrExist.
func (d *dirHandle) renameNoReplace(from string, to *dirHandle, name string) error {
	err := unix.Renameat2(d.fd, from, to.fd, name, unix.RENAME_NOREPLACE)
	if err == nil {
		return nil
	}
	if err != unix.EINVAL && err != unix.ENOSYS && err != unix.EOPNOTSUPP {
		return &os.LinkError{Op: "rename", Old: d.join(from), New: to.join(name), Err: err}
	}
	if err := unix.Linkat(d.fd, from, to.fd, name, 0); err != nil {
		return &os.LinkError{Op: "link", Old: d.join(from), New: to.join(name), Err: err}
	}
	return d.remove(from)
}

// rename renames a file of d over a name of d (a link there is replaced,
// never followed).
func (d *dirHandle) rename(from, name string) error {
	if err := unix.Renameat(d.fd, from, d.fd, name); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(from), New: d.join(name), Err: err}
	}
	return nil
}

// sync fsyncs the directory.
func (d *dirHandle) sync() error {
	if err := unix.Fsync(d.fd); err != nil {
		return &fs.PathError{Op: "fsync", Path: d.path, Err: err}
	}
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
