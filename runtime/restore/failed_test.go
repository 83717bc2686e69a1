package restore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// damageBlob flips a byte inside the pack record of a blob, as a failing
// disk would.
func damageBlob(t *testing.T, f *fixture, id catalog.BlobID) {
	t.Helper()
	ref, err := f.repo.Catalog.Blob(id)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := os.OpenFile(f.repo.Packs.Path(ref.Pack), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	b := make([]byte, 1)
	off := ref.Offset + pack.RecordHeaderSize + 5
	if _, err := fd.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := fd.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// countMessages counts the message files below a Maildir root.
func countMessages(t *testing.T, root string) int {
	t.Helper()
	n := 0
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
				n++
			}
		}
		return nil
	})
	return n
}

// TestRestoreWritesAroundBadMessages: two messages whose blobs are
// damaged in their packs do not stop the restore of the account. Every
// other message is written, with its UID; the result counts what was
// written, names each message that was not with its folder, date, sender
// and subject, and the restore ends with an error saying so.
func TestRestoreWritesAroundBadMessages(t *testing.T) {
	f := newFixture(t, 47, 1, 80)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	state, err := f.repo.Catalog.StateAt(name, at.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	// Two messages of different folders, each the only user of its blob.
	uses := map[catalog.BlobID]int{}
	for _, it := range state.Items {
		uses[it.Blob]++
	}
	bad := map[string]catalog.Item{}
	for _, it := range state.Items {
		if _, taken := bad[it.Folder]; !taken && uses[it.Blob] == 1 && len(bad) < 2 {
			bad[it.Folder] = it
		}
	}
	if len(bad) != 2 {
		t.Fatalf("the corpus has no two folders with a message of its own: %v", bad)
	}
	for _, it := range bad {
		damageBlob(t, f, it.Blob)
	}

	const to = "partial@example.com"
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{Account: name, To: to, At: at.Add(time.Minute)})
	if err == nil || !strings.Contains(err.Error(), "2 of 80 messages could not be written") {
		t.Fatalf("restore with two damaged blobs: %v; want an error saying 2 of 80 messages could not be written", err)
	}
	if res == nil {
		t.Fatal("no result")
	}
	dst, _ := f.store.Account(to)
	if got := countMessages(t, dst.Root); res.Messages != 78 || got != 78 || res.Failed != 2 {
		t.Errorf("result: %d written, %d failed; %d files on disk; want 78 written, 2 failed", res.Messages, res.Failed, got)
	}
	if len(res.FailedItems) != 2 {
		t.Fatalf("failed items: %+v", res.FailedItems)
	}
	for _, fm := range res.FailedItems {
		it, ok := bad[fm.Folder]
		if !ok || fm.Name != it.Name || fm.ID != it.ID || fm.Subject == "" || fm.From == "" || fm.Error == "" ||
			!fm.Received.Equal(time.Unix(0, it.MTime)) {
			t.Errorf("failed item %+v does not name damaged message %+v with its sender and subject", fm, it)
		}
	}
	failedPerFolder := 0
	for _, fr := range res.Folders {
		failedPerFolder += fr.Failed
	}
	if failedPerFolder != 2 {
		t.Errorf("folders count %d failures, want 2: %+v", failedPerFolder, res.Folders)
	}

	// Everything else is as it was, UIDs included.
	want := f.describe(name)
	got := f.describe(to)
	if len(got.Messages) != len(want.Messages)-2 {
		t.Errorf("restored %d messages, want %d", len(got.Messages), len(want.Messages)-2)
	}
	missing := setDiff(want.Messages, got.Messages)
	if len(missing) != 2 {
		t.Errorf("%d messages differ from the source, want only the 2 damaged ones: %v", len(missing), missing)
	}
	for _, m := range missing {
		it := bad[strings.Fields(m)[0]]
		if !strings.Contains(m, it.Base) {
			t.Errorf("message %q is missing or different, but it was not damaged", m)
		}
	}
}
