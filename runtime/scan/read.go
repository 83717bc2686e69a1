package scan

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// readJob is a message whose content must be read.
type readJob struct {
	folder *maildir.Folder
	msg    *maildir.Message
	old    *catalog.Item // the item's current version, when it has one
}

// readResult is the outcome of one readJob.
type readResult struct {
	job      readJob
	id       catalog.BlobID
	vanished bool
	// newBlob is set when this read stored the blob; ref says where.
	newBlob bool
	ref     catalog.BlobRef
}

// spaceCheckBytes is how much may be stored between two free-space checks.
const spaceCheckBytes = 64 << 20

// read reads, hashes and, for contents not yet in the repository, stores
// the messages of jobs, with opts.Workers goroutines.
func (s *scanner) read(ctx context.Context, a maildir.Account, jobs []readJob) ([]readResult, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	results := make([]readResult, len(jobs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     = make(chan int)
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		stored   int64
		storedMu sync.Mutex
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	workers := min(s.opts.Workers, len(jobs))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range next {
				r, err := s.readOne(a, jobs[i], &buf)
				if err != nil {
					fail(err)
					continue
				}
				results[i] = r
				if r.newBlob {
					storedMu.Lock()
					stored += int64(r.ref.Length)
					check := stored >= spaceCheckBytes
					if check {
						stored = 0
					}
					storedMu.Unlock()
					if check {
						if err := s.r.CheckSpace(0); err != nil {
							fail(err)
						}
					}
				}
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// readOne reads one message and stores its content if it is new.
func (s *scanner) readOne(a maildir.Account, j readJob, buf *[]byte) (readResult, error) {
	r := readResult{job: j}
	f, err := s.st.OpenMessage(a, j.folder, j.msg)
	if errors.Is(err, maildir.ErrVanished) {
		r.vanished = true
		return r, nil
	}
	if err != nil {
		return r, &storeError{fmt.Errorf("reading %s: %w", j.msg.Name, err)}
	}
	data, err := readAll(f, j.msg.Size, buf)
	f.Close()
	if err != nil {
		return r, &storeError{fmt.Errorf("reading %s: %w", f.Name(), err)}
	}
	s.opts.Progress.ItemsRead.Add(1)
	s.opts.Progress.BytesRead.Add(int64(len(data)))
	r.id = pack.Hash(data)
	if claimed, err := s.blobs.claim(r.id); err != nil || !claimed {
		return r, err
	}
	loc, err := s.r.Packs.Put(r.id, data)
	if err != nil {
		s.blobs.release(r.id)
		return r, fmt.Errorf("storing %s of %s: %w", j.msg.Name, a.Name, err)
	}
	r.newBlob = true
	r.ref = catalog.BlobRef{Pack: loc.Pack, Offset: loc.Offset, Length: loc.Length, Size: loc.Size}
	s.opts.Progress.BytesStored.Add(int64(loc.Length))
	s.opts.Progress.BlobsStored.Add(1)
	return r, nil
}

// readAll reads a file whose expected size is known into a reused buffer,
// and returns a copy-free slice of it. A file that grew is read to its end.
func readAll(f io.Reader, size int64, buf *[]byte) ([]byte, error) {
	want := int(size) + 1
	if cap(*buf) < want {
		*buf = make([]byte, 0, want)
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func hexID(id catalog.BlobID) string { return hex.EncodeToString(id[:]) }

// blobIndex knows which contents the repository holds, plus those being
// stored by this run, so that each content is stored once. It asks the
// catalog blob by blob at first, which is cheapest for rescans and
// realtime batches that read a few messages, and loads every blob id at
// once after bulkAfter lookups, which is cheapest for scans that read many.
type blobIndex struct {
	mu      sync.Mutex
	cat     *catalog.Catalog
	known   map[catalog.BlobID]struct{}
	added   []catalog.BlobID // claimed by this run, in order, for undo
	loaded  bool             // known holds every blob of the catalog
	lookups int
}

// bulkAfter is how many single lookups the index makes before it loads
// every blob id instead.
const bulkAfter = 256

// resetBlobs starts with an empty index (at the start of a run, and after
// a purge dropped blobs).
func (s *scanner) resetBlobs() {
	s.blobs = &blobIndex{cat: s.r.Catalog, known: map[catalog.BlobID]struct{}{}}
}

// claim returns true when the caller must store the blob: it was neither
// in the repository nor claimed by another reader.
func (b *blobIndex) claim(id catalog.BlobID) (bool, error) {
	b.mu.Lock()
	if _, ok := b.known[id]; ok {
		b.mu.Unlock()
		return false, nil
	}
	if !b.loaded && b.lookups >= bulkAfter {
		err := b.cat.BlobIDs(func(id catalog.BlobID, _ catalog.BlobRef) { b.known[id] = struct{}{} })
		if err != nil {
			b.mu.Unlock()
			return false, err
		}
		b.loaded = true
		if _, ok := b.known[id]; ok {
			b.mu.Unlock()
			return false, nil
		}
	}
	b.known[id] = struct{}{}
	if b.loaded {
		b.added = append(b.added, id)
		b.mu.Unlock()
		return true, nil
	}
	b.lookups++
	b.mu.Unlock()
	// Other readers of the same content now see it as known and skip it;
	// this one stores it unless the catalog already has it.
	has, err := b.cat.HasBlob(id)
	if err != nil || has {
		return false, err
	}
	b.mu.Lock()
	b.added = append(b.added, id)
	b.mu.Unlock()
	return true, nil
}

// release forgets a claim whose store failed.
func (b *blobIndex) release(id catalog.BlobID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.known, id)
}

// mark and undo forget the blobs claimed since mark, when the catalog
// changes that referred to them are rolled back.
func (b *blobIndex) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.added)
}

func (b *blobIndex) undo(mark int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range b.added[mark:] {
		delete(b.known, id)
	}
	b.added = b.added[:mark]
}
