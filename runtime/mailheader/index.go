package mailheader

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Progress counts what Index has done; Total is the number of blobs
// without headers when it started.
type Progress struct {
	Done, Total atomic.Int64
	// Unreadable counts the blobs whose content could not be read (a
	// damaged pack record): they get an empty header row, so that the
	// indexing ends, and verify reports the damage.
	Unreadable atomic.Int64
}

// batchSize is how many blobs Index reads before it commits their rows.
const batchSize = 256

// Index records the search headers of every blob of the repository that
// has none: the blobs a mailkeep older than blob_headers stored. It reads
// them in id order, batch by batch, outside the writer lock, and commits
// each batch under r.WriteMu, which it takes for the commit only: a
// SmartScan, realtime batch or purge waits for at most one small commit.
// It can stop at any point (ctx) and starts again where it stopped, since
// it looks for the blobs that still have no row.
func Index(ctx context.Context, r *repo.Repo, p *Progress) error {
	total, err := r.Catalog.CountUnindexed()
	if err != nil {
		return err
	}
	p.Total.Store(total)
	var after catalog.BlobID
	var buf []byte
	for {
		var more bool
		if after, buf, more, err = indexBatch(ctx, r, after, buf, p); err != nil || !more {
			return err
		}
	}
}

// indexBatch indexes the next batch of blobs without headers after the id
// after; it returns the last id it saw and whether there may be more.
func indexBatch(ctx context.Context, r *repo.Repo, after catalog.BlobID, buf []byte, p *Progress) (catalog.BlobID, []byte, bool, error) {
	blobs, err := r.Catalog.UnindexedBlobs(after, batchSize)
	if err != nil || len(blobs) == 0 {
		return after, buf, false, err
	}
	rows := make([]catalog.BlobHeaders, 0, len(blobs))
	var retry []catalog.BlobID
	for _, b := range blobs {
		if err := ctx.Err(); err != nil {
			return after, buf, false, err
		}
		var h catalog.Headers
		if buf, h, err = read(r, buf, b.ID, b.Ref); err != nil {
			retry = append(retry, b.ID)
			continue
		}
		rows = append(rows, catalog.BlobHeaders{Blob: b.ID, Headers: h})
	}
	if err := commit(r, rows, retry, buf, p); err != nil {
		return after, buf, false, err
	}
	p.Done.Add(int64(len(blobs)))
	return blobs[len(blobs)-1].ID, buf, true, nil
}

// commit writes a batch under the writer lock. The blobs that could not
// be read are read again first: a purge may have moved or dropped them
// since they were listed, and cannot while the lock is held.
func commit(r *repo.Repo, rows []catalog.BlobHeaders, retry []catalog.BlobID, buf []byte, p *Progress) error {
	r.WriteMu.Lock()
	defer r.WriteMu.Unlock()
	for _, id := range retry {
		ref, err := r.Catalog.Blob(id)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // purged meanwhile
		}
		if err != nil {
			return err
		}
		var h catalog.Headers
		if buf, h, err = read(r, buf, id, ref); err != nil {
			p.Unreadable.Add(1)
		}
		rows = append(rows, catalog.BlobHeaders{Blob: id, Headers: h})
	}
	if len(rows) == 0 {
		return nil
	}
	if err := r.CheckSpace(0); err != nil {
		return err
	}
	tx, err := r.Catalog.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.AddHeadersOfKnown(rows); err != nil {
		return err
	}
	return tx.Commit()
}

// read reads a blob into buf and parses its headers.
func read(r *repo.Repo, buf []byte, id catalog.BlobID, ref catalog.BlobRef) ([]byte, catalog.Headers, error) {
	data, err := r.Packs.AppendBlob(buf[:0], id, ref)
	if err != nil {
		return buf, catalog.Headers{}, err
	}
	return data, Parse(data), nil
}
