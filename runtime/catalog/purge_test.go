package catalog

import (
	"path/filepath"
	"slices"
	"testing"
)

func openTestCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "catalog.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func blobID(b byte) BlobID { return BlobID{b} }

// TestPurgeQueries exercises the purge side of the catalog on a small
// hand-made history.
func TestPurgeQueries(t *testing.T) {
	c := openTestCatalog(t)
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i, ref := range []BlobRef{{Pack: 1, Offset: 16, Length: 100, Size: 50}, {Pack: 1, Offset: 116, Length: 200, Size: 150}, {Pack: 2, Offset: 16, Length: 300, Size: 250}, {Pack: 2, Offset: 316, Length: 400, Size: 350}} {
		if err := tx.AddBlob(blobID(byte(i+1)), ref); err != nil {
			t.Fatal(err)
		}
	}
	a, err := tx.Account("ann@example.com", 10)
	if err != nil {
		t.Fatal(err)
	}
	item := func(folder, base, name string, blob byte, from, to int64) {
		t.Helper()
		it := &Item{AccountID: a.ID, Folder: folder, Base: base, Subdir: "cur", Name: name, Blob: blobID(blob), Size: 10, ValidFrom: from}
		if err := tx.InsertItem(it); err != nil {
			t.Fatal(err)
		}
		if to != 0 {
			if err := tx.CloseItem(it.ID, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	item("INBOX", "gone", "gone:2,", 1, 10, 20)       // deleted at 20
	item("INBOX", "flagged", "flagged:2,", 2, 10, 30) // flag change at 30
	item("INBOX", "flagged", "flagged:2,S", 2, 30, 0) // current
	item("INBOX", "edge", "edge:2,", 3, 10, 50)       // deleted exactly at the cutoff
	item("Sent", "kept", "kept:2,", 4, 10, 0)
	if err := tx.InsertFolder(&FolderVersion{AccountID: a.ID, Name: "Old", ValidFrom: 10}); err != nil {
		t.Fatal(err)
	}
	f := &FolderVersion{AccountID: a.ID, Name: "INBOX", ValidFrom: 10}
	tx.InsertFolder(f)
	tx.CloseFolder(f.ID, 40)
	tx.InsertFolder(&FolderVersion{AccountID: a.ID, Name: "INBOX", ValidFrom: 40})
	// Old ends exactly at the cutoff: kept.
	if _, err := tx.exec(`UPDATE folder_versions SET valid_to = 50 WHERE name = 'Old'`); err != nil {
		t.Fatal(err)
	}

	const cutoff = 50
	var expired []string
	if err := tx.ExpiredItems(a.ID, cutoff, func(it *ExpiredItem) error {
		expired = append(expired, it.Folder+"/"+it.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"INBOX/flagged:2,", "INBOX/gone:2,"}; !slices.Equal(expired, want) {
		t.Errorf("expired %v, want %v", expired, want)
	}
	var kept []string
	if err := tx.KeptItemKeys(a.ID, cutoff, func(folder, base []byte) { kept = append(kept, string(folder)+"/"+string(base)) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(kept)
	if want := []string{"INBOX/edge", "INBOX/flagged", "Sent/kept"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if n, err := tx.CountExpired(a.ID, cutoff); err != nil || n != 3 {
		t.Errorf("CountExpired = %d, %v; want 3 (2 items, 1 folder version)", n, err)
	}
	rm, err := tx.DeleteExpired(a.ID, cutoff)
	if err != nil || rm != (Removed{Items: 2, FolderVersions: 1}) {
		t.Fatalf("DeleteExpired = %+v, %v", rm, err)
	}
	var dropped []BlobID
	n, err := tx.DropUnreferencedBlobs(func(id BlobID, ref BlobRef) { dropped = append(dropped, id) })
	if err != nil || n != 1 || dropped[0] != blobID(1) {
		t.Fatalf("DropUnreferencedBlobs = %d %x, %v; want blob 1 only", n, dropped, err)
	}
	usage, err := tx.PackUsage()
	if err != nil || usage[1] != (PackUse{1, 200}) || usage[2] != (PackUse{2, 700}) {
		t.Errorf("PackUsage = %v, %v", usage, err)
	}
	if g, _ := tx.PurgeGeneration(); g != 0 {
		t.Errorf("purge generation %d before any bump", g)
	}
	for range 2 {
		if err := tx.BumpPurgeGeneration(); err != nil {
			t.Fatal(err)
		}
	}
	if g, err := tx.PurgeGeneration(); g != 2 || err != nil {
		t.Errorf("purge generation %d, %v after two bumps", g, err)
	}
	if ok, err := tx.MoveBlob(blobID(2), BlobRef{Pack: 1, Offset: 116, Length: 200, Size: 150}, BlobRef{Pack: 3, Offset: 16, Length: 200, Size: 150}); !ok || err != nil {
		t.Errorf("MoveBlob: %v %v", ok, err)
	}
	if ok, _ := tx.MoveBlob(blobID(2), BlobRef{Pack: 1, Offset: 116, Length: 200, Size: 150}, BlobRef{Pack: 3, Offset: 16, Length: 200, Size: 150}); ok {
		t.Error("MoveBlob from a stale location succeeded")
	}
	if _, err := tx.MoveBlob(blobID(3), BlobRef{Pack: 2, Offset: 16, Length: 300, Size: 250}, BlobRef{Pack: 3, Offset: 216, Length: 301, Size: 250}); err == nil {
		t.Error("MoveBlob to a record of another length succeeded")
	}
	if n, _ := tx.PackRefs(1); n != 0 {
		t.Errorf("pack 1 still has %d blobs after the move", n)
	}
	msgs, bytes, versions, err := tx.AccountSummary(a.ID, 60)
	if err != nil || msgs != 2 || bytes != 20 || versions != 3 {
		t.Errorf("AccountSummary = %d %d %d %v", msgs, bytes, versions, err)
	}
	rm, err = tx.DeleteAccountRows(a.ID)
	if err != nil || rm != (Removed{Items: 3, FolderVersions: 2, Accounts: 1}) {
		t.Fatalf("DeleteAccountRows = %+v, %v", rm, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if as, _ := c.Accounts(); len(as) != 0 {
		t.Errorf("accounts left: %+v", as)
	}
	if g, _ := c.PurgeGeneration(); g != 2 {
		t.Errorf("committed purge generation %d", g)
	}
	if bs, _ := c.BlobsInPack(3); len(bs) != 1 || bs[0].ID != blobID(2) {
		t.Errorf("BlobsInPack(3) = %+v", bs)
	}
}

// TestDropBlobsKeepsReferenced: the foreign key and the query agree; a
// blob referenced by any account survives.
func TestDropBlobsKeepsReferenced(t *testing.T) {
	c := openTestCatalog(t)
	tx, _ := c.Begin()
	defer tx.Rollback()
	tx.AddBlob(blobID(9), BlobRef{Pack: 1, Offset: 16, Length: 60, Size: 8})
	for _, name := range []string{"a@x", "b@x"} {
		a, _ := tx.Account(name, 1)
		if err := tx.InsertItem(&Item{AccountID: a.ID, Folder: "INBOX", Base: "m", Name: "m", Blob: blobID(9), ValidFrom: 1}); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := tx.Account("a@x", 2)
	if _, err := tx.DeleteAccountRows(a.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := tx.DropUnreferencedBlobs(func(BlobID, BlobRef) {}); n != 0 || err != nil {
		t.Errorf("dropped %d blobs (%v) still referenced by b@x", n, err)
	}
}

// A catalog written before accounts.exact_from existed gains the column
// when opened, every account with nothing purged.
func TestOpenAddsExactFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Account("old@example.org", 100); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB().Exec(`ALTER TABLE accounts DROP COLUMN exact_from`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.AccountByName("old@example.org")
	if err != nil || a.ExactFrom != 0 {
		t.Fatalf("account after the upgrade: %+v, %v", a, err)
	}
	tx, err = c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.RaiseExactFrom(a.ID, 500); err != nil {
		t.Fatal(err)
	}
	if err := tx.RaiseExactFrom(a.ID, 300); err != nil { // never lowered
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if a, err = c.AccountByName("old@example.org"); err != nil || a.ExactFrom != 500 {
		t.Fatalf("exact_from after raising to 500 then 300: %d, %v; want 500", a.ExactFrom, err)
	}
}
