package scan_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/store"
	"github.com/mailkeep/mailkeep/runtime/store/storetest"
)

// SmartScan backs up a store that is not Maildir (storetest.Memory: no
// files, no inodes) through the store interface alone: new messages are
// read, a flag change is recorded without reading, an expunge is a
// deletion, and a new message of the same size and date as one that was
// expunged is read, not taken for a move of it (a move is only recognised
// by a file identity, which such a store does not have).
func TestScanMemoryStore(t *testing.T) {
	f := newFixture(t)
	mem := storetest.NewMemory()
	const account = "alice@example.org"
	a, err := mem.Account(account)
	if err != nil {
		t.Fatal(err)
	}
	w := mem.AccountWriter(a)
	if err := w.Folder(store.FolderSpec{Name: store.Inbox}); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(id, body string) {
		t.Helper()
		s, err := w.Stage("", "cur", mem.MessageName(id, "", ""), strings.NewReader(body), date, store.Owner{})
		if err == nil {
			err = w.Publish([]store.Staged{s})[0]
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("m1", "content A")
	write("m2", "content B")
	res := f.scanOK(mem)
	if res.New != 2 {
		t.Errorf("first scan: %d new, want 2", res.New)
	}
	if got, want := f.items(account), []string{"INBOX/m1: content A", "INBOX/m2: content B"}; !slices.Equal(got, want) {
		t.Fatalf("first scan recorded %q, want %q", got, want)
	}

	snap, err := mem.Snapshot(a, store.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inbox := &snap.Folders[0]
	for i := range inbox.Messages {
		switch m := &inbox.Messages[i]; m.ID() {
		case "m1":
			err = mem.Expunge(a, inbox, m)
		case "m2":
			err = mem.SetFlags(a, inbox, m, "S")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("m3", "content C") // the size and date of m1
	res = f.scanOK(mem)
	if res.New != 1 || res.Changed != 1 || res.Deleted != 1 || res.Moved != 0 || res.BytesRead != int64(len("content C")) {
		t.Errorf("second scan: %d new, %d changed, %d deleted, %d moved, %d bytes read; want 1, 1, 1, 0 and only m3 read",
			res.New, res.Changed, res.Deleted, res.Moved, res.BytesRead)
	}
	if got, want := f.items(account), []string{"INBOX/m2: content B", "INBOX/m3: content C"}; !slices.Equal(got, want) {
		t.Errorf("second scan recorded %q, want %q", got, want)
	}
}
