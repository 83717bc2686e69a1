package maildir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// symlinkProbe builds the account of the probe of issue 11 (finding 1):
// .X is a real folder (maildirfolder, new/, tmp/) whose cur/ is a link to
// /etc; INBOX's cur/ holds a link to /etc/passwd as a message; .Y is a
// link to a folder outside the account, with cur/ full of messages. It
// returns the store's base directory, the store and the account.
func symlinkProbe(t *testing.T) (base string, s *Store, a Account) {
	t.Helper()
	base = t.TempDir()
	s = mustOpen(t, "maildir:"+base+"/%d/%n/Maildir")
	a, err := s.Account("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	maildir(t, a.Root, "")
	writeAt(t, a.Root, "cur/1.M1.h:2,S", "inbox mail", t0)
	mkdirs(t, a.Root, ".X/new", ".X/tmp")
	writeAt(t, a.Root, ".X/maildirfolder", "", t0)
	writeAt(t, a.Root, ".X/new/2.M1.h", "x mail", t0)
	must(t, os.Symlink("/etc", filepath.Join(a.Root, ".X", "cur")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(a.Root, "cur", "3.M1.h:2,S")))
	outside := filepath.Join(base, "outside", ".Secret")
	maildir(t, outside, "")
	writeAt(t, outside, "cur/4.M1.h:2,S", "someone else's mail", t0)
	must(t, os.Symlink(outside, filepath.Join(a.Root, ".Y")))
	return base, s, a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// contents reads every message a snapshot lists, through OpenMessage.
func contents(t *testing.T, s *Store, a Account, snap *Snapshot) []string {
	t.Helper()
	var out []string
	for i := range snap.Folders {
		f := &snap.Folders[i]
		for j := range f.Messages {
			file, err := s.OpenMessage(a, f, &f.Messages[j])
			if err != nil {
				t.Fatalf("OpenMessage %s/%s: %v", f.Name, f.Messages[j].Name, err)
			}
			b, _ := io.ReadAll(file)
			file.Close()
			out = append(out, f.Name+": "+string(b))
		}
	}
	return out
}

// TestScanRefusesSymlinks is the probe: nothing a link below the root
// leads to is listed or read, and every link is reported as skipped.
func TestScanRefusesSymlinks(t *testing.T) {
	_, s, a := symlinkProbe(t)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := contents(t, s, a, snap), []string{"INBOX: inbox mail", "X: x mail"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("messages read = %q, want %q", got, want)
	}
	want := []string{".X/cur: symlink", ".Y: symlink", "cur/3.M1.h:2,S: symlink"}
	if got := skipList(snap); !reflect.DeepEqual(sorted(got), want) {
		t.Fatalf("skipped = %q, want %q", got, want)
	}
	for _, k := range snap.Skipped {
		if k.Path == ".X/cur" && (k.Scope != ScopeFolder || k.Folder != "X") {
			t.Errorf("the skip of .X/cur is %+v: it must hide the folder X", k)
		}
	}
	// A message planted in the snapshot (a listing raced by a rename)
	// is refused too: the folder's cur/ is never followed.
	x := &snap.Folders[1]
	m := Message{Subdir: "cur", Name: "passwd", Base: "passwd"}
	if f, err := s.OpenMessage(a, x, &m); !isRefused(err, ReasonSymlink) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("OpenMessage of .X/cur/passwd: %v, want a refusal", err)
	}
	inbox := &snap.Folders[0]
	m = Message{Subdir: "cur", Name: "3.M1.h:2,S", Base: "3.M1.h"}
	if _, err := s.OpenMessage(a, inbox, &m); !isRefused(err, ReasonSymlink) {
		t.Fatalf("OpenMessage of a linked message: %v, want a refusal", err)
	}
}

// TestScanWithinStoreSymlinks: with mail_store_symlinks = "within_store"
// links that stay inside the account are followed, and the others are
// still refused.
func TestScanWithinStoreSymlinks(t *testing.T) {
	base, _, a := symlinkProbe(t)
	// Inside: a folder linked to another folder of the account, and a
	// message linked (by an absolute path) to INBOX's.
	maildir(t, a.Root, ".Real")
	writeAt(t, a.Root, ".Real/cur/5.M1.h:2,S", "real mail", t0)
	must(t, os.Symlink(".Real", filepath.Join(a.Root, ".Alias")))
	must(t, os.Symlink(filepath.Join(a.Root, "cur", "1.M1.h:2,S"), filepath.Join(a.Root, ".Real", "cur", "6.M1.h:2,S")))
	// Outside by a detour: a link inside that leads to a link out.
	must(t, os.Symlink(filepath.Join(a.Root, ".Y", "cur"), filepath.Join(a.Root, ".Real", "new-link")))
	must(t, os.Symlink("../new-link/4.M1.h:2,S", filepath.Join(a.Root, ".Real", "cur", "7.M1.h:2,S")))
	ms, err := parseLocation("maildir:" + base + "/%d/%n/Maildir")
	must(t, err)
	s, err := OpenWith(ms, Options{Symlinks: SymlinksWithinStore})
	must(t, err)
	snap, err := s.Scan(a)
	must(t, err)
	got := contents(t, s, a, snap)
	want := []string{"INBOX: inbox mail", "Alias: inbox mail", "Alias: real mail", "Real: inbox mail", "Real: real mail", "X: x mail"}
	if !reflect.DeepEqual(sorted(got), sorted(want)) {
		t.Fatalf("messages read = %q, want %q", got, want)
	}
	wantSkips := []string{
		".Alias/cur/7.M1.h:2,S: symlink outside the account",
		".Real/cur/7.M1.h:2,S: symlink outside the account",
		".X/cur: symlink outside the account",
		".Y: symlink outside the account",
		"cur/3.M1.h:2,S: symlink outside the account",
	}
	if got := sorted(skipList(snap)); !reflect.DeepEqual(got, wantSkips) {
		t.Fatalf("skipped = %q, want %q", got, wantSkips)
	}
	if _, err := OpenWith(ms, Options{Symlinks: "always"}); err == nil || !strings.Contains(err.Error(), "mail_store_symlinks") {
		t.Fatalf("OpenWith of a bad mail_store_symlinks: %v", err)
	}
}

// TestScanSpecialFiles: FIFOs, sockets and devices among the messages are
// never opened (a FIFO would block) and are reported; a FIFO swapped in
// for a message after the listing is refused by OpenMessage without
// blocking, and so is a FIFO as dovecot-uidlist.
func TestScanSpecialFiles(t *testing.T) {
	s, a := handMade(t)
	must(t, syscall.Mkfifo(filepath.Join(a.Root, "cur", "900.M1.h:2,S"), 0o600))
	must(t, syscall.Mknod(filepath.Join(a.Root, "new", "901.M1.h"), syscall.S_IFCHR|0o600, 0x0103)) // /dev/null's
	must(t, os.Remove(filepath.Join(a.Root, ".Projects.2026", UIDListFile)))
	must(t, syscall.Mkfifo(filepath.Join(a.Root, ".Projects.2026", UIDListFile), 0o600))
	snap, err := s.Scan(a)
	must(t, err)
	want := []string{".Projects.2026/cur/subdir: directory", ".Projects.2026/dovecot-uidlist: fifo", "cur/900.M1.h:2,S: fifo", "cur/link:2,S: symlink", "new/901.M1.h: device"}
	if got := sorted(skipList(snap)); !reflect.DeepEqual(got, want) {
		t.Fatalf("skipped = %q, want %q", got, want)
	}
	inbox := &snap.Folders[0]
	m := inbox.Messages[0]
	p := filepath.Join(a.Root, m.Subdir, m.Name)
	must(t, os.Remove(p))
	must(t, syscall.Mkfifo(p, 0o600))
	if _, err := s.OpenMessage(a, inbox, &m); !isRefused(err, ReasonFIFO) {
		t.Fatalf("OpenMessage of a FIFO: %v, want a refusal", err)
	}
}

func isRefused(err error, r Reason) bool {
	var re *RefusedError
	return errors.As(err, &re) && re.Reason == r
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestScanStopsWithItsContext: a listing stops once its context is done
// (between folders, and within a large folder every few thousand files),
// so that cancelling a SmartScan, or SIGTERM, does not wait for the
// listing of a huge account.
func TestScanStopsWithItsContext(t *testing.T) {
	s, a := handMade(t)
	for i := range 5000 {
		writeAt(t, a.Root, fmt.Sprintf("cur/%d.M9P9.host:2,S", 10000+i), "x", t0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	testHookListed = func(dir string) {
		if dir == filepath.Join(a.Root, "cur") {
			cancel()
		}
	}
	defer func() { testHookListed = nil }()
	snap, err := s.ScanWith(a, ScanOptions{Context: ctx})
	if !errors.Is(err, context.Canceled) || snap != nil {
		t.Fatalf("ScanWith after its context was cancelled: %v, %v; want context.Canceled", snap, err)
	}
	// Not cancelled: the whole account.
	if snap, err = s.ScanWith(a, ScanOptions{Context: context.Background()}); err != nil || len(snap.Folders[0].Messages) != 5004 {
		t.Fatalf("ScanWith: %v, %d INBOX messages", err, len(snap.Folders[0].Messages))
	}
}
