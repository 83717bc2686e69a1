package realtime

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A realtime batch of an account whose folder named in bytes that are not
// UTF-8 (.Caf\xe9) did not change skips that folder and keeps its
// messages: it records only the delivery that triggered it.
func TestRealtimeKeepsNonUTF8Folder(t *testing.T) {
	g := newRig(t, 1, 20)
	g.eventually("the first pass", func() bool { return g.items() == 20 })
	a := g.firstAccount()
	// The folder is made outside the store with old times, then moved in,
	// so that its stamps let the next batch skip it.
	staged := filepath.Join(t.TempDir(), "folder")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(staged, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"1700000001.M1P1.caf:2,S", "1700000002.M2P1.caf:2,S"} {
		if err := os.WriteFile(filepath.Join(staged, "cur", name), []byte("Subject: caf\xe9\n\n"+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(staged, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staged, filepath.Join(a.Root, ".Caf\xe9")); err != nil {
		t.Fatal(err)
	}
	open := func(folder string) (n int) {
		g.t.Helper()
		if err := g.repo.Catalog.DB().QueryRow(`SELECT count(*) FROM items i JOIN accounts a ON a.id = i.account_id
			WHERE a.name = ? AND i.folder = ? AND i.valid_to IS NULL`, a.Name, folder).Scan(&n); err != nil {
			g.t.Fatal(err)
		}
		return n
	}
	g.eventually("recording the folder .Caf\\xe9", func() bool { return open("Caf\xe9") == 2 })

	// A delivery into INBOX: a batch of the account, which skips the
	// unchanged folder.
	if err := os.WriteFile(filepath.Join(a.Root, "new", "1800000000.M9P9.rt"), []byte("Subject: new\n\nhello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var delivered int
	g.eventually("recording the delivery", func() bool {
		err := g.repo.Catalog.DB().QueryRow(`SELECT count(*) FROM items WHERE base = '1800000000.M9P9.rt' AND valid_to IS NULL`).Scan(&delivered)
		return err == nil && delivered == 1
	})
	var closed int
	if err := g.repo.Catalog.DB().QueryRow(`SELECT count(*) FROM items WHERE folder = ? AND valid_to IS NOT NULL`, "Caf\xe9").Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if n := open("Caf\xe9"); n != 2 || closed != 0 {
		t.Fatalf("after the batch, .Caf\\xe9 has %d current messages and %d recorded deleted; want 2 and 0", n, closed)
	}
}
