package scan

import (
	"sync"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// blobIndex knows which contents the repository holds, plus those stored
// by this run, so that each content is stored once. It asks the catalog
// blob by blob at first, which is cheapest for rescans and realtime
// batches that read a few messages, and loads every blob id at once after
// bulkAfter lookups, which is cheapest for scans that read many.
//
// A blob stored by this run is entered with its location, so that every
// account that refers to it records it in the catalog (INSERT OR IGNORE):
// an account rolled back takes its blob rows with it without leaving the
// accounts recorded after it with dangling references.
type blobIndex struct {
	mu      sync.Mutex
	cat     *catalog.Catalog
	known   map[catalog.BlobID]*blobEntry // nil: in the catalog
	loaded  bool                          // known holds every blob of the catalog
	lookups int
}

// blobEntry is a content being stored, or stored, by this run.
type blobEntry struct {
	done chan struct{} // closed once ref or err is set, or the catalog had it
	ref  *catalog.BlobRef
	err  error
}

// bulkAfter is how many single lookups the index makes before it loads
// every blob id instead.
const bulkAfter = 256

func newBlobIndex(cat *catalog.Catalog) *blobIndex {
	return &blobIndex{cat: cat, known: map[catalog.BlobID]*blobEntry{}}
}

// claim decides who stores a content. It returns a non-nil entry when the
// caller must store it and then call stored or failed on the entry. It
// returns nil when the content needs no storing, with the location where
// this run stored it (nil when the catalog already had it); when another
// reader is storing it, claim waits for that reader first.
func (b *blobIndex) claim(id catalog.BlobID) (mine *blobEntry, ref *catalog.BlobRef, err error) {
	b.mu.Lock()
	if !b.loaded && b.lookups >= bulkAfter {
		err := b.cat.BlobIDs(func(id catalog.BlobID, _ catalog.BlobRef) {
			if _, ok := b.known[id]; !ok {
				b.known[id] = nil
			}
		})
		if err != nil {
			b.mu.Unlock()
			return nil, nil, err
		}
		b.loaded = true
	}
	if e, ok := b.known[id]; ok {
		b.mu.Unlock()
		if e == nil {
			return nil, nil, nil
		}
		<-e.done
		return nil, e.ref, e.err
	}
	e := &blobEntry{done: make(chan struct{})}
	b.known[id] = e
	if b.loaded {
		b.mu.Unlock()
		return e, nil, nil
	}
	b.lookups++
	b.mu.Unlock()
	// Other readers of the same content now wait for this one, which
	// stores it unless the catalog already has it.
	has, err := b.cat.HasBlob(id)
	if err != nil {
		b.failed(id, e, err)
		return nil, nil, err
	}
	if has {
		b.mu.Lock()
		b.known[id] = nil
		b.mu.Unlock()
		close(e.done)
		return nil, nil, nil
	}
	return e, nil, nil
}

// stored records where the caller of claim stored the content.
func (b *blobIndex) stored(e *blobEntry, ref catalog.BlobRef) {
	e.ref = &ref
	close(e.done)
}

// failed forgets a claim whose store failed; readers waiting for it get
// the error.
func (b *blobIndex) failed(id catalog.BlobID, e *blobEntry, err error) {
	b.mu.Lock()
	delete(b.known, id)
	b.mu.Unlock()
	e.err = err
	close(e.done)
}
