package scan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/scan"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// items returns an account's current items as "Folder/base: content".
func (f *fixture) items(account string) []string {
	f.t.Helper()
	state, err := f.repo.Catalog.StateAt(account, time.Now().UnixNano())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, it := range state.Items {
		ref, err := f.repo.Catalog.Blob(it.Blob)
		if err != nil {
			f.t.Fatal(err)
		}
		body, err := f.repo.Packs.Read(ref)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, it.Folder+"/"+it.Base+": "+string(body))
	}
	slices.Sort(out)
	return out
}

// folders returns an account's current folder names.
func (f *fixture) folders(account string) []string {
	f.t.Helper()
	state, err := f.repo.Catalog.StateAt(account, time.Now().UnixNano())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, fv := range state.Folders {
		out = append(out, fv.Name)
	}
	slices.Sort(out)
	return out
}

// scanOK runs a SmartScan that must succeed without account errors.
func (f *fixture) scanOK(st store.Store) *scan.Result {
	f.t.Helper()
	res, err := scan.Run(context.Background(), f.repo, st, scan.Options{})
	if err != nil || len(res.Errors) != 0 {
		f.t.Fatalf("scan: %v, %q", err, res.Errors)
	}
	return res
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSymlinkProbeIsNotBackedUp is the probe of issue 11, finding 1: .X
// has new/, tmp/ and maildirfolder and its cur/ is a link to /etc; INBOX
// has a message linked to /etc/passwd; .Y is a linked folder directory.
// Nothing outside the account is backed up, and each link is reported.
func TestSymlinkProbeIsNotBackedUp(t *testing.T) {
	f := newFixture(t)
	const account = "mallory@example.org"
	f.deliver(account, "1.M1P1.host", "inbox mail")
	root := f.maildir(account)
	for _, d := range []string{".X/new", ".X/tmp"} {
		mustDo(t, os.MkdirAll(filepath.Join(root, d), 0o700))
	}
	mustDo(t, os.WriteFile(filepath.Join(root, ".X", "maildirfolder"), nil, 0o600))
	mustDo(t, os.WriteFile(filepath.Join(root, ".X", "new", "2.M1P1.host"), []byte("x mail"), 0o600))
	mustDo(t, os.Symlink("/etc", filepath.Join(root, ".X", "cur")))
	mustDo(t, os.Symlink("/etc/passwd", filepath.Join(root, "cur", "3.M1P1.host:2,S")))
	other := f.deliverTo("victim@example.org", ".Private", "4.M1P1.host", "the victim's mail")
	mustDo(t, os.Symlink(filepath.Dir(filepath.Dir(other)), filepath.Join(root, ".Y")))

	res := f.scanOK(f.store)
	if got, want := f.items(account), []string{"INBOX/1.M1P1.host: inbox mail", "X/2.M1P1.host: x mail"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("backed up %q, want %q", got, want)
	}
	if res.Skipped["symlink"] != 3 || res.SkippedTotal() != 3 {
		t.Fatalf("skipped %v, want 3 symlinks", res.Skipped)
	}
	var paths []string
	for _, it := range res.SkippedItems {
		if it.Account == account {
			paths = append(paths, it.Path+" "+it.Reason)
		}
	}
	slices.Sort(paths)
	if want := []string{".X/cur symlink", ".Y symlink", "cur/3.M1P1.host:2,S symlink"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("skipped items %q, want %q", paths, want)
	}
	f.verify()
}

// TestSkippedIsNotDeleted: what a scan cannot read — a folder whose cur/,
// or whose directory, became a link, a message swapped for a FIFO — is
// not recorded as deleted (a purge would then drop mail still on disk);
// once readable again, nothing was lost and nothing is counted twice.
func TestSkippedIsNotDeleted(t *testing.T) {
	f := newFixture(t)
	const account = "ann@example.org"
	f.deliver(account, "1.M1P1.host", "inbox one")
	fifoed := f.deliverTo(account, "", "2.M1P1.host", "inbox two")
	f.deliverTo(account, ".Work", "3.M1P1.host", "work one")
	f.deliverTo(account, ".Work", "4.M1P1.host", "work two")
	f.deliverTo(account, ".Home", "5.M1P1.host", "home one")
	f.scanOK(f.store)
	all := f.items(account)
	folders := f.folders(account)
	if len(all) != 5 || len(folders) != 3 {
		t.Fatalf("first scan recorded %q in %q", all, folders)
	}
	root := f.maildir(account)
	work, home := filepath.Join(root, ".Work"), filepath.Join(root, ".Home")

	// .Work/cur becomes a link to a copy elsewhere, .Home a link to a
	// directory elsewhere, INBOX's second message a FIFO.
	elsewhere := t.TempDir()
	mustDo(t, os.Rename(filepath.Join(work, "cur"), filepath.Join(elsewhere, "cur")))
	mustDo(t, os.Symlink(filepath.Join(elsewhere, "cur"), filepath.Join(work, "cur")))
	mustDo(t, os.Rename(home, filepath.Join(elsewhere, "home")))
	mustDo(t, os.Symlink(filepath.Join(elsewhere, "home"), home))
	mustDo(t, os.Rename(fifoed, filepath.Join(elsewhere, "two")))
	mustDo(t, syscall.Mkfifo(fifoed, 0o600))
	for round := range 2 { // the skips are reported by every scan
		res := f.scanOK(f.store)
		if res.Deleted != 0 || res.Skipped["symlink"] != 2 || res.Skipped["fifo"] != 1 {
			t.Fatalf("scan %d with skips: %d deleted, skipped %v; want 0 deleted, 2 symlinks, 1 fifo", round+1, res.Deleted, res.Skipped)
		}
		if got := f.items(account); !reflect.DeepEqual(got, all) {
			t.Fatalf("scan %d with skips: items %q, want %q kept", round+1, got, all)
		}
		if got := f.folders(account); !reflect.DeepEqual(got, folders) {
			t.Fatalf("scan %d with skips: folders %q, want %q kept", round+1, got, folders)
		}
	}

	// Readable again.
	mustDo(t, os.Remove(filepath.Join(work, "cur")))
	mustDo(t, os.Rename(filepath.Join(elsewhere, "cur"), filepath.Join(work, "cur")))
	mustDo(t, os.Remove(home))
	mustDo(t, os.Rename(filepath.Join(elsewhere, "home"), home))
	mustDo(t, os.Remove(fifoed))
	mustDo(t, os.Rename(filepath.Join(elsewhere, "two"), fifoed))
	res := f.scanOK(f.store)
	if res.Deleted != 0 || res.New != 0 || res.SkippedTotal() != 0 || res.Items != 5 {
		t.Fatalf("scan once readable: %d deleted, %d new, skipped %v, %d items; want 0, 0, none, 5", res.Deleted, res.New, res.Skipped, res.Items)
	}
	if got := f.items(account); !reflect.DeepEqual(got, all) {
		t.Fatalf("items %q, want %q", got, all)
	}
	// And a message really deleted is recorded deleted.
	mustDo(t, os.Remove(fifoed))
	if res := f.scanOK(f.store); res.Deleted != 1 {
		t.Fatalf("scan after a deletion: %d deleted, want 1", res.Deleted)
	}
	f.verify()
}

// TestFIFODoesNotBlockScan: a FIFO in cur/ before the scan, and a FIFO
// renamed over a message between the listing and the read, are skipped;
// the scan finishes (issue 11, finding 13: it used to hang forever).
func TestFIFODoesNotBlockScan(t *testing.T) {
	f := newFixture(t)
	const account = "bob@example.org"
	f.deliver(account, "1.M1P1.host", "one")
	swapped := f.deliverTo(account, "", "2.M1P1.host", "two")
	mustDo(t, syscall.Mkfifo(filepath.Join(f.maildir(account), "cur", "3.M1P1.host:2,S"), 0o600))
	st := hookedStore{Store: f.store, open: func(_ maildir.Account, m *maildir.Message) error {
		if m.Base == "2.M1P1.host" {
			fifo := swapped + ".fifo"
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				return err
			}
			return os.Rename(fifo, swapped)
		}
		return nil
	}}
	done := make(chan *scan.Result, 1)
	go func() { done <- f.scanOK(st) }()
	var res *scan.Result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("SmartScan blocked on a FIFO")
	}
	if res.New != 1 || res.Skipped["fifo"] != 2 {
		t.Fatalf("%d new, skipped %v; want 1 new, 2 FIFOs", res.New, res.Skipped)
	}
	for _, it := range res.SkippedItems {
		if !strings.HasPrefix(it.Path, "cur/") || it.Reason != "fifo" {
			t.Errorf("skipped %+v", it)
		}
	}
	f.verify()
}

// TestAccountBeingRestoredIsNotRecorded: a SmartScan that meets an account
// a restore is writing into (issue 11, finding 16) records nothing of it —
// not its half-written state, whose messages not yet written back would be
// recorded deleted — and does not take it for deleted; the scan after the
// restore records it whole.
func TestAccountBeingRestoredIsNotRecorded(t *testing.T) {
	f := newFixture(t)
	const account, other = "ann@example.org", "bob@example.org"
	var paths []string
	for i := range 3 {
		paths = append(paths, f.deliverTo(account, "", fmt.Sprintf("%d.M1P1.host", 100+i), fmt.Sprintf("inbox %d", i)))
		paths = append(paths, f.deliverTo(account, ".Work", fmt.Sprintf("%d.M1P1.host", 200+i), fmt.Sprintf("work %d", i)))
	}
	f.deliver(other, "300.M1P1.host", "bob's")
	f.scanOK(f.store)
	all := f.items(account)
	// The Maildir is lost, and a restore has written INBOX back so far.
	saved := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		mustDo(t, err)
		saved[p] = b
	}
	mustDo(t, os.RemoveAll(f.maildir(account)))
	for i := 0; i < len(paths); i += 2 {
		mustDo(t, os.MkdirAll(filepath.Dir(paths[i]), 0o700))
		mustDo(t, os.WriteFile(paths[i], saved[paths[i]], 0o600))
	}
	restoring := true
	busy := func(name string) bool { return restoring && name == account }
	for _, only := range [][]string{nil, {account, other}} { // SmartScan, and a realtime batch
		res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Busy: busy, Only: only})
		if err != nil || len(res.Errors) != 0 {
			t.Fatalf("scan during the restore: %v, %q", err, res.Errors)
		}
		if !reflect.DeepEqual(res.Busy, []string{account}) || res.Deleted != 0 || res.DeletedAccounts != 0 || res.Accounts != 1 {
			t.Fatalf("scan during the restore: busy %q, %d deleted, %d accounts deleted, %d accounts; want %s busy, nothing deleted, 1 account recorded",
				res.Busy, res.Deleted, res.DeletedAccounts, res.Accounts, account)
		}
		if got := f.items(account); !reflect.DeepEqual(got, all) {
			t.Fatalf("during the restore the backup of %s changed: %q, want %q", account, got, all)
		}
	}
	// The restore finishes.
	for i := 1; i < len(paths); i += 2 {
		mustDo(t, os.MkdirAll(filepath.Dir(paths[i]), 0o700))
		mustDo(t, os.WriteFile(paths[i], saved[paths[i]], 0o600))
	}
	restoring = false
	res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Busy: busy})
	if err != nil || res.Deleted != 0 || len(res.Busy) != 0 {
		t.Fatalf("scan after the restore: %v, %d deleted, busy %q", err, res.Deleted, res.Busy)
	}
	if got := f.items(account); !reflect.DeepEqual(got, all) {
		t.Fatalf("after the restore: %q, want %q", got, all)
	}
	f.verify()
}

// TestSkippedDirectoryHidesItsSubfolders: with LAYOUT=fs a folder
// directory that became a link hides the folders below it, whose backup is
// kept; with Maildir++ a linked ".Work" hides Work alone, and a message
// deleted from ".Work.Sub" is recorded deleted.
func TestSkippedDirectoryHidesItsSubfolders(t *testing.T) {
	for _, layout := range []string{"fs", "maildir++"} {
		t.Run(layout, func(t *testing.T) {
			f := newFixture(t)
			ms, err := location.Parse("maildir:" + f.root + "/%d/%n/Maildir:LAYOUT=" + layout)
			mustDo(t, err)
			st, err := maildir.Open(ms)
			mustDo(t, err)
			const account = "ann@example.org"
			work, sub := ".Work", ".Work.Sub"
			if layout == "fs" {
				work, sub = "Work", "Work/Sub"
			}
			f.deliver(account, "1.M1P1.host", "inbox")
			f.deliverTo(account, work, "2.M1P1.host", "work")
			gone := f.deliverTo(account, sub, "3.M1P1.host", "sub one")
			f.deliverTo(account, sub, "4.M1P1.host", "sub two")
			f.scanOK(st)
			root := f.maildir(account)
			elsewhere := filepath.Join(t.TempDir(), "work")
			mustDo(t, os.Remove(gone))
			mustDo(t, os.Rename(filepath.Join(root, work), elsewhere))
			mustDo(t, os.Symlink(elsewhere, filepath.Join(root, work)))
			res := f.scanOK(st)
			want := int64(1) // Maildir++: .Work.Sub is listed, its deletion recorded
			if layout == "fs" {
				want = 0 // hidden below the link
			}
			if res.Deleted != want || res.Skipped["symlink"] != 1 {
				t.Fatalf("%d deleted, skipped %v; want %d deleted, 1 symlink", res.Deleted, res.Skipped, want)
			}
			if n := len(f.items(account)); n != 4-int(want) {
				t.Fatalf("%d items kept, want %d", n, 4-int(want))
			}
			f.verify()
		})
	}
}

// TestFolderWithoutCurIsBackedUp: a folder directory with new/ but no
// cur/ (Dovecot creates cur/ when it opens it) is backed up, and the scan
// says so, instead of being silently ignored.
func TestFolderWithoutCurIsBackedUp(t *testing.T) {
	f := newFixture(t)
	const account = "ann@example.org"
	f.deliver(account, "1.M1P1.host", "inbox")
	dir := filepath.Join(f.maildir(account), ".Drafts", "new")
	mustDo(t, os.MkdirAll(dir, 0o700))
	mustDo(t, os.WriteFile(filepath.Join(dir, "2.M1P1.host"), []byte("a draft"), 0o600))
	res := f.scanOK(f.store)
	if got, want := f.items(account), []string{"Drafts/2.M1P1.host: a draft", "INBOX/1.M1P1.host: inbox"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("backed up %q, want %q", got, want)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "account "+account) || !strings.Contains(res.Warnings[0], "no cur/") {
		t.Fatalf("warnings %q, want one about .Drafts having no cur/", res.Warnings)
	}
}
