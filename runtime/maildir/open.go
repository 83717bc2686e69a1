package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OpenMessage opens a message file for reading. When Dovecot renamed it
// since the scan (a flag change, or new/ → cur/), it finds it again by its
// Base in new/ and cur/, and updates m.Subdir, m.Name, m.Flags and
// m.Keywords (through f.Keywords) to the file opened. It returns an error
// wrapping ErrVanished when the message is gone from the folder, and a
// *RefusedError when it (or its folder, new/ or cur/) is not what it must
// be: a symbolic link the mail store does not follow, a FIFO, a device.
// Every level below the account's root is opened without following
// symbolic links, and the file without blocking (see tree), so that
// OpenMessage never reads through a link nor waits on a FIFO.
func (s *Store) OpenMessage(a Account, f *Folder, m *Message) (*os.File, error) {
	dir := filepath.Join(a.Root, f.Dir)
	gone := fmt.Errorf("%s: %w", filepath.Join(dir, m.Subdir, m.Name), ErrVanished)
	t, err := openTree(s.path.fixedDir(), a.Root, s.follow)
	if errors.Is(err, unix.ENOENT) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	defer t.close()
	dfd, err := t.openRel(f.Dir)
	if err != nil {
		return nil, openError(err, dir, gone)
	}
	defer unix.Close(dfd)
	subs := folderSubs{t: t, dfd: dfd, fds: [2]int{-1, -1}}
	defer subs.close()
	file, err := subs.open(m.Subdir, m.Name, dir)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return file, openError(err, filepath.Join(dir, m.Subdir, m.Name), gone)
	}
	// A rename can race with our search: look again a few times.
	for attempt := 0; attempt < 3; attempt++ {
		sub, name, err := subs.findBase(m.Subdir, m.Base)
		if err != nil {
			return nil, openError(err, dir, gone)
		}
		if name == "" {
			break
		}
		file, err = subs.open(sub, name, dir)
		if err == nil {
			_, flags, letters, _ := parseInfo(name)
			m.Subdir, m.Name, m.Flags, m.Keywords = sub, name, flagStrings[flags], keywordNames(f.Keywords, letters)
			return file, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return nil, openError(err, filepath.Join(dir, sub, name), gone)
		}
	}
	return nil, gone
}

// openError is the error OpenMessage returns for err met opening path.
func openError(err error, path string, gone error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		return gone
	case refusedFor(err) != "":
		return &RefusedError{Path: path, Reason: refusedFor(err)}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: "open", Path: path, Err: err}
}

// folderSubs opens the new/ and cur/ of one folder directory (dfd) once.
type folderSubs struct {
	t   *tree
	dfd int
	fds [2]int // new/, cur/; -1 until opened
}

func subIndex(sub string) int {
	if sub == "cur" {
		return 1
	}
	return 0
}

func (d *folderSubs) sub(sub string) (int, error) {
	k := subIndex(sub)
	if d.fds[k] < 0 {
		fd, err := d.t.openDir(d.dfd, sub)
		if err != nil {
			return -1, err
		}
		d.fds[k] = fd
	}
	return d.fds[k], nil
}

func (d *folderSubs) close() {
	for _, fd := range d.fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// open opens a message file in new/ or cur/ as a regular file.
func (d *folderSubs) open(sub, name, dir string) (*os.File, error) {
	if sub != "new" && sub != "cur" {
		return nil, fmt.Errorf("message subdirectory %q: not new or cur", sub)
	}
	sfd, err := d.sub(sub)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	fd, err := d.t.openFile(sfd, name, &st)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, sub, name)), nil
}

// findBase looks for a file with the given base name in new/ and cur/ of
// the folder, the subdir it was last seen in first. It returns "" when
// there is none.
func (d *folderSubs) findBase(first, base string) (sub, name string, err error) {
	order := [2]string{"cur", "new"}
	if first == "new" {
		order = [2]string{"new", "cur"}
	}
	buf := make([]byte, 32<<10)
	for _, sub := range order {
		fd, err := d.sub(sub)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		if _, err := unix.Seek(fd, 0, 0); err != nil {
			return "", "", err
		}
		var found string
		err = readDir(fd, buf, func(b []byte, _ byte) {
			if found != "" || len(b) < len(base) || string(b[:len(base)]) != base {
				return
			}
			if n := string(b); n == base || (n[len(base)] == ':' && baseOf(n) == base) {
				found = n
			}
		})
		if err != nil {
			return "", "", err
		}
		if found != "" {
			return sub, found, nil
		}
	}
	return "", "", nil
}
