package catalog

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// searchFixture is a small history of one account:
//
//	id 1 INBOX/a  blob 1  t 10..      received 100  from Alice, subject "Quarterly Report"
//	id 2 INBOX/b  blob 2  t 10..40    received 200  from Bob (deleted at 40)
//	id 3 INBOX/c  blob 3  t 10..30    received 300  from Carol, flags ""
//	id 4 INBOX/c  blob 3  t 30..      received 300  flags "S" (flag change)
//	id 5 Sent/d   blob 4  t 20..      received 400  to Alice; blob 4 has no headers (not indexed)
//	id 6 Old/e    blob 5  t 10..25    received 500  (folder deleted at 25)

func newSearchFixture(t *testing.T) *Catalog {
	t.Helper()
	c := openTestCatalog(t)
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := 1; i <= 5; i++ {
		if err := tx.AddBlob(blobID(byte(i)), BlobRef{Pack: 1, Offset: int64(16 * i), Length: 10, Size: 10}); err != nil {
			t.Fatal(err)
		}
	}
	err = tx.AddHeaders([]BlobHeaders{
		{blobID(1), Headers{From: "Alice Martin <Alice@Example.org>", To: "bob@example.org", Subject: "Quarterly Report", Date: 90, MessageID: "a1@example.org"}},
		{blobID(2), Headers{From: "Bob <bob@example.org>", To: "alice@example.org", Cc: "Carol Ünal <carol@example.org>", Subject: "lunch?", MessageID: "b2@example.org"}},
		{blobID(3), Headers{From: "Carol Ünal <carol@example.org>", To: "alice@example.org", Subject: "ÉTÉ report", MessageID: "c3@example.org"}},
		{blobID(5), Headers{From: "old@example.org", Subject: "old report"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := tx.Account("ann@example.org", 10)
	if err != nil {
		t.Fatal(err)
	}
	item := func(folder, base, flags string, blob byte, mtime, from, to int64) {
		t.Helper()
		it := &Item{AccountID: a.ID, Folder: folder, Base: base, Subdir: "cur", Name: base + ":2," + flags, Flags: flags,
			Blob: blobID(blob), Size: 100 * int64(blob), MTime: mtime, ValidFrom: from}
		if err := tx.InsertItem(it); err != nil {
			t.Fatal(err)
		}
		if to != 0 {
			if err := tx.CloseItem(it.ID, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	item("INBOX", "a", "", 1, 100, 10, 0)
	item("INBOX", "b", "", 2, 200, 10, 40)
	item("INBOX", "c", "", 3, 300, 10, 30)
	item("INBOX", "c", "S", 3, 300, 30, 0)
	item("Sent", "d", "", 4, 400, 20, 0)
	item("Old", "e", "", 5, 500, 10, 25)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return c
}

func searchIDs(t *testing.T, c *Catalog, q SearchQuery) ([]int64, *SearchResult) {
	t.Helper()
	res, err := c.Search("ann@example.org", q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	var ids []int64
	for _, f := range res.Messages {
		ids = append(ids, f.Item.ID)
	}
	return ids, res
}

func TestSearchFilters(t *testing.T) {
	c := newSearchFixture(t)
	for _, tc := range []struct {
		name      string
		q         SearchQuery
		want      []int64
		unindexed int64
	}{
		{"whole history, latest versions", SearchQuery{}, []int64{1, 2, 4, 5, 6}, 0},
		{"sender address, case-insensitive", SearchQuery{Sender: "ALICE@example"}, []int64{1}, 1},
		{"sender display name", SearchQuery{Sender: "martin"}, []int64{1}, 1},
		{"sender non-ASCII name", SearchQuery{Sender: "ünal"}, []int64{4}, 1},
		{"recipient in To", SearchQuery{Recipient: "bob@"}, []int64{1}, 1},
		{"recipient in Cc", SearchQuery{Recipient: "CAROL"}, []int64{2}, 1},
		{"subject substring", SearchQuery{Subject: "report"}, []int64{1, 4, 6}, 1},
		{"subject non-ASCII case", SearchQuery{Subject: "été"}, []int64{4}, 1},
		{"message-id with brackets", SearchQuery{MessageID: " <b2@example.org> "}, []int64{2}, 1},
		{"message-id is exact", SearchQuery{MessageID: "b2@example"}, nil, 1},
		{"folder", SearchQuery{Folder: "INBOX"}, []int64{1, 2, 4}, 0},
		{"since (inclusive)", SearchQuery{Since: 300}, []int64{4, 5, 6}, 0},
		{"before (exclusive)", SearchQuery{Before: 300}, []int64{1, 2}, 0},
		{"since and before", SearchQuery{Since: 200, Before: 400}, []int64{2, 4}, 0},
		{"deleted", SearchQuery{Deleted: true}, []int64{2, 6}, 0},
		{"combined", SearchQuery{Subject: "report", Folder: "INBOX", Since: 200}, []int64{4}, 0},
		{"combined deleted", SearchQuery{Subject: "report", Deleted: true}, []int64{6}, 0},
		{"at: present then", SearchQuery{At: 20}, []int64{1, 2, 3, 5, 6}, 0},
		{"at: after the flag change and deletions", SearchQuery{At: 35}, []int64{1, 2, 4, 5}, 0},
		{"at: before Sent/d", SearchQuery{At: 15}, []int64{1, 2, 3, 6}, 0},
		{"at with deleted: present then, gone now", SearchQuery{At: 20, Deleted: true}, []int64{2, 6}, 0},
		{"at with folder and subject", SearchQuery{At: 20, Folder: "INBOX", Subject: "report"}, []int64{1, 3}, 0},
		{"at with sender", SearchQuery{At: 45, Sender: "alice"}, []int64{1}, 1},
	} {
		got, res := searchIDs(t, c, tc.q)
		if !slices.Equal(got, tc.want) || res.Unindexed != tc.unindexed {
			t.Errorf("%s: ids %v unindexed %d, want %v unindexed %d", tc.name, got, res.Unindexed, tc.want, tc.unindexed)
		}
	}
}

func TestSearchFields(t *testing.T) {
	c := newSearchFixture(t)
	_, res := searchIDs(t, c, SearchQuery{})
	byID := map[int64]Found{}
	for _, f := range res.Messages {
		byID[f.Item.ID] = f
	}
	if f := byID[2]; f.DeletedAt != 40 || f.Headers == nil || f.Headers.Cc != "Carol Ünal <carol@example.org>" || f.Item.Size != 200 {
		t.Errorf("deleted message: %+v %+v", f, f.Headers)
	}
	if f := byID[4]; f.DeletedAt != 0 || f.Item.Flags != "S" || f.Item.MTime != 300 {
		t.Errorf("flag-changed message: %+v", f)
	}
	if f := byID[5]; f.Headers != nil {
		t.Errorf("unindexed message has headers %+v", f.Headers)
	}
	// With -at, the version present then, and whether it is gone now.
	_, res = searchIDs(t, c, SearchQuery{At: 20})
	for _, f := range res.Messages {
		if f.Item.ID == 3 && (f.Item.Flags != "" || f.DeletedAt != 0) {
			t.Errorf("INBOX/c at 20: %+v, want the unflagged version, still present", f)
		}
		if f.Item.ID == 6 && f.DeletedAt != 25 {
			t.Errorf("Old/e at 20: deleted at %d, want 25", f.DeletedAt)
		}
	}
	// Limit.
	ids, res := searchIDs(t, c, SearchQuery{Limit: 2})
	if !slices.Equal(ids, []int64{1, 2}) || !res.Truncated {
		t.Errorf("limit 2: %v truncated %v", ids, res.Truncated)
	}
}

func TestSearchBadInput(t *testing.T) {
	c := newSearchFixture(t)
	if _, err := c.Search("nobody@example.org", SearchQuery{}); err == nil || !strings.Contains(err.Error(), "nobody@example.org") {
		t.Errorf("unknown account: %v", err)
	}
	if _, err := c.Search("ann@example.org", SearchQuery{Since: 300, Before: 200}); err == nil {
		t.Errorf("before < since: no error")
	}
}

func TestHeadersOf(t *testing.T) {
	c := newSearchFixture(t)
	got, err := c.HeadersOf([]BlobID{blobID(1), blobID(4), blobID(9)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[blobID(1)].Subject != "Quarterly Report" || got[blobID(1)].Date != 90 {
		t.Errorf("HeadersOf: %+v", got)
	}
	// Many ids, over several statements.
	ids := make([]BlobID, 1200)
	for i := range ids {
		ids[i] = BlobID{0xff, byte(i >> 8), byte(i)}
	}
	ids[1100] = blobID(3)
	if got, err = c.HeadersOf(ids); err != nil || len(got) != 1 || got[blobID(3)].MessageID != "c3@example.org" {
		t.Errorf("HeadersOf 1200 ids: %+v, %v", got, err)
	}
}

// Purge drops the header rows of the blobs it drops (ON DELETE CASCADE),
// and keeps those of the blobs still referenced.
func TestPurgeDropsHeaders(t *testing.T) {
	c := newSearchFixture(t)
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	a, _ := tx.Account("ann@example.org", 50)
	if _, err := tx.DeleteExpired(a.ID, 45); err != nil { // items 2, 3 and 6
		t.Fatal(err)
	}
	var dropped []BlobID
	if _, err := tx.DropUnreferencedBlobs(func(id BlobID, _ BlobRef) { dropped = append(dropped, id) }); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []BlobID{blobID(2), blobID(5)}) {
		t.Fatalf("dropped %x", dropped)
	}
	var n int
	if err := c.DB().QueryRow(`SELECT count(*) FROM blob_headers`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d header rows left (%v), want 2 (blobs 1 and 3)", n, err)
	}
	got, _ := c.HeadersOf([]BlobID{blobID(1), blobID(2), blobID(3), blobID(5)})
	if _, ok := got[blobID(2)]; ok || len(got) != 2 {
		t.Errorf("headers after the purge: %+v", got)
	}
	// A whole account purged takes its blobs' headers too.
	tx, _ = c.Begin()
	defer tx.Rollback()
	if _, err := tx.DeleteAccountRows(a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.DropUnreferencedBlobs(func(BlobID, BlobRef) {}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if err := c.DB().QueryRow(`SELECT count(*) FROM blob_headers`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d header rows left after the account's purge (%v)", n, err)
	}
}

// A catalog made before blob_headers existed gains the table when opened;
// its blobs are listed for indexing, in id order, and only those whose
// blob is still known get rows.
func TestOpenAddsHeadersAndUnindexed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := c.Begin()
	for i := 1; i <= 5; i++ {
		tx.AddBlob(blobID(byte(i)), BlobRef{Pack: 1, Offset: int64(16 * i), Length: 10, Size: 10})
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB().Exec(`DROP TABLE blob_headers`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.CountUnindexed(); n != 5 || err != nil {
		t.Fatalf("CountUnindexed = %d, %v", n, err)
	}
	list, err := c.UnindexedBlobs(blobID(2), 2)
	if err != nil || len(list) != 2 || list[0].ID != blobID(3) || list[1].ID != blobID(4) || list[0].Ref.Offset != 48 {
		t.Fatalf("UnindexedBlobs after 2: %+v, %v", list, err)
	}
	tx, _ = c.Begin()
	n, err := tx.AddHeadersOfKnown([]BlobHeaders{{blobID(3), Headers{Subject: "x"}}, {blobID(7), Headers{Subject: "gone"}}})
	if err != nil || n != 1 {
		t.Fatalf("AddHeadersOfKnown: %d, %v", n, err)
	}
	tx.Commit()
	if n, _ := c.CountUnindexed(); n != 4 {
		t.Errorf("CountUnindexed after one row = %d", n)
	}
}
