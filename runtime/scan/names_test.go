package scan_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/purge"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// A folder whose name is not UTF-8 is a folder like any other: a scan
// that skips it (its stamps unchanged), a plain SmartScan or a realtime
// batch of its account (scan.Run with Only), records none of its messages
// deleted, the purge keeps them, and a restore gives them back byte for
// byte under the same directory name.
func TestNonUTF8FolderIsNeverTakenForDeleted(t *testing.T) {
	f := newFixture(t)
	const account, copyTo = "ann@example.org", "bob@example.org"
	const folder = ".Caf\xe9"
	f.deliver(account, "100.M1P1.host", "inbox message")
	f.deliverTo(account, folder, "200.M2P1.host", "caf\xe9 message one")
	f.deliverTo(account, folder, "201.M2P1.host", "caf\xe9 message two")
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(f.root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		what string
		opts scan.Options
	}{
		{"first SmartScan", scan.Options{}},
		{"second SmartScan", scan.Options{}},
		{"realtime batch", scan.Options{Only: []string{account}}},
		{"third SmartScan", scan.Options{}},
	} {
		res, err := scan.Run(context.Background(), f.repo, f.store, run.opts)
		if err != nil || len(res.Errors) != 0 {
			t.Fatalf("%s: %v, %q", run.what, err, res.Errors)
		}
		if res.Deleted != 0 || res.Items != 3 {
			t.Fatalf("%s: %d items, %d recorded deleted; want 3, 0", run.what, res.Items, res.Deleted)
		}
	}
	var closed int
	if err := f.repo.Catalog.DB().QueryRow(`SELECT count(*) FROM items WHERE valid_to IS NOT NULL`).Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if closed != 0 {
		t.Fatalf("%d item versions closed; want 0 (nothing changed)", closed)
	}
	if _, err := purge.Run(context.Background(), f.repo, purge.Options{Now: time.Now().Add(90 * purge.Day), ItemRetentionDays: 30, AccountRetentionDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{Account: account, To: copyTo}); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"200.M2P1.host", "201.M2P1.host"} {
		name := base + ":2,S"
		want, err := os.ReadFile(filepath.Join(f.maildir(account), folder, "cur", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(f.maildir(copyTo), folder, "cur", name))
		if err != nil {
			t.Fatalf("restored %q: %v", folder, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("restored %s/%s: %q, want %q", folder, name, got, want)
		}
	}
	f.verify()
}
