package restore_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
	"github.com/mailkeep/mailkeep/runtime/store"
	"github.com/mailkeep/mailkeep/runtime/store/storetest"
)

// A backup and a full restore through the store interface alone, on a
// store that is not Maildir (storetest.Memory): the restored account has
// the folders, messages (identity, name, flags, keywords, received date,
// UID, content), UIDVALIDITY, keyword tables and subscriptions of the
// original.
func TestRestoreMemoryStore(t *testing.T) {
	mem := storetest.NewMemory()
	r, err := repo.Open(filepath.Join(t.TempDir(), "backup"), repo.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	src, err := mem.Account("alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	w := mem.AccountWriter(src)
	table := []string{"$Junk", "work"}
	msgs := []struct {
		folder, dir, id, flags, letters, body string
		uid                                   uint32
	}{
		{store.Inbox, "", "m1", "", "", "Subject: one\r\n\r\n1", 1},
		{store.Inbox, "", "m2", "FS", "b", "Subject: two\r\n\r\n2", 2},
		{"Projects/2026", "Projects/2026", "m3", "RS", "ab", "Subject: three\r\n\r\n3", 5},
	}
	for _, f := range []struct{ name, dir string }{{store.Inbox, ""}, {"Projects/2026", "Projects/2026"}} {
		if err := w.Folder(store.FolderSpec{Name: f.name, Dir: f.dir}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteKeywords(f.dir, table, store.Owner{}); err != nil {
			t.Fatal(err)
		}
		var entries []store.UIDEntry
		for i, m := range msgs {
			if m.dir != f.dir {
				continue
			}
			date := time.Date(2026, 2, 1+i, 8, 0, 0, 0, time.UTC)
			s, err := w.Stage(m.dir, "cur", mem.MessageName(m.id, m.flags, m.letters), strings.NewReader(m.body), date, store.Owner{})
			if err == nil {
				err = w.Publish([]store.Staged{s})[0]
			}
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, store.UIDEntry{UID: m.uid, Base: m.id})
		}
		if err := w.WriteUIDList(f.dir, 1234, 9, "", entries, store.Owner{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteSubscriptions([]string{"INBOX", "Projects/2026"}, nil, store.Owner{}); err != nil {
		t.Fatal(err)
	}

	at := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	if res, err := scan.Run(context.Background(), r, mem, scan.Options{Now: func() time.Time { return at }}); err != nil || res.New != 3 {
		t.Fatalf("SmartScan of the memory store: %v, %+v", err, res)
	}
	res, err := restore.Run(context.Background(), r, mem, restore.Options{Account: src.Name, To: "bob@example.org", At: at.Add(time.Second)})
	if err != nil || res.Mode != "full" || res.Messages != 3 {
		t.Fatalf("restore into a new account: %v, %+v", err, res)
	}

	dst, _ := mem.Account("bob@example.org")
	a, err := mem.Snapshot(src, store.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mem.Snapshot(dst, store.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.SubscriptionsRaw, b.SubscriptionsRaw) {
		t.Errorf("subscriptions %q, restored %q", a.SubscriptionsRaw, b.SubscriptionsRaw)
	}
	if len(a.Folders) != len(b.Folders) {
		t.Fatalf("%d folders, restored %d", len(a.Folders), len(b.Folders))
	}
	for i := range a.Folders {
		fa, fb := &a.Folders[i], &b.Folders[i]
		if fa.Name != fb.Name || fa.UIDValidity != fb.UIDValidity || fa.NextUID != fb.NextUID || strings.Join(fa.Keywords, " ") != strings.Join(fb.Keywords, " ") || len(fa.Messages) != len(fb.Messages) {
			t.Errorf("folder %+v, restored %+v", *fa, *fb)
			continue
		}
		for j := range fa.Messages {
			ma, mb := &fa.Messages[j], &fb.Messages[j]
			if ma.ID() != mb.ID() || ma.Key() != mb.Key() || ma.Flags != mb.Flags || strings.Join(ma.Keywords, " ") != strings.Join(mb.Keywords, " ") ||
				!ma.MTime.Equal(mb.MTime) || ma.UID != mb.UID || ma.Size != mb.Size {
				t.Errorf("folder %s: message %+v, restored %+v", fa.Name, *ma, *mb)
			}
			if ca, cb := readMessage(t, mem, src, fa, ma), readMessage(t, mem, dst, fb, mb); ca != cb {
				t.Errorf("folder %s, message %s: content %q, restored %q", fa.Name, ma.ID(), ca, cb)
			}
		}
	}
}

// readMessage reads a message through the store interface.
func readMessage(t *testing.T, st store.Store, a store.Account, f *store.Folder, m *store.Message) string {
	t.Helper()
	rc, err := st.Open(a, f, m)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
