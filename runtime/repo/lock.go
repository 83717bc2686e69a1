package repo

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// LockFile is the name of the lock file inside a repository.
const LockFile = "lock"

// Holder describes the process holding a repository's lock.
type Holder = fsutil.Holder

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

// lock is the exclusive lock on a repository (see fsutil.Lock).
type lock = fsutil.Lock

// acquireLock takes the repository lock or says who holds it.
func acquireLock(dir, purpose string) (*lock, error) {
	lk, holder, err := fsutil.TryLock(filepath.Join(dir, LockFile), purpose)
	switch {
	case errors.Is(err, fsutil.ErrLocked):
		return nil, &LockedError{Path: dir, Holder: holder}
	case err != nil:
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	return lk, nil
}
