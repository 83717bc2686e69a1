package pack

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyRecord copies records verbatim into the pack being written:
// the copy reads back, keeps its length, and damage is refused, not copied.
func TestCopyRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "packs")
	old := openStore(t, dir, Options{MaxPackSize: MinMaxPackSize})
	var locs []Location
	var blobs [][]byte
	for i := range 6 {
		raw := randomBytes(uint64(i), 1500) // incompressible: one or two per pack
		if i%2 == 0 {
			raw = []byte(strings.Repeat("compressible mail body ", 80+i))
		}
		blobs = append(blobs, raw)
		locs = append(locs, mustPut(t, old, raw))
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dir, Options{})
	for i, loc := range locs {
		if s.Writing(loc.Pack) {
			t.Fatalf("pack %d of an earlier session counts as being written", loc.Pack)
		}
		cp, err := s.CopyRecord(Hash(blobs[i]), loc)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Pack == loc.Pack || cp.Length != loc.Length || cp.Size != loc.Size {
			t.Fatalf("copy of %v is %v", loc, cp)
		}
		if !s.Writing(cp.Pack) {
			t.Fatalf("the copy's pack %d is not reported as being written", cp.Pack)
		}
		mustRead(t, s, cp, blobs[i])
	}
	// The wrong blob id, and a flipped byte, are refused.
	if _, err := s.CopyRecord(Hash([]byte("other")), locs[0]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("copy with the wrong id: %v", err)
	}
	f, err := os.OpenFile(s.Path(locs[1].Pack), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	f.ReadAt(b, locs[1].Offset+RecordHeaderSize+3)
	b[0] ^= 0x55
	f.WriteAt(b, locs[1].Offset+RecordHeaderSize+3)
	f.Close()
	if _, err := s.CopyRecord(Hash(blobs[1]), locs[1]); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("copy of a damaged record: %v", err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// The copies survive a reopen, and a deep check of their pack is clean.
	active := s.activeID.Load()
	if err := s.Check(uint32(active), true, nil); err != nil {
		t.Fatalf("check of the pack holding the copies: %v", err)
	}
}

// TestRemove deletes packs, tolerates one already gone, and refuses the
// pack being written.
func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "packs")
	old := openStore(t, dir, Options{})
	a := mustPut(t, old, []byte("first"))
	old.Close()
	s := openStore(t, dir, Options{})
	mustRead(t, s, a, []byte("first")) // caches a reader
	b := mustPut(t, s, []byte("second"))
	if err := s.Remove(b.Pack); err == nil || !strings.Contains(err.Error(), "being written") {
		t.Errorf("removing the active pack: %v", err)
	}
	if err := s.Remove(a.Pack); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(a.Pack)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pack %d still there: %v", a.Pack, err)
	}
	if err := s.Remove(a.Pack); err != nil {
		t.Errorf("removing a pack already gone: %v", err)
	}
	if _, err := s.Read(a); err == nil {
		t.Error("a removed pack can still be read")
	}
	packs, err := s.Packs()
	if err != nil || len(packs) != 1 || packs[0].ID != b.Pack {
		t.Errorf("packs after Remove: %+v %v", packs, err)
	}
}
