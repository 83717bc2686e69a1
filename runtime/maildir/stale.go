package maildir

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The Writer's temporary files are named so that a later Writer can tell
// its own leftovers from anybody else's files:
//
//	tmp/mailkeep-<pid>-<instance>-<seq>.<host>             (a message being staged)
//	dovecot-uidlist.mailkeep-<pid>-<instance>-<seq>.<host> (a metadata file being replaced)
//
// where instance is random for each process. After a SIGKILL they stay
// behind; the next Writer that locks the folder (or writes the
// subscriptions) removes those of a process that is gone: on this host,
// with a pid that no longer runs or, when the pid is its own (a restarted
// agent that is PID 1 of its container), another instance.
const tempTag = "mailkeep-"

// instance tells this process's temporary files from those of an earlier
// process with the same pid.
var instance = func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

// tempName returns a new temporary name: prefix + the tagged name.
func tempName(prefix string) string {
	return fmt.Sprintf("%s%s%d-%s-%d.%s", prefix, tempTag, os.Getpid(), instance, tmpSeq.Add(1), fileHost())
}

// fileHost is the host name as it goes into file names: '/' and ':'
// escaped as in Maildir unique names.
func fileHost() string {
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host)
	if host == "" {
		host = "localhost"
	}
	return host
}

// staleTemp reports whether a name after prefix is a temporary file of a
// Writer that is gone.
func staleTemp(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix+tempTag)
	if !ok {
		return false
	}
	f := strings.SplitN(rest, "-", 3)
	if len(f) != 3 {
		return false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return false
	}
	_, host, ok := strings.Cut(f[2], ".")
	if !ok || host != fileHost() {
		return false
	}
	if pid == os.Getpid() {
		return f[1] != instance
	}
	return !processAlive(pid)
}

// processAlive reports whether a process runs on this host (kill(pid, 0)
// does not say ESRCH), as Dovecot's dotlocks check.
func processAlive(pid int) bool {
	return unix.Kill(pid, 0) != unix.ESRCH
}

// metadataFiles are the files the Writer replaces in a control directory.
var metadataFiles = [...]string{UIDListFile, KeywordsFile, SubscriptionsFile, RestoreMarkerFile}

// removeStaleTemps removes the stale temporary files of a directory: the
// staged messages of tmp/ (prefix "") or the metadata files being
// replaced in a control directory. It is best effort: what cannot be
// listed or removed is left for Dovecot's own tmp/ cleanup.
func removeStaleTemps(d *dirHandle, inTmp bool) {
	names, err := d.names()
	if err != nil {
		return
	}
	for _, n := range names {
		stale := false
		if inTmp {
			stale = staleTemp(n, "")
		} else {
			for _, m := range metadataFiles {
				stale = stale || staleTemp(n, m+".")
			}
		}
		if stale {
			if st, err := d.lstat(n); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				d.remove(n)
			}
		}
	}
}

// staleLockAge is how old a lock file must be before its pid is read
// (Dovecot's STALE_PID_CHECK_SECS): a younger one may still be being
// written.
const staleLockAge = 2 * time.Second

// lockOfDeadProcess reports whether a dovecot-uidlist.lock was left by a
// process that is gone: it holds "<pid>:<host>" (as Dovecot's dotlocks
// and ours do) with this host, and the pid no longer runs, or is this
// process's own while this process does not hold that lock (an agent
// restarted with the same pid). This is Dovecot's own rule for its
// dotlocks; a lock of a live process is only broken when older than
// LockStale.
func lockOfDeadProcess(ctl *dirHandle, st unix.Stat_t) bool {
	if time.Since(time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))) < staleLockAge {
		return false
	}
	data, err := ctl.readFile(UIDListLockFile, 256)
	if err != nil {
		return false
	}
	p, host, ok := strings.Cut(strings.TrimSpace(string(data)), ":")
	pid, err := strconv.Atoi(p)
	if me, _ := os.Hostname(); !ok || err != nil || pid <= 0 || host != me {
		return false
	}
	if pid == os.Getpid() {
		_, held := heldLocks.Load(ctl.join(UIDListLockFile))
		return !held
	}
	return !processAlive(pid)
}
