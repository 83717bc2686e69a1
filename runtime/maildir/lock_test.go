package maildir

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func lockFixture(t *testing.T) (*Writer, string) {
	t.Helper()
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/%d/%n/Maildir")
	a, _ := s.Account("alice@example.com")
	w := s.Writer(a)
	o := testOwner(0o700)
	if err := w.Folder(FolderSpec{Name: "INBOX", Owner: o}); err != nil {
		t.Fatal(err)
	}
	return w, filepath.Join(a.Root, UIDListLockFile)
}

func TestLock(t *testing.T) {
	w, path := lockFixture(t)
	unlock, err := w.Lock("")
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(data), strconv.Itoa(os.Getpid())+":") {
		t.Errorf("lock file holds %q, %v; want \"<pid>:<host>\"", data, err)
	}
	if got, want := statOwner(t, path), testOwner(0o600); got != want {
		t.Errorf("lock file owner %+v, want %+v (the folder's)", got, want)
	}
	// A second taker waits and times out.
	w.LockTimeout = 120 * time.Millisecond
	start := time.Now()
	if _, err := w.Lock(""); err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Lock: %v", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("second Lock did not wait")
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("lock file left behind: %v", err)
	}
	// Released: the next taker gets it at once.
	unlock, err = w.Lock("")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

func TestLockWaitsForRelease(t *testing.T) {
	w, path := lockFixture(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil { // Dovecot holds it
		t.Fatal(err)
	}
	w.LockTimeout = 10 * time.Second
	released := make(chan struct{})
	go func() {
		time.Sleep(150 * time.Millisecond)
		os.Remove(path)
		close(released)
	}()
	unlock, err := w.Lock("")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
	default:
		t.Fatal("Lock returned while Dovecot held the lock")
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockStale(t *testing.T) {
	w, path := lockFixture(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-LockStale - time.Second)
	os.Chtimes(path, old, old)
	w.LockTimeout = 100 * time.Millisecond
	unlock, err := w.Lock("")
	if err != nil {
		t.Fatalf("a stale lock was not broken: %v", err)
	}
	// Someone broke our lock in turn: unlock says so and leaves theirs.
	os.Remove(path)
	os.WriteFile(path, nil, 0o600)
	if err := unlock(); err == nil {
		t.Error("unlock of a taken-over lock gave no error")
	}
	if _, err := os.Stat(path); err != nil {
		t.Error("unlock removed somebody else's lock")
	}
}
