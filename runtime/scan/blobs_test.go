package scan

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

func newTestIndex(t *testing.T) *blobIndex {
	t.Helper()
	cat, err := catalog.Open(filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return newBlobIndex(cat, nil)
}

// commitBlob adds a blob row in a transaction of its own.
func commitBlob(t *testing.T, cat *catalog.Catalog, id catalog.BlobID, ref catalog.BlobRef) {
	t.Helper()
	tx, err := cat.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.AddBlob(id, ref); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Of many readers claiming one content, exactly one stores it and the
// others get its location once it is stored.
func TestClaimOneStoresOthersWait(t *testing.T) {
	for _, loaded := range []bool{false, true} {
		b := newTestIndex(t)
		b.loaded = loaded
		id := catalog.BlobID{1}
		const readers = 16
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			owners int
			refs   []*catalog.BlobRef
		)
		want := catalog.BlobRef{Pack: 3, Offset: 42, Length: 100, Size: 90}
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine, ref, err := b.claim(id)
				if err != nil {
					t.Error(err)
					return
				}
				if mine != nil {
					mu.Lock()
					owners++
					mu.Unlock()
					b.stored(mine, want)
					return
				}
				mu.Lock()
				refs = append(refs, ref)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if owners != 1 {
			t.Fatalf("loaded=%v: %d readers were told to store the content, want 1", loaded, owners)
		}
		for _, ref := range refs {
			if ref == nil || *ref != want {
				t.Fatalf("loaded=%v: a waiting reader got %v, want %v", loaded, ref, want)
			}
		}
	}
}

// A content the catalog has is never stored again, and needs no row.
func TestClaimKnownToCatalog(t *testing.T) {
	b := newTestIndex(t)
	id := catalog.BlobID{2}
	commitBlob(t, b.cat, id, catalog.BlobRef{Pack: 1, Offset: 8, Length: 10, Size: 5})
	for i := range bulkAfter + 2 { // single lookups, then the bulk load
		other := catalog.BlobID{3, byte(i), byte(i >> 8)}
		if mine, _, err := b.claim(other); err != nil || mine == nil {
			t.Fatalf("claim of a new content: %v, %v", mine, err)
		}
		mine, ref, err := b.claim(id)
		if err != nil || mine != nil || ref != nil {
			t.Fatalf("claim %d of a content the catalog has: mine %v, ref %v, err %v", i, mine, ref, err)
		}
	}
	if !b.loaded {
		t.Fatalf("the index did not load every blob id after %d lookups", bulkAfter)
	}
}

// When the reader that stores a content fails, the readers waiting for it
// get the error, and the content may be claimed again.
func TestClaimFailedStore(t *testing.T) {
	boom := errors.New("disk full")
	waited := false
	for attempt := 0; attempt < 50 && !waited; attempt++ {
		b := newTestIndex(t)
		b.loaded = true
		id := catalog.BlobID{4}
		mine, _, err := b.claim(id)
		if err != nil || mine == nil {
			t.Fatalf("first claim: %v, %v", mine, err)
		}
		type outcome struct {
			mine *blobEntry
			err  error
		}
		got := make(chan outcome)
		go func() {
			m, _, err := b.claim(id)
			got <- outcome{m, err}
		}()
		time.Sleep(time.Millisecond) // most often, the claim above is waiting by now
		b.failed(id, mine, boom)
		switch o := <-got; {
		case errors.Is(o.err, boom):
			waited = true
			if again, _, err := b.claim(id); err != nil || again == nil {
				t.Fatalf("claim after the failed store: %v, %v; want to store it", again, err)
			}
		case o.err == nil && o.mine != nil:
			// It claimed after the failure: it stores the content itself.
		default:
			t.Fatalf("claim racing a failed store: %v, %v; want %v, or to store it", o.mine, o.err, boom)
		}
	}
	if !waited {
		t.Fatal("in 50 attempts no claim waited for the failed store")
	}
}

// After a commit, the index keeps only the prefixes of the contents the
// run stored: a later claim asks the catalog, which has the committed
// contents and not those of a rolled-back account, and ids that share a
// prefix with a known one are still stored.
func TestClaimAfterCommit(t *testing.T) {
	b := newTestIndex(t)
	b.lookups = bulkAfter // load at the next claim
	committedID := catalog.BlobID{7, 1}
	rolledBack := catalog.BlobID{7, 2}
	for _, id := range []catalog.BlobID{committedID, rolledBack} {
		mine, _, err := b.claim(id)
		if err != nil || mine == nil {
			t.Fatalf("first claim of %x: %v, %v", id[:2], mine, err)
		}
		b.stored(mine, catalog.BlobRef{Pack: 1, Offset: int64(8 + id[1]), Length: 1, Size: 1})
	}
	if !b.loaded {
		t.Fatal("the index did not load the catalog's blob ids")
	}
	commitBlob(t, b.cat, committedID, catalog.BlobRef{Pack: 1, Offset: 9, Length: 1, Size: 1})
	b.committed()
	if len(b.run) != 0 {
		t.Fatalf("%d entries left after the commit, want 0", len(b.run))
	}
	if mine, ref, err := b.claim(committedID); err != nil || mine != nil || ref != nil {
		t.Fatalf("claim of a committed content: mine %v, ref %v, err %v; want nothing to do", mine, ref, err)
	}
	if mine, _, err := b.claim(rolledBack); err != nil || mine == nil {
		t.Fatalf("claim of a content whose account was rolled back: %v, %v; want to store it again", mine, err)
	}
	twin := committedID
	twin[31] = 0xff // same 8-byte prefix, another content
	if mine, _, err := b.claim(twin); err != nil || mine == nil {
		t.Fatalf("claim of a content sharing a known prefix: %v, %v; want to store it", mine, err)
	}
}

// Recent prefixes merge into the sorted slice without losing any.
func TestPrefixMerge(t *testing.T) {
	b := newTestIndex(t)
	b.loaded = true
	b.prefixes = []uint64{10, 30, 50}
	for i := range mergeAfter {
		var id catalog.BlobID
		binary.BigEndian.PutUint64(id[:8], uint64(i)*7+1)
		mine, _, err := b.claim(id)
		if err != nil || mine == nil {
			t.Fatalf("claim %d: %v, %v", i, mine, err)
		}
		b.stored(mine, catalog.BlobRef{Pack: 1, Offset: 8, Length: 1, Size: 1})
	}
	b.committed()
	if len(b.recent) != 0 || len(b.prefixes) != 3+mergeAfter || !slices.IsSorted(b.prefixes) {
		t.Fatalf("after the merge: %d recent, %d prefixes (sorted: %v); want 0, %d, sorted",
			len(b.recent), len(b.prefixes), slices.IsSorted(b.prefixes), 3+mergeAfter)
	}
	for _, p := range []uint64{10, 30, 50, 1, 7*(mergeAfter-1) + 1} {
		if !b.mayHave(p) {
			t.Errorf("prefix %d lost in the merge", p)
		}
	}
}
