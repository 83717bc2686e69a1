package mailheader_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/mailheader"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// oldRepo backs up a generated corpus and then drops every header row, as
// in a repository made by a mailkeep older than blob_headers. It returns
// the rows the backup had recorded.
func oldRepo(t *testing.T, messages int) (*repo.Repo, map[catalog.BlobID]catalog.Headers) {
	t.Helper()
	m := mailrepo.New(t, corpus.Options{Seed: 7, Accounts: 3, Messages: messages, MaxSize: 64 << 10}, repo.Options{})
	st, r := m.Store, m.Repo
	if _, err := scan.Run(context.Background(), r, st, scan.Options{}); err != nil {
		t.Fatal(err)
	}
	var ids []catalog.BlobID
	if err := r.Catalog.BlobIDs(func(id catalog.BlobID, _ catalog.BlobRef) { ids = append(ids, id) }); err != nil {
		t.Fatal(err)
	}
	recorded, err := r.Catalog.HeadersOf(ids)
	if err != nil || len(recorded) != len(ids) {
		t.Fatalf("backup recorded %d header rows for %d blobs (%v)", len(recorded), len(ids), err)
	}
	if _, err := r.Catalog.DB().Exec(`DELETE FROM blob_headers`); err != nil {
		t.Fatal(err)
	}
	return r, recorded
}

// The background indexing of an old repository, interrupted after one
// batch and started again, gives every blob the row a backup would have
// recorded.
func TestIndexInterruptedAndResumed(t *testing.T) {
	r, recorded := oldRepo(t, 700)
	total := int64(len(recorded))
	if total <= mailheader.BatchSize {
		t.Fatalf("only %d blobs: the test needs more than one batch", total)
	}
	// One batch, then the agent stops.
	p := &mailheader.Progress{}
	if _, _, more, err := mailheader.IndexBatch(context.Background(), r, catalog.BlobID{}, nil, p); err != nil || !more {
		t.Fatalf("first batch: more %v, %v", more, err)
	}
	if n, _ := r.Catalog.CountUnindexed(); n != total-mailheader.BatchSize {
		t.Fatalf("after one batch %d blobs left without headers, want %d", n, total-mailheader.BatchSize)
	}
	// A cancelled run stops without writing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mailheader.Index(ctx, r, &mailheader.Progress{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Index: %v", err)
	}
	// The next start resumes with the blobs that have no row.
	p = &mailheader.Progress{}
	if err := mailheader.Index(context.Background(), r, p); err != nil {
		t.Fatal(err)
	}
	if p.Total.Load() != total-mailheader.BatchSize || p.Done.Load() != p.Total.Load() || p.Unreadable.Load() != 0 {
		t.Errorf("progress done %d total %d unreadable %d, want %d", p.Done.Load(), p.Total.Load(), p.Unreadable.Load(), total-mailheader.BatchSize)
	}
	ids := make([]catalog.BlobID, 0, len(recorded))
	for id := range recorded {
		ids = append(ids, id)
	}
	got, err := r.Catalog.HeadersOf(ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range recorded {
		if got[id] != want {
			t.Errorf("blob %x: indexed %+v, recorded at backup %+v", id[:6], got[id], want)
		}
	}
	// Done: a new start has nothing to do.
	p = &mailheader.Progress{}
	if err := mailheader.Index(context.Background(), r, p); err != nil || p.Total.Load() != 0 {
		t.Errorf("second run: total %d, %v", p.Total.Load(), err)
	}
}

// Index waits for the writer lock to commit, and commits once it is
// handed over.
func TestIndexWaitsForTheWriterLock(t *testing.T) {
	r, recorded := oldRepo(t, 100)
	r.WriteMu.Lock()
	p := &mailheader.Progress{}
	done := make(chan error, 1)
	go func() { done <- mailheader.Index(context.Background(), r, p) }()
	for !r.WriteMu.Waiting() {
		select {
		case err := <-done:
			t.Fatalf("Index finished (%v) while another writer held the lock", err)
		default:
		}
	}
	if n, _ := r.Catalog.CountUnindexed(); n != int64(len(recorded)) {
		t.Errorf("%d rows committed while the lock was held", int64(len(recorded))-n)
	}
	r.WriteMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Catalog.CountUnindexed(); n != 0 {
		t.Errorf("%d blobs left without headers", n)
	}
}
