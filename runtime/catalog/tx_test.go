package catalog

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// openWithAccount opens a test catalog and starts a transaction with an
// account and a blob (blobID(1)) for its items.
func openWithAccount(t *testing.T) (*Catalog, *Tx, Account) {
	t.Helper()
	c := openTestCatalog(t)
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tx.Rollback)
	a, err := tx.Account("ann@example.org", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.AddBlob(blobID(1), BlobRef{Pack: 1, Offset: 8, Length: 10, Size: 5}); err != nil {
		t.Fatal(err)
	}
	return c, tx, a
}

// InsertItems and CloseItems write items over several multi-row
// statements, each item exactly as given.
func TestBatchedItemWrites(t *testing.T) {
	c, tx, a := openWithAccount(t)
	n := 2*max(insertBatch, closeBatch) + 7
	var items []Item
	for i := range n {
		items = append(items, Item{AccountID: a.ID, Folder: "INBOX", Base: fmt.Sprint("m", i), Subdir: "cur",
			Name: fmt.Sprint("m", i, ":2,S"), Blob: blobID(1), Size: int64(i), MTime: int64(1000 + i), Ino: uint64(50 + i),
			Flags: "S", Keywords: []string{"$Label1", fmt.Sprint("k", i)}, UID: uint32(i + 1),
			Owner: Owner{UID: 8, GID: 12, Mode: 0o600}, ValidFrom: 10})
	}
	if err := tx.InsertItems(items); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := c.OpenItems(a.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d items after inserting %d", len(got), n)
	}
	var ids []int64
	for i := range got {
		want := items[i]
		want.ID = got[i].ID
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("item %d reads back as %+v, want %+v", i, got[i], want)
		}
		ids = append(ids, got[i].ID)
	}

	tx, err = c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	closed := ids[:n-3]
	if err := tx.CloseItems(closed, 20); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	open, err := c.OpenItems(a.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, it := range open {
		left = append(left, it.ID)
	}
	if !slices.Equal(left, ids[n-3:]) {
		t.Fatalf("open after closing all but 3: %v, want %v", left, ids[n-3:])
	}
}

// OpenItems leaves out the items of any number of folders, more than a
// statement may have parameters included.
func TestOpenItemsExceptManyFolders(t *testing.T) {
	c, tx, a := openWithAccount(t)
	var items []Item
	for i := range 40000 {
		items = append(items, Item{AccountID: a.ID, Folder: fmt.Sprintf("F%05d", i), Base: "m", Name: "m", Blob: blobID(1), ValidFrom: 1})
	}
	if err := tx.InsertItems(items); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	except := []string{`quote "and" \ backslash`}
	for i := range 39999 {
		except = append(except, fmt.Sprintf("F%05d", i))
	}
	got, err := c.OpenItems(a.ID, except)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Folder != "F39999" {
		t.Fatalf("OpenItems except 39,999 of 40,000 folders: %d items (%v)", len(got), got)
	}
	if n, err := c.CountOpenItems(a.ID); err != nil || n != 40000 {
		t.Fatalf("CountOpenItems = %d, %v; want 40000", n, err)
	}
}
