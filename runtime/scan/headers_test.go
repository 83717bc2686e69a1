package scan_test

import (
	"context"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// A SmartScan records the search headers of every blob it stores, once
// per content (a message delivered to two accounts, read concurrently,
// gets one row), in the transaction that adds the blob.
func TestScanRecordsHeaders(t *testing.T) {
	f := newFixture(t)
	shared := "From: =?UTF-8?Q?Ren=C3=A9e?= <Renee@Example.org>\r\nTo: list@example.org\r\nSubject: list post\r\n" +
		"Message-ID: <post.1@example.org>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody\r\n"
	f.deliver("a@example.org", "1000.M1P1.host", shared)
	f.deliver("b@example.org", "1000.M1P1.host", shared)
	f.deliver("a@example.org", "1001.M1P1.host", "Subject: only a subject\n\nhi\n")
	f.deliver("a@example.org", "1002.M1P1.host", "no header block at all")
	f.deliverMany(3, 300) // more than the blob index's single lookups
	if _, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{}); err != nil {
		t.Fatal(err)
	}
	cat := f.repo.Catalog
	if n, err := cat.CountUnindexed(); n != 0 || err != nil {
		t.Fatalf("%d blobs without headers after the backup (%v)", n, err)
	}
	var blobs, rows int
	cat.DB().QueryRow(`SELECT count(*) FROM blobs`).Scan(&blobs)
	cat.DB().QueryRow(`SELECT count(*) FROM blob_headers`).Scan(&rows)
	if blobs != rows {
		t.Errorf("%d blobs, %d header rows", blobs, rows)
	}
	res, err := cat.Search("b@example.org", catalog.SearchQuery{Sender: "renée"})
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("search b@ for the list post: %+v, %v", res, err)
	}
	h := res.Messages[0].Headers
	if h == nil || h.From != "Renée <Renee@Example.org>" || h.MessageID != "post.1@example.org" || h.Subject != "list post" || h.Date == 0 {
		t.Errorf("list post headers %+v", h)
	}
	res, err = cat.Search("a@example.org", catalog.SearchQuery{Folder: "INBOX"})
	if err != nil || len(res.Messages) != 3 {
		t.Fatalf("a@ INBOX: %+v, %v", res, err)
	}
	for _, m := range res.Messages {
		if m.Headers == nil {
			t.Errorf("%s has no header row", m.Item.Name)
		}
	}
}
