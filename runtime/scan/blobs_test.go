package scan

import (
	"errors"
	"path/filepath"
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
	return newBlobIndex(cat)
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
	tx, err := b.cat.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.AddBlob(id, catalog.BlobRef{Pack: 1, Offset: 8, Length: 10, Size: 5}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
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
