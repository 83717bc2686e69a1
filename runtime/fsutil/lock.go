package fsutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Holder describes the process holding a lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Purpose string    `json:"purpose"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s (%s, since %s)", h.PID, h.Host, h.Purpose, h.Since.Format(time.RFC3339))
}

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is an exclusive advisory lock (flock) on a lock file. The kernel
// drops it when the process dies, so a crash never leaves a stale lock;
// the file's content only names the holder for error messages. The lock
// belongs to the open file description: a second TryLock on the same file
// fails even within one process.
type Lock struct {
	f *os.File
}

// TryLock takes the lock on path without waiting, creating the file with
// mode 0600 (and setting that mode on an existing one), and writes this
// process into it as the holder. When another holds it, it returns
// ErrLocked and the holder the file names (nil when it names none).
func TryLock(path, purpose string) (*Lock, *Holder, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			var h Holder
			if b, rerr := os.ReadFile(path); rerr == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
				return nil, &h, ErrLocked
			}
			return nil, nil, ErrLocked
		}
		return nil, nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("setting the mode of %s: %w", path, err)
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Purpose: purpose, Since: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f: f}, nil, nil
}

// Release empties the lock file and drops the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
