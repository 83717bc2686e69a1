package scan

import (
	"encoding/binary"
	"slices"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// blobIndex knows which contents the repository holds, plus those this
// run is storing, so that each content is stored once.
//
// It asks the catalog blob by blob at first, which is cheapest for
// rescans and realtime batches that read a few messages. After bulkAfter
// lookups it loads the first 8 bytes of every blob id instead, sorted (8
// bytes a blob: 80 MB for a repository of ten million), and asks the
// catalog only about contents whose prefix it finds there, to tell two
// ids with the same prefix apart; a full backup then asks about its
// duplicates only.
//
// A content this run stores is entered with its location until the next
// commit, so that the readers of the same content wait for it and every
// account that refers to it adds its row (INSERT OR IGNORE): an account
// rolled back takes its blob rows with it without leaving the accounts
// recorded after it with dangling references. After a commit only its
// prefix is kept (and not even that before the bulk load, when every
// claim asks the catalog anyway).
type blobIndex struct {
	mu  sync.Mutex
	cat *catalog.Catalog
	// orphans are contents a killed scan stored and never committed
	// (repo.Repo.Orphans): adopted where they are rather than stored again.
	orphans map[catalog.BlobID]catalog.BlobRef
	run     map[catalog.BlobID]*blobEntry // claimed since the last commit
	lookups int

	loaded   bool                // prefixes holds every blob of the catalog
	prefixes []uint64            // sorted
	recent   map[uint64]struct{} // stored by this run since the last merge
}

// blobEntry is a content being checked or stored by this run.
type blobEntry struct {
	done chan struct{} // closed once ref or err is set, or the catalog had it
	ref  *catalog.BlobRef
	err  error
}

// Index sizes.
const (
	// bulkAfter is how many single lookups the index makes before it
	// loads every blob id instead.
	bulkAfter = 256
	// mergeAfter is how many recent prefixes are kept in a map before
	// they are merged into the sorted slice.
	mergeAfter = 1 << 16
)

func newBlobIndex(cat *catalog.Catalog, orphans map[catalog.BlobID]catalog.BlobRef) *blobIndex {
	return &blobIndex{cat: cat, orphans: orphans, run: map[catalog.BlobID]*blobEntry{}, recent: map[uint64]struct{}{}}
}

func prefixOf(id catalog.BlobID) uint64 { return binary.BigEndian.Uint64(id[:8]) }

// claim decides who stores a content. It returns a non-nil entry when the
// caller must store it and then call stored or failed on the entry. It
// returns nil when the content needs no storing, with the location where
// this run stored it (nil when the catalog already had it); when another
// reader is storing it, claim waits for that reader first.
func (b *blobIndex) claim(id catalog.BlobID) (mine *blobEntry, ref *catalog.BlobRef, err error) {
	b.mu.Lock()
	if e, ok := b.run[id]; ok {
		b.mu.Unlock()
		<-e.done
		return nil, e.ref, e.err
	}
	if !b.loaded && b.lookups >= bulkAfter {
		if err := b.load(); err != nil {
			b.mu.Unlock()
			return nil, nil, err
		}
	}
	e := &blobEntry{done: make(chan struct{})}
	b.run[id] = e
	ask := !b.loaded || b.mayHave(prefixOf(id))
	if !b.loaded {
		b.lookups++
	}
	b.mu.Unlock()
	if !ask {
		return b.adopt(id, e)
	}
	// Other readers of the same content now wait for this one, which
	// stores it unless the catalog already has it.
	has, err := b.cat.HasBlob(id)
	if err != nil {
		b.failed(id, e, err)
		return nil, nil, err
	}
	if has {
		close(e.done)
		return nil, nil, nil
	}
	return b.adopt(id, e)
}

// adopt settles a claim on a content the catalog does not have: when a
// killed scan left it in a pack it is taken from there (claim's caller
// then records the blob row, as if it had stored it), otherwise the
// caller stores it.
func (b *blobIndex) adopt(id catalog.BlobID, e *blobEntry) (*blobEntry, *catalog.BlobRef, error) {
	ref, ok := b.orphans[id]
	if !ok {
		return e, nil, nil
	}
	b.stored(e, ref)
	return nil, e.ref, nil
}

// load reads the prefix of every blob id of the catalog; b.mu is held.
func (b *blobIndex) load() error {
	var ps []uint64
	err := b.cat.BlobIDs(func(id catalog.BlobID, _ catalog.BlobRef) { ps = append(ps, prefixOf(id)) })
	if err != nil {
		return err
	}
	slices.Sort(ps)
	b.prefixes, b.loaded = ps, true
	return nil
}

// mayHave reports whether the catalog may have a blob with this prefix;
// b.mu is held.
func (b *blobIndex) mayHave(p uint64) bool {
	if _, ok := b.recent[p]; ok {
		return true
	}
	_, ok := slices.BinarySearch(b.prefixes, p)
	return ok
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
	delete(b.run, id)
	b.mu.Unlock()
	e.err = err
	close(e.done)
}

// committed is called after each catalog commit: the contents settled
// since the last one are either in the catalog now, or belong to an
// account that was rolled back or is still under way (whose results keep
// their location). Their entries go, and the prefixes of those this run
// stored stay, so that a later claim asks the catalog; one that finds no
// row stores the content again.
func (b *blobIndex) committed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, e := range b.run {
		select {
		case <-e.done:
		default:
			continue // still being checked or stored
		}
		if b.loaded && e.ref != nil {
			b.recent[prefixOf(id)] = struct{}{}
		}
		delete(b.run, id)
	}
	if len(b.recent) < mergeAfter {
		return
	}
	add := make([]uint64, 0, len(b.recent))
	for p := range b.recent {
		add = append(add, p)
	}
	slices.Sort(add)
	merged := make([]uint64, 0, len(b.prefixes)+len(add))
	i, j := 0, 0
	for i < len(b.prefixes) || j < len(add) {
		if j == len(add) || (i < len(b.prefixes) && b.prefixes[i] <= add[j]) {
			merged = append(merged, b.prefixes[i])
			i++
		} else {
			merged = append(merged, add[j])
			j++
		}
	}
	b.prefixes, b.recent = merged, map[uint64]struct{}{}
}
