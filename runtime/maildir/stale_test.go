package maildir

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// plantLock writes a dovecot-uidlist.lock holding stamp, aged 5 seconds
// (past the age at which a lock's pid is read).
func plantLock(t *testing.T, path, stamp string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(stamp), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-5 * time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// TestLockOfDeadProcessIsBroken: after a SIGKILL the agent's own
// dovecot-uidlist.lock stays behind; the next Lock breaks it at once when
// its pid is gone, or is this process's own without this process holding
// it (an agent restarted with the same pid), as Dovecot does with its
// dotlocks. A lock of a live process, or of another host, is waited on.
func TestLockOfDeadProcessIsBroken(t *testing.T) {
	host, _ := os.Hostname()
	for _, c := range []struct {
		what   string
		stamp  string
		broken bool
	}{
		{"a dead process of this host", fmt.Sprintf("%d:%s", deadPid(t), host), true},
		{"this pid, not held by this process", fmt.Sprintf("%d:%s", os.Getpid(), host), true},
		{"a live process", fmt.Sprintf("%d:%s", os.Getppid(), host), false},
		{"a dead pid of another host", fmt.Sprintf("%d:other-%s", deadPid(t), host), false},
		{"no pid (Dovecot's older locks)", "", false},
	} {
		t.Run(c.what, func(t *testing.T) {
			w, path := lockFixture(t)
			plantLock(t, path, c.stamp)
			w.LockTimeout = 300 * time.Millisecond
			unlock, err := w.Lock("")
			if c.broken {
				if err != nil {
					t.Fatalf("the lock of %s was waited on: %v", c.what, err)
				}
				if err := unlock(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "timed out") {
				t.Fatalf("the lock of %s was broken: %v", c.what, err)
			}
			if data, _ := os.ReadFile(path); string(data) != c.stamp {
				t.Errorf("the lock of %s was changed to %q", c.what, data)
			}
		})
	}
}

// TestLockRemovesDeadWritersTemps: the files a killed writer left in a
// folder's tmp/ and beside its dovecot-uidlist are removed by the next
// Lock of the folder; those of a live writer, of this process, and
// Dovecot's own are left alone.
func TestLockRemovesDeadWritersTemps(t *testing.T) {
	w, lock := lockFixture(t)
	root := filepath.Dir(lock)
	dead := deadPid(t)
	name := func(prefix string, pid int, inst string) string {
		return fmt.Sprintf("%smailkeep-%d-%s-7.%s", prefix, pid, inst, fileHost())
	}
	stale := []string{
		filepath.Join("tmp", name("", dead, "0badcafe")),
		filepath.Join("tmp", name("", os.Getpid(), "0badcafe")), // an earlier process with our pid
		name(UIDListFile+".", dead, "0badcafe"),
		name(KeywordsFile+".", dead, "0badcafe"),
	}
	kept := []string{
		filepath.Join("tmp", name("", os.Getppid(), "0badcafe")), // a live writer
		filepath.Join("tmp", name("", os.Getpid(), instance)),    // this process's
		filepath.Join("tmp", "1700000000.M1P1.host"),             // Dovecot's delivery
		filepath.Join("tmp", fmt.Sprintf("mailkeep-%d-0badcafe-7.other-host", dead)),
		name("notes.", dead, "0badcafe"),
	}
	for _, rel := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(filepath.Join(root, rel), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	unlock, err := w.Lock("")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, rel := range stale {
		if _, err := os.Lstat(filepath.Join(root, rel)); !os.IsNotExist(err) {
			t.Errorf("%s, left by a dead writer, is still there (%v)", rel, err)
		}
	}
	for _, rel := range kept {
		if _, err := os.Lstat(filepath.Join(root, rel)); err != nil {
			t.Errorf("%s was removed: %v", rel, err)
		}
	}
}

// TestHeldLockIsTouched: a lock held through a long restore is touched
// regularly, so that a Dovecot that cannot check its pid (another host,
// another pid namespace) never takes it for stale.
func TestHeldLockIsTouched(t *testing.T) {
	w, path := lockFixture(t)
	w.refresh = 20 * time.Millisecond
	unlock, err := w.Lock("")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(fi.ModTime()) < LockStale/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the held lock was not touched: its mtime is %s", fi.ModTime())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("lock left after unlock: %v", err)
	}
}
