package catalog

import (
	"fmt"
	"testing"
	"time"
)

// history writes an account's history step by step, as the scanners do:
// every change of one step shares its instant.
type history struct {
	t       *testing.T
	c       *Catalog
	account Account
	items   map[string]*Item // by folder/base: the current version
	folders map[string]*FolderVersion
	acct    *AccountVersion
	next    byte
}

// sec is an instant n seconds into the test's history.
func sec(n float64) int64 { return int64(n * float64(time.Second)) }

func newHistory(t *testing.T) *history {
	c := openTestCatalog(t)
	h := &history{t: t, c: c, items: map[string]*Item{}, folders: map[string]*FolderVersion{}}
	h.step(sec(1), func(tx *Tx, at int64) {
		a, err := tx.Account("ann@example.org", at)
		h.check(err)
		h.account = a
		h.acct = &AccountVersion{AccountID: a.ID, Owner: Owner{UID: 8, GID: 8, Mode: 0o700}, Subscriptions: []byte("INBOX\nWork\n"), ValidFrom: at}
		h.check(tx.InsertAccountVersion(h.acct))
		for _, f := range []string{"INBOX", "Work", "Old"} {
			h.folder(tx, f, at)
			for i := range 4 {
				h.deliver(tx, f, fmt.Sprint(f, i), at)
			}
		}
	})
	return h
}

func (h *history) check(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// step runs fn in one committed transaction at instant at.
func (h *history) step(at int64, fn func(tx *Tx, at int64)) {
	h.t.Helper()
	tx, err := h.c.Begin()
	h.check(err)
	defer tx.Rollback()
	fn(tx, at)
	h.check(tx.Commit())
}

func (h *history) folder(tx *Tx, name string, at int64) {
	f := &FolderVersion{AccountID: h.account.ID, Name: name, Dir: "." + name, UIDValidity: 7, NextUID: 10, ValidFrom: at}
	h.check(tx.InsertFolder(f))
	h.folders[name] = f
}

// refolder closes a folder's version and opens one changed by fn.
func (h *history) refolder(tx *Tx, name string, at int64, fn func(*FolderVersion)) {
	old := h.folders[name]
	h.check(tx.CloseFolder(old.ID, at))
	f := *old
	f.ValidFrom = at
	fn(&f)
	h.check(tx.InsertFolder(&f))
	h.folders[name] = &f
}

func (h *history) deliver(tx *Tx, folder, base string, at int64) {
	h.next++
	blob := BlobID{h.next}
	keywords := []string{"$label1"}
	h.check(tx.AddBlob(blob, BlobRef{Pack: 1, Offset: int64(h.next) * 100, Length: 50, Size: 40}))
	it := &Item{AccountID: h.account.ID, Folder: folder, Base: base, Subdir: "cur", Name: base + ":2,", Blob: blob,
		Size: 40, MTime: at, Ino: uint64(h.next), UID: uint32(h.next), Keywords: keywords, ValidFrom: at}
	h.check(tx.InsertItem(it))
	h.items[folder+"/"+base] = it
}

// change closes a message's version and opens one changed by fn.
func (h *history) change(tx *Tx, folder, base string, at int64, fn func(*Item)) {
	old := h.items[folder+"/"+base]
	h.check(tx.CloseItem(old.ID, at))
	it := *old
	it.ValidFrom = at
	fn(&it)
	h.check(tx.InsertItem(&it))
	h.items[folder+"/"+base] = &it
}

func (h *history) expunge(tx *Tx, folder, base string, at int64) {
	h.check(tx.CloseItem(h.items[folder+"/"+base].ID, at))
	delete(h.items, folder+"/"+base)
}

// removeFolder expunges a folder's messages and closes the folder.
func (h *history) removeFolder(tx *Tx, folder string, at int64) {
	for key, it := range h.items {
		if it.Folder == folder {
			h.check(tx.CloseItem(it.ID, at))
			delete(h.items, key)
		}
	}
	h.check(tx.CloseFolder(h.folders[folder].ID, at))
	delete(h.folders, folder)
}

func (h *history) deleteAccount(at int64) {
	h.step(at, func(tx *Tx, at int64) { h.check(tx.DeleteAccount(h.account.ID, at)) })
}

func (h *history) removalStart(end int64) int64 {
	h.t.Helper()
	got, err := h.c.RemovalStart(h.account.ID, end)
	h.check(err)
	return got
}

// A mailbox removed with rm -rf reaches the backup in several steps; the
// removal began at the first of them, as long as each step only removed
// things and none was more than RemovalGap after the one before.
func TestRemovalStart(t *testing.T) {
	t.Run("spread over steps", func(t *testing.T) {
		h := newHistory(t)
		h.step(sec(100), func(tx *Tx, at int64) { h.expunge(tx, "Old", "Old0", at); h.expunge(tx, "Old", "Old1", at) })
		h.step(sec(101), func(tx *Tx, at int64) { h.removeFolder(tx, "Old", at) })
		h.step(sec(160), func(tx *Tx, at int64) { h.removeFolder(tx, "Work", at) })
		h.deleteAccount(sec(161))
		if got := h.removalStart(sec(161)); got != sec(100) {
			t.Fatalf("removal began at %v, want the first step at 100s", time.Duration(got))
		}
	})
	t.Run("companion files first", func(t *testing.T) {
		// dovecot-uidlist and dovecot-keywords went before the messages:
		// the same files with their UIDs and keyword names lost, and the
		// folder's metadata changed, are part of the removal.
		h := newHistory(t)
		h.step(sec(100), func(tx *Tx, at int64) {
			h.change(tx, "Work", "Work0", at, func(it *Item) { it.UID, it.Keywords = 0, nil })
			h.change(tx, "Work", "Work2", at, func(it *Item) { it.Keywords = []string{"?b"} }) // its letter, without the name
			h.change(tx, "Work", "Work1", at, func(it *Item) { it.UID = 0 })
			h.refolder(tx, "Work", at, func(f *FolderVersion) { f.UIDValidity, f.NextUID = 0, 0 })
		})
		h.step(sec(101), func(tx *Tx, at int64) {
			h.acct.ValidTo = at
			h.check(tx.CloseAccountVersion(h.acct.ID, at))
			h.acct = &AccountVersion{AccountID: h.account.ID, Owner: h.acct.Owner, ValidFrom: at} // subscriptions gone
			h.check(tx.InsertAccountVersion(h.acct))
		})
		h.deleteAccount(sec(102))
		if got := h.removalStart(sec(102)); got != sec(100) {
			t.Fatalf("removal began at %v, want 100s", time.Duration(got))
		}
	})
	breaks := []struct {
		name string
		fn   func(h *history, tx *Tx, at int64)
	}{
		{"a delivery", func(h *history, tx *Tx, at int64) { h.deliver(tx, "INBOX", "late", at) }},
		{"a flag change", func(h *history, tx *Tx, at int64) {
			h.change(tx, "INBOX", "INBOX0", at, func(it *Item) { it.Name, it.Flags = "INBOX0:2,S", "S" })
		}},
		{"a move", func(h *history, tx *Tx, at int64) {
			it := h.items["INBOX/INBOX1"]
			h.expunge(tx, "INBOX", "INBOX1", at)
			moved := *it
			moved.Folder, moved.Base, moved.Name, moved.ValidFrom = "Work", "moved", "moved:2,", at
			h.check(tx.InsertItem(&moved))
		}},
		{"a new folder", func(h *history, tx *Tx, at int64) { h.expunge(tx, "INBOX", "INBOX2", at); h.folder(tx, "New", at) }},
		// Dovecot's own bookkeeping: a UID assigned, the next UID raised.
		{"a UID assigned", func(h *history, tx *Tx, at int64) {
			h.change(tx, "INBOX", "INBOX0", at, func(it *Item) { it.UID = 0 })
			h.change(tx, "INBOX", "INBOX0", at+1, func(it *Item) { it.UID = 99 })
		}},
		{"a folder's next UID raised", func(h *history, tx *Tx, at int64) {
			h.refolder(tx, "INBOX", at, func(f *FolderVersion) { f.NextUID++ })
		}},
		{"a subscription", func(h *history, tx *Tx, at int64) {
			h.check(tx.CloseAccountVersion(h.acct.ID, at))
			v := &AccountVersion{AccountID: h.account.ID, Owner: h.acct.Owner, Subscriptions: []byte("INBOX\nWork\nOld\n"), ValidFrom: at}
			h.check(tx.InsertAccountVersion(v))
		}},
	}
	for _, tc := range breaks {
		t.Run("stopped by "+tc.name, func(t *testing.T) {
			h := newHistory(t)
			h.step(sec(100), func(tx *Tx, at int64) { h.removeFolder(tx, "Old", at) })
			h.step(sec(101), func(tx *Tx, at int64) { tc.fn(h, tx, at) })
			h.step(sec(102), func(tx *Tx, at int64) { h.removeFolder(tx, "Work", at) })
			h.deleteAccount(sec(103))
			if got := h.removalStart(sec(103)); got != sec(102) {
				t.Fatalf("removal began at %v, want 102s: the step at 101s was no removal", time.Duration(got))
			}
		})
	}
	t.Run("stopped by a pause", func(t *testing.T) {
		h := newHistory(t)
		h.step(sec(100), func(tx *Tx, at int64) { h.removeFolder(tx, "Old", at) })
		far := sec(100) + RemovalGap + 1
		h.step(far, func(tx *Tx, at int64) { h.removeFolder(tx, "Work", at) })
		h.deleteAccount(far + sec(1))
		if got := h.removalStart(far + sec(1)); got != far {
			t.Fatalf("removal began at %v, want %v: the earlier removal was more than %v before", time.Duration(got), time.Duration(far), time.Duration(RemovalGap))
		}
	})
	t.Run("nothing before", func(t *testing.T) {
		h := newHistory(t)
		h.deleteAccount(sec(2))
		if got := h.removalStart(sec(2)); got != sec(2) {
			t.Fatalf("removal began at %v, want the deletion itself", time.Duration(got))
		}
	})
}

// A folder removed as a whole in several steps: the walk looks at that
// folder alone, so what happens meanwhile in other folders does not cut
// the run short.
func TestFolderRemovalStart(t *testing.T) {
	h := newHistory(t)
	h.step(sec(100), func(tx *Tx, at int64) { h.expunge(tx, "Work", "Work0", at); h.expunge(tx, "Work", "Work1", at) })
	h.step(sec(101), func(tx *Tx, at int64) { h.deliver(tx, "INBOX", "meanwhile", at) })
	h.step(sec(102), func(tx *Tx, at int64) { h.removeFolder(tx, "Work", at) })
	got, err := h.c.FolderRemovalStart(h.account.ID, "Work", sec(102))
	h.check(err)
	if got != sec(100) {
		t.Fatalf("the removal of Work began at %v, want 100s", time.Duration(got))
	}
	st, err := h.c.StateAt("ann@example.org", got-1)
	h.check(err)
	n := 0
	for _, it := range st.Items {
		if it.Folder == "Work" {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("just before the removal began, Work held %d messages, want all 4", n)
	}
}

// Stats lists a deleted account as it was before its deletion began.
func TestStatsOfDeletedAccount(t *testing.T) {
	h := newHistory(t)
	h.step(sec(100), func(tx *Tx, at int64) { h.removeFolder(tx, "Old", at) })
	h.step(sec(101), func(tx *Tx, at int64) { h.removeFolder(tx, "Work", at) })
	h.deleteAccount(sec(102))
	stats, err := h.c.Stats("ann@example.org")
	h.check(err)
	s := stats[0]
	if s.DeletedAt != sec(102) || s.LastDeletion != sec(102) || s.DeletionBegan != sec(100) {
		t.Fatalf("deleted %v, last deletion %v, began %v; want 102s, 102s, 100s", time.Duration(s.DeletedAt), time.Duration(s.LastDeletion), time.Duration(s.DeletionBegan))
	}
	if s.Items != 12 || s.Folders != 3 {
		t.Fatalf("listed with %d items in %d folders, want its 12 in 3 before the removal", s.Items, s.Folders)
	}
}
