package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// OpenMessage opens a message file for reading. When Dovecot renamed it
// since the scan (a flag change, or new/ → cur/), it finds it again by its
// Base in new/ and cur/, and updates m.Subdir, m.Name, m.Flags and
// m.Keywords (through f.Keywords) to the file opened. It returns an error
// wrapping ErrVanished when the message is gone from the folder.
func (s *Store) OpenMessage(a Account, f *Folder, m *Message) (*os.File, error) {
	dir := filepath.Join(a.Root, f.Dir)
	file, err := openRegular(filepath.Join(dir, m.Subdir, m.Name))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return file, err
	}
	// A rename can race with our search: look again a few times.
	for attempt := 0; attempt < 3; attempt++ {
		sub, name, err := findBase(dir, m.Subdir, m.Base)
		if err != nil {
			return nil, err
		}
		if name == "" {
			break
		}
		file, err = openRegular(filepath.Join(dir, sub, name))
		if err == nil {
			_, flags, letters, _ := parseInfo(name)
			m.Subdir, m.Name, m.Flags, m.Keywords = sub, name, flagStrings[flags], keywordNames(f.Keywords, letters)
			return file, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: %w", filepath.Join(dir, m.Subdir, m.Name), ErrVanished)
}

// openRegular opens a file for reading without following a symbolic link
// and without updating its access time where permitted (O_NOATIME needs
// the file's owner or root), and checks that it is a regular file.
func openRegular(path string) (*os.File, error) {
	file, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NOATIME, 0)
	if errors.Is(err, fs.ErrPermission) {
		file, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// findBase looks for a file with the given base name in new/ and cur/ of a
// folder directory, the subdir it was last seen in first. It returns ""
// when there is none.
func findBase(dir, first, base string) (sub, name string, err error) {
	order := [2]string{"cur", "new"}
	if first == "new" {
		order = [2]string{"new", "cur"}
	}
	for _, sub := range order {
		d, err := os.Open(filepath.Join(dir, sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return "", "", err
		}
		for {
			names, err := d.Readdirnames(1024)
			for _, n := range names {
				if n == base || (strings.HasPrefix(n, base) && n[len(base)] == ':' && baseOf(n) == base) {
					d.Close()
					return sub, n, nil
				}
			}
			if err != nil {
				break
			}
		}
		d.Close()
	}
	return "", "", nil
}
