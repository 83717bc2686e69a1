package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// UIDListLockFile is Dovecot's lock of a folder's dovecot-uidlist.
const UIDListLockFile = "dovecot-uidlist.lock"

// Timings of Dovecot's dovecot-uidlist.lock protocol.
const (
	// LockStale is the age after which a lock file nobody touches is
	// stale and may be removed (Dovecot's
	// MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT).
	LockStale = 2 * time.Minute
	// DefaultLockTimeout is how long Lock waits by default: long enough
	// for a stale lock to expire.
	DefaultLockTimeout = LockStale + 10*time.Second
)

// lockPoll is how often Lock retries.
const lockPoll = 50 * time.Millisecond

// lockRefresh is how often a held lock file is touched, well within
// LockStale, so that nobody takes a lock held through a long restore for
// stale (Dovecot touches its own dotlocks likewise): Dovecot only spares
// a lock by its pid when it runs on the same host and in the same pid
// namespace, which a containerised agent does not.
const lockRefresh = LockStale / 4

// Lock takes Dovecot's dovecot-uidlist.lock of a folder, in its control
// directory: the lock file is created exclusively (O_EXCL), retried until
// w.LockTimeout, and removed as stale, as Dovecot does, when it is older
// than LockStale or holds "<pid>:<host>" of a process of this host that
// is gone (lockOfDeadProcess: a SIGKILLed agent's own lock is not waited
// on). While it is held Dovecot neither assigns UIDs nor rewrites the
// folder's dovecot-uidlist. Once taken, the temporary files that dead
// writers left in the folder's tmp/ and control directory are removed.
// unlock removes the lock file; it reports an error when the lock was
// taken over meanwhile.
func (w *Writer) Lock(folderDir string) (unlock func() error, err error) {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return nil, fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	ctl, err := w.controlDir(folderDir, false, Owner{}, false)
	if err != nil {
		return nil, err
	}
	path := ctl.join(UIDListLockFile)
	timeout := w.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		f, err := ctl.create(UIDListLockFile, 0o600)
		if err == nil {
			unlock, err := w.locked(f, ctl)
			if err != nil {
				ctl.close()
				return nil, err
			}
			w.removeStaleTemps(folderDir, ctl)
			return unlock, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			ctl.close()
			return nil, err
		}
		if st, err := ctl.lstat(UIDListLockFile); err == nil {
			if st.Mode&unix.S_IFMT != unix.S_IFREG {
				ctl.close()
				return nil, fmt.Errorf("%s is a symbolic link or not a regular file, not a lock: %w", path, ErrSymlink)
			}
			mtime := time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))
			if time.Since(mtime) > LockStale || lockOfDeadProcess(ctl, st) {
				removeIfSame(ctl, st.Ino)
				continue
			}
		}
		if time.Now().After(deadline) {
			ctl.close()
			return nil, fmt.Errorf("%s: timed out after %s waiting for the lock (Dovecot holds it; it counts as stale after %s untouched)", path, timeout, LockStale)
		}
		time.Sleep(lockPoll)
	}
}

// locked finishes taking a lock. The lock file holds "<pid>:<host>" as
// Dovecot's own dotlocks do, so that Dovecot can tell a lock of a dead
// process, and gets the owner of its directory; it is touched every
// lockRefresh until unlocked. The unlock function it returns closes ctl.
func (w *Writer) locked(f *os.File, ctl *dirHandle) (func() error, error) {
	path := f.Name()
	host, _ := os.Hostname()
	stamp := fmt.Sprintf("%d:%s", os.Getpid(), host)
	_, err := f.WriteString(stamp)
	var st unix.Stat_t
	if err == nil {
		err = unix.Fstat(int(f.Fd()), &st)
	}
	ino := st.Ino
	if err == nil {
		var dst unix.Stat_t
		if unix.Fstat(ctl.fd, &dst) == nil && (dst.Uid != st.Uid || dst.Gid != st.Gid) {
			err = f.Chown(int(dst.Uid), int(dst.Gid))
		}
	}
	if err != nil {
		f.Close()
		ctl.remove(UIDListLockFile)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	heldLocks.Store(path, true)
	stop := w.refreshLock(f)
	return func() error {
		defer heldLocks.Delete(path)
		defer ctl.close()
		stop()
		now, err := ctl.lstat(UIDListLockFile)
		if err == nil && now.Ino == ino {
			var data []byte
			if data, err = ctl.readFile(UIDListLockFile, 4096); err == nil && string(data) != stamp {
				err = fmt.Errorf("it holds %q", data)
			}
		} else if err == nil {
			err = fmt.Errorf("another file replaced it")
		}
		if err != nil {
			return fmt.Errorf("%s: the lock was taken over while held (older than %s?): %v", path, LockStale, err)
		}
		return ctl.remove(UIDListLockFile)
	}, nil
}

// refreshLock touches a held lock file (through its descriptor: a file
// that replaced it is not touched) every w.refresh until the function it
// returns is called, which also closes f.
func (w *Writer) refreshLock(f *os.File) (stop func()) {
	every := w.refresh
	if every <= 0 {
		every = lockRefresh
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				unix.Futimes(int(f.Fd()), nil)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		f.Close()
	}
}

// heldLocks are the paths of the dovecot-uidlist.lock files this process
// holds: a lock file with this process's pid that is not among them was
// left by an earlier process with the same pid (lockOfDeadProcess).
var heldLocks sync.Map

// removeStaleTemps removes, once the folder's lock is taken, the
// temporary files that writers which are gone left in its tmp/ and its
// control directory (see tempName).
func (w *Writer) removeStaleTemps(folderDir string, ctl *dirHandle) {
	removeStaleTemps(ctl, false)
	if tmp, err := w.folderDir(filepath.Join(folderDir, "tmp"), false, Owner{}, false); err == nil {
		removeStaleTemps(tmp, true)
		tmp.close()
	}
}

// removeIfSame removes a stale lock file unless it was replaced meanwhile.
func removeIfSame(ctl *dirHandle, ino uint64) {
	if st, err := ctl.lstat(UIDListLockFile); err == nil && st.Ino == ino {
		ctl.remove(UIDListLockFile)
	}
}
