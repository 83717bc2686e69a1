package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// MaxFileSize bounds a secret file: tokens, passwords and PEM keys are far
// smaller.
const MaxFileSize = 1 << 20

// ReadFile reads a secret file. It refuses a file that is not a regular
// file (without blocking on a FIFO), one larger than MaxFileSize, and one
// whose mode gives its group or others any access: the message names the
// mode and the chmod that fixes it. A symlink is followed: the path is the
// administrator's, and the mode checked is that of the file it names.
func ReadFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s; a secret must be in a regular file", path, fsutil.Kind(fi.Mode()))
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, &ModeError{Path: path, Perm: uint32(perm)}
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s holds %d bytes; a secret file holds at most %d", path, fi.Size(), MaxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%s holds more than %d bytes; a secret file holds at most %d", path, MaxFileSize, MaxFileSize)
	}
	return b, nil
}

// ModeError is a secret file that its group or others may access.
type ModeError struct {
	Path string
	Perm uint32
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("permissions %04o for '%s' are too open: a secret file must be accessible by its owner only; chmod 600 %s", e.Perm, e.Path, e.Path)
}

// IsModeError reports whether err is a *ModeError.
func IsModeError(err error) bool {
	var me *ModeError
	return errors.As(err, &me)
}
