package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// LockFile is the name of the lock file inside a repository.
const LockFile = "lock"

// Holder describes the process holding a repository's lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Purpose string    `json:"purpose"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s (%s, since %s)", h.PID, h.Host, h.Purpose, h.Since.Format(time.RFC3339))
}

// LockedError is returned when another process holds the repository.
type LockedError struct {
	Path   string
	Holder *Holder
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("repository %s is locked by another process", e.Path)
	}
	return fmt.Sprintf("repository %s is locked by %s", e.Path, e.Holder)
}

// lock is an exclusive advisory lock (flock) on a repository. The kernel
// drops it when the process dies, so a crash never leaves a stale lock;
// the file's content only names the holder for error messages.
type lock struct {
	f *os.File
}

// acquireLock takes the repository lock or says who holds it.
func acquireLock(dir, purpose string) (*lock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("repository %s: opening lock: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			var h Holder
			if b, rerr := os.ReadFile(path); rerr == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
				return nil, &LockedError{Path: dir, Holder: &h}
			}
			return nil, &LockedError{Path: dir}
		}
		return nil, fmt.Errorf("repository %s: locking: %w", dir, err)
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Purpose: purpose, Since: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &lock{f: f}, nil
}

// release drops the lock.
func (l *lock) release() error {
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
