package pack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/pack/backendtest"
)

func TestLocalBackend(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) pack.Backend {
		be, err := pack.NewLocal(filepath.Join(t.TempDir(), "packs"), pack.LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { be.Close() })
		return be
	})
}

func TestMemoryBackend(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) pack.Backend { return pack.NewMemory() })
}

// objectStore hides every optional capability of a backend, as an
// object store (S3) has none.
type objectStore struct{ be pack.Backend }

func (o objectStore) Save(ctx context.Context, name string, r io.Reader, size int64) error {
	return o.be.Save(ctx, name, r, size)
}
func (o objectStore) Load(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	return o.be.Load(ctx, name, off, n)
}
func (o objectStore) Stat(ctx context.Context, name string) (pack.ObjectInfo, error) {
	return o.be.Stat(ctx, name)
}
func (o objectStore) List(ctx context.Context, fn func(pack.ObjectInfo) error) error {
	return o.be.List(ctx, fn)
}
func (o objectStore) Remove(ctx context.Context, name string) error { return o.be.Remove(ctx, name) }
func (o objectStore) Where(name string) string                      { return o.be.Where(name) }

// A backend with no capabilities passes the suite, and so does the one
// AppendBySave makes of it (what the Store writes through).
func TestObjectStoreBackend(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) pack.Backend { return objectStore{pack.NewMemory()} })
}

func TestAppendBySaveBackend(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) pack.Backend { return pack.AppendBySave(objectStore{pack.NewMemory()}) })
}

// The Store works over a backend with no capabilities: what a Sync
// returned for is in the backend, and a new Store over it reads and checks
// everything and starts a new pack.
func TestStoreOverObjectStore(t *testing.T) {
	mem := pack.NewMemory()
	be := objectStore{mem}
	s, err := pack.OpenBackend(be, pack.Options{MaxPackSize: pack.MinMaxPackSize})
	if err != nil {
		t.Fatal(err)
	}
	var locs []pack.Location
	var blobs [][]byte
	for i := range 30 {
		b := fmt.Appendf(nil, "message %d ", i)
		for j := range 600 {
			b = append(b, byte((i*7919+j*j*31)%251))
		}
		loc, err := s.Put(pack.Hash(b), b)
		if err != nil {
			t.Fatal(err)
		}
		// Readable at once, before any Sync.
		if got, err := s.Read(loc); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Read before Sync: %v", err)
		}
		locs, blobs = append(locs, loc), append(blobs, b)
		if i%7 == 0 {
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if locs[len(locs)-1].Pack < 2 {
		t.Fatalf("no rotation: the last blob is in pack %d", locs[len(locs)-1].Pack)
	}
	s2, err := pack.OpenBackend(be, pack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i, loc := range locs {
		if got, err := s2.AppendBlob(nil, pack.Hash(blobs[i]), loc); err != nil || !bytes.Equal(got, blobs[i]) {
			t.Fatalf("blob %d after reopening: %v", i, err)
		}
	}
	packs, err := s2.Packs()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range packs {
		if err := s2.Check(p.ID, true, func(pack.ID, pack.Location) error { n++; return nil }); err != nil {
			t.Fatalf("Check of pack %d: %v", p.ID, err)
		}
	}
	if n != len(locs) {
		t.Fatalf("Check found %d records, want %d", n, len(locs))
	}
	b := []byte("after reopening")
	loc, err := s2.Put(pack.Hash(b), b)
	if err != nil || loc.Pack != packs[len(packs)-1].ID+1 {
		t.Fatalf("Put after reopening: %v in pack %d, want a new pack %d", err, loc.Pack, packs[len(packs)-1].ID+1)
	}
}

func TestPackName(t *testing.T) {
	for _, id := range []uint32{0, 1, 0x12a, 0xdeadbeef, 1<<32 - 1} {
		if got, want := pack.PackName(id), fmt.Sprintf("%08x.pack", id); got != want {
			t.Errorf("PackName(%#x) = %q, want %q", id, got, want)
		}
	}
}
