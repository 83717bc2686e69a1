package agent

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// stateLockFile is the lock an agent holds on its state directory for its
// whole life, so that a second agent cannot overwrite its config.
const stateLockFile = "agent.lock"

// isStateFile reports whether name is one of the files the agent keeps in
// its state directory (temporary files included).
func isStateFile(name string) bool {
	return name == stateFile || name == stateLockFile || strings.HasPrefix(name, ".tmp-")
}

// lockStateDir takes the state directory's lock or says who holds it.
func lockStateDir(dir string) (*fsutil.Lock, error) {
	lk, holder, err := fsutil.TryLock(filepath.Join(dir, stateLockFile), "mailkeep agent")
	switch {
	case errors.Is(err, fsutil.ErrLocked) && holder != nil:
		return nil, fmt.Errorf("state directory %s is in use by another agent, %s: run one agent per state directory (-state-dir)", dir, holder)
	case errors.Is(err, fsutil.ErrLocked):
		return nil, fmt.Errorf("state directory %s is in use by another agent: run one agent per state directory (-state-dir)", dir)
	case err != nil:
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	return lk, nil
}
