package restore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/scan"
)

// scanAt runs a SmartScan of one account at the given instant, as a
// realtime batch does.
func (f *fixture) scanAt(at time.Time, account string) {
	f.t.Helper()
	if _, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Now: func() time.Time { return at }, Only: []string{account}}); err != nil {
		f.t.Fatalf("scan at %s: %v", at, err)
	}
}

// TestRestoreOfAMailboxRemovedInSteps: a mailbox removed with rm -rf
// while the scanners run reaches the backup in several steps, the first
// ones recording its messages as expunged folder by folder (what made
// TestRealtimeRestoreDeletedAccount fail under load). Restoring the
// deleted account without an instant gives it back whole, as it was before
// the removal began, however many steps the removal took, and `backup ls`
// lists it so.
func TestRestoreOfAMailboxRemovedInSteps(t *testing.T) {
	for _, steps := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("%d steps", steps), func(t *testing.T) {
			f := newFixture(t, 41, 2, 200)
			f.smartScan()
			name := f.accounts()[0]
			want := f.describe(name)
			a, err := f.store.Account(name)
			if err != nil {
				t.Fatal(err)
			}
			// The removal: folder by folder (sub-folders first, as rm -rf
			// may go), a scan after each of the first steps, seconds apart.
			snap, err := f.store.Scan(a)
			if err != nil {
				t.Fatal(err)
			}
			at := f.now.Add(time.Minute)
			removed := 0
			for i := len(snap.Folders) - 1; i >= 0 && removed < steps-1; i-- {
				fo := snap.Folders[i]
				if fo.Dir == "" {
					continue
				}
				if err := os.RemoveAll(filepath.Join(a.Root, fo.Dir)); err != nil {
					t.Fatal(err)
				}
				f.scanAt(at, name)
				at = at.Add(3 * time.Second)
				removed++
			}
			if removed != steps-1 {
				t.Fatalf("the account has %d sub-folders, need %d", len(snap.Folders)-1, steps-1)
			}
			if err := os.RemoveAll(a.Root); err != nil {
				t.Fatal(err)
			}
			f.scanAt(at, name)

			stats, err := f.repo.Catalog.Stats(name)
			if err != nil {
				t.Fatal(err)
			}
			s := stats[0]
			if s.DeletedAt == 0 || s.Items != int64(len(want.Messages)) || s.Folders != int64(len(want.Folders)) {
				t.Fatalf("backup ls of the deleted account: %d items in %d folders (deleted at %d), want %d in %d",
					s.Items, s.Folders, s.DeletedAt, len(want.Messages), len(want.Folders))
			}
			// The first step's instant (the scan's clock, plus the
			// nanoseconds a scan adds to keep its instants distinct).
			if wantBegan := f.now.Add(time.Minute).UnixNano(); s.DeletionBegan < wantBegan || s.DeletionBegan > wantBegan+int64(time.Millisecond) {
				t.Errorf("the deletion began at %s, want %s (the first removal step)", time.Unix(0, s.DeletionBegan), time.Unix(0, wantBegan))
			}
			res := f.restore(name, "", time.Time{})
			if res.Mode != "full" {
				t.Errorf("restore mode %q, want full", res.Mode)
			}
			diffMailboxes(t, "restore -at last of the removed account", want, f.describe(name))
		})
	}
}

// TestRemovalAfterAChangeRestoresTheChange: the run of removal steps stops
// at a user's change; restoring the deleted account gives the mailbox with
// that change, not an older one.
func TestRemovalAfterAChangeRestoresTheChange(t *testing.T) {
	f := newFixture(t, 43, 1, 60)
	f.smartScan()
	name := f.accounts()[0]
	a, err := f.store.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	at := f.now.Add(time.Minute)
	// A delivery seconds before the removal, recorded on its own.
	if err := os.WriteFile(filepath.Join(a.Root, "new", "1800000000.M1P1.late"), []byte("Subject: late\n\nlate mail\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.scanAt(at, name)
	want := f.describe(name)
	snap, err := f.store.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, fo := range snap.Folders {
		if fo.Dir != "" {
			if err := os.RemoveAll(filepath.Join(a.Root, fo.Dir)); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	f.scanAt(at.Add(time.Second), name)
	if err := os.RemoveAll(a.Root); err != nil {
		t.Fatal(err)
	}
	f.scanAt(at.Add(2*time.Second), name)
	acct, err := f.repo.Catalog.AccountByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if began, err := f.repo.Catalog.RemovalStart(acct.ID, acct.DeletedAt); err != nil || began != at.Add(time.Second).UnixNano() {
		// (The step's instant is the scan's clock: the account is its
		// first and only one.)
		t.Fatalf("the removal began at %s (%v), want the step after the delivery", time.Unix(0, began), err)
	}
	f.restore(name, "", time.Time{})
	diffMailboxes(t, "restore -at last after a delivery and a removal", want, f.describe(name))
}

// TestRemovalRecordedFileByFile: the finest spread there is: rm -rf of a
// whole Maildir, one directory entry at a time (children before their
// directory, as rm and os.RemoveAll go), with a scan of the account after
// every single removal, a second apart. Whatever went first (a message,
// dovecot-uidlist, dovecot-keywords, subscriptions, a folder's cur/),
// restoring the deleted account gives it back whole.
func TestRemovalRecordedFileByFile(t *testing.T) {
	// Directory order, then its reverse: dovecot-keywords, dovecot-uidlist
	// and subscriptions go before cur/.
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) { removeFileByFile(t, reverse) })
	}
}

func removeFileByFile(t *testing.T, reverse bool) {
	f := newFixture(t, 47, 1, 60)
	f.smartScan()
	name := f.accounts()[0]
	want := f.describe(name)
	a, err := f.store.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if reverse {
			slices.Reverse(ents)
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if e.IsDir() {
				walk(p)
			}
			order = append(order, p)
		}
	}
	walk(a.Root)
	order = append(order, a.Root)
	at := f.now.Add(time.Minute)
	for _, p := range order {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		f.scanAt(at, name)
		at = at.Add(time.Second)
	}
	stats, err := f.repo.Catalog.Stats(name)
	if err != nil {
		t.Fatal(err)
	}
	if s := stats[0]; s.DeletedAt == 0 || s.Items != int64(len(want.Messages)) {
		t.Errorf("backup ls of the account removed entry by entry (%d entries): %d items, deleted at %d, began %s; want %d items",
			len(order), s.Items, s.DeletedAt, time.Unix(0, s.DeletionBegan), len(want.Messages))
	}
	f.restore(name, "", time.Time{})
	diffMailboxes(t, "restore of the account removed entry by entry", want, f.describe(name))
}
