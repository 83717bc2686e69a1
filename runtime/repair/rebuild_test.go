package repair_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repair"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// TestRebuildCatalog loses the catalog of a backed-up store and rebuilds
// it: every content comes back once, in the account its Delivered-To
// names; the repository verifies clean; a recovered account restores
// byte-identical messages; and the next SmartScan stores nothing again.
func TestRebuildCatalog(t *testing.T) {
	m := mailrepo.New(t, corpus.Options{Seed: 21, Accounts: 3, Messages: 240, MaxSize: 64 << 10}, repo.Options{})
	root, backup, st, store, r := m.Root, m.Backup, m.Corpus, m.Store, m.Repo
	t0 := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	if _, err := scan.Run(context.Background(), r, store, scan.Options{Now: func() time.Time { return t0 }}); err != nil {
		t.Fatal(err)
	}
	// What each account held, by content.
	held := map[string]map[catalog.BlobID]bool{}
	all := map[catalog.BlobID]bool{}
	for _, a := range st.PerAccount {
		s, err := r.Catalog.StateAt(a.Address, t0.Add(time.Minute).UnixNano())
		if err != nil {
			t.Fatal(err)
		}
		held[a.Address] = map[catalog.BlobID]bool{}
		for _, it := range s.Items {
			held[a.Address][it.Blob] = true
			all[it.Blob] = true
		}
	}
	r.Close()
	cat := filepath.Join(backup, repo.CatalogFile)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(cat + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	var ce *repo.CatalogError
	if _, err := repo.Open(backup, repo.Options{Create: true}); !errors.As(err, &ce) {
		t.Fatalf("Open without a catalog: %v", err)
	}

	t1 := t0.Add(24 * time.Hour)
	rep, err := repair.RebuildCatalog(context.Background(), backup, t1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != int64(len(all)) || len(rep.Damaged) != 0 {
		t.Fatalf("rebuilt %d blobs (damaged %v); the store held %d distinct contents", rep.Blobs, rep.Damaged, len(all))
	}

	r, err = repo.Open(backup, repo.Options{})
	if err != nil {
		t.Fatalf("Open after the rebuild: %v", err)
	}
	defer r.Close()
	vr, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil || len(vr.Problems) != 0 || vr.Blobs != int64(len(all)) {
		t.Fatalf("verify after the rebuild: %v %+v", err, vr)
	}
	before := t1.Add(-time.Nanosecond).UnixNano()
	got := map[catalog.BlobID]string{}
	attributed := 0
	for _, a := range rep.Accounts {
		s, err := r.Catalog.StateAt(a.Name, before)
		if err != nil {
			t.Fatal(err)
		}
		if s.Account.DeletedAt != t1.UnixNano() || len(s.Folders) != 1 || s.Folders[0].Name != repair.RecoveredFolder || int64(len(s.Items)) != a.Messages {
			t.Fatalf("recovered account %s: deleted at %d, folders %+v, %d items (report %d)", a.Name, s.Account.DeletedAt, s.Folders, len(s.Items), a.Messages)
		}
		for _, it := range s.Items {
			if prev, dup := got[it.Blob]; dup {
				t.Fatalf("content %x is in %s and %s", it.Blob[:8], prev, a.Name)
			}
			got[it.Blob] = a.Name
			if a.Name != repair.Unattributed {
				attributed++
				if !held[a.Name][it.Blob] {
					t.Errorf("content %x went to %s, which never held it", it.Blob[:8], a.Name)
				}
			}
		}
	}
	if len(got) != len(all) || attributed < len(all)/2 {
		t.Fatalf("%d of %d contents recovered, %d attributed to an account", len(got), len(all), attributed)
	}

	// A recovered account restores, byte for byte.
	name := st.PerAccount[0].Address
	res, err := restore.Run(context.Background(), r, store, restore.Options{Account: name, To: "recovered@" + strings.SplitN(name, "@", 2)[1], At: time.Unix(0, before)})
	if err != nil {
		t.Fatalf("restore of the recovered %s: %v", name, err)
	}
	var want int
	for _, n := range got {
		if n == name {
			want++
		}
	}
	if res.Messages != want {
		t.Fatalf("restored %d messages of %s, recovered %d", res.Messages, name, want)
	}
	restored := 0
	err = filepath.WalkDir(filepath.Join(root, strings.SplitN(name, "@", 2)[1], "recovered", "Maildir", "."+repair.RecoveredFolder, "cur"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if got[sha256.Sum256(b)] != name {
			t.Errorf("restored file %s is not a recovered message of %s", p, name)
		}
		restored++
		return nil
	})
	if err != nil || restored != want {
		t.Fatalf("restored files: %d, %v; want %d", restored, err, want)
	}

	// The live store is recorded again without storing anything twice.
	sr, err := scan.Run(context.Background(), r, store, scan.Options{Now: func() time.Time { return t1.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if sr.NewBlobs != 0 || sr.BytesStored != 0 {
		t.Fatalf("the SmartScan after the rebuild stored %d blobs (%d bytes)", sr.NewBlobs, sr.BytesStored)
	}
}

// TestRebuildCatalogRefusedWhileLocked: the rebuild takes the repository
// lock, so it cannot run beside the agent, and then changes nothing.
func TestRebuildCatalogRefusedWhileLocked(t *testing.T) {
	backup := filepath.Join(t.TempDir(), "backup")
	r, err := repo.Open(backup, repo.Options{Create: true, Purpose: "mailkeep agent"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = repair.RebuildCatalog(context.Background(), backup, time.Now())
	var le *repo.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("rebuild beside the agent: %v", err)
	}
	if _, err := os.Stat(filepath.Join(backup, repo.CatalogFile)); err != nil {
		t.Fatalf("the catalog was moved although the rebuild was refused: %v", err)
	}
}
