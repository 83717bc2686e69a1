package pack

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func openStore(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPut(t *testing.T, s *Store, raw []byte) Location {
	t.Helper()
	loc, err := s.Put(Hash(raw), raw)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustRead(t *testing.T, s *Store, loc Location, want []byte) {
	t.Helper()
	got, err := s.Read(loc)
	if err != nil {
		t.Fatalf("Read(%v): %v", loc, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Read(%v): got %d bytes, want %d (content differs)", loc, len(got), len(want))
	}
}

// recordComp returns the compression byte of the record at loc.
func recordComp(t *testing.T, s *Store, loc Location) byte {
	t.Helper()
	f, err := os.Open(s.Path(loc.Pack))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], loc.Offset+44); err != nil {
		t.Fatal(err)
	}
	return b[0]
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "packs")
	s := openStore(t, dir, Options{})
	mail := mailCorpus(7, 40)
	blobs := [][]byte{
		{},
		[]byte("x"),
		bytes.Repeat([]byte("hello mail "), 1000),
		randomBytes(1, 100_000), // incompressible: stored raw
		randomBytes(2, 3<<20),
	}
	blobs = append(blobs, mail...)
	locs := make([]Location, len(blobs))
	for i, b := range blobs {
		locs[i] = mustPut(t, s, b)
		if locs[i].Size != uint32(len(b)) {
			t.Fatalf("blob %d: Size %d, want %d", i, locs[i].Size, len(b))
		}
	}
	// Readable before Sync (from the write buffer) and after.
	for i, b := range blobs {
		mustRead(t, s, locs[i], b)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs {
		mustRead(t, s, locs[i], b)
		got, err := s.AppendBlob([]byte("prefix"), Hash(b), locs[i])
		if err != nil || string(got[:6]) != "prefix" || !bytes.Equal(got[6:], b) {
			t.Fatalf("AppendBlob(%v): %v", locs[i], err)
		}
	}
	// Incompressible blobs are stored raw, compressible ones with zstd.
	if c := recordComp(t, s, locs[3]); c != CompressionNone || locs[3].Length != 100_000+RecordOverhead {
		t.Errorf("random blob: compression %d, length %d; want raw", c, locs[3].Length)
	}
	if c := recordComp(t, s, locs[2]); c != CompressionZstd || locs[2].Length > 1000 {
		t.Errorf("repetitive blob: compression %d, length %d; want zstd", c, locs[2].Length)
	}
	// Record layout: first record right after the file header, each after the last.
	if locs[0].Pack != 1 || locs[0].Offset != FileHeaderSize {
		t.Errorf("first location %v", locs[0])
	}
	for i := 1; i < len(locs); i++ {
		if locs[i].Offset != locs[i-1].Offset+int64(locs[i-1].Length) {
			t.Fatalf("record %d at %d, previous ends at %d", i, locs[i].Offset, locs[i-1].Offset+int64(locs[i-1].Length))
		}
	}
	// AppendBlob with the wrong id is an error naming the pack file.
	_, err := s.AppendBlob(nil, Hash([]byte("other")), locs[1])
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), s.Path(1)) {
		t.Errorf("AppendBlob with wrong id: %v", err)
	}
	// A location that does not match the record is refused.
	bad := locs[2]
	bad.Size++
	if _, err := s.Read(bad); err == nil || !strings.Contains(err.Error(), "does not match the location") {
		t.Errorf("Read with wrong size: %v", err)
	}
	bad = locs[2]
	bad.Offset++
	if _, err := s.Read(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Read at wrong offset: %v", err)
	}
	if err := s.Check(1, true, nil); err != nil {
		t.Fatal(err)
	}
}

func TestPutTwiceWritesTwice(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	b := []byte("the same message, twice")
	l1, l2 := mustPut(t, s, b), mustPut(t, s, b)
	if l1 == l2 || l2.Offset != l1.Offset+int64(l1.Length) {
		t.Fatalf("second Put at %v, first at %v: want a second record", l2, l1)
	}
	mustRead(t, s, l1, b)
	mustRead(t, s, l2, b)
	n := 0
	if err := s.Check(l1.Pack, true, func(id ID, loc Location) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Check saw %d records, want 2", n)
	}
}

func TestConcurrentPuts(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{MaxPackSize: 256 << 10})
	const workers, per = 6, 60
	corpus := mailCorpus(3, 50)
	type put struct {
		raw []byte
		loc Location
	}
	results := make([][]put, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				raw := corpus[(w*per+i)%len(corpus)]
				if i%7 == 0 {
					raw = randomBytes(uint64(w*per+i), 5000)
				}
				loc, err := s.Put(Hash(raw), raw)
				if err != nil {
					t.Error(err)
					return
				}
				results[w] = append(results[w], put{raw, loc})
				if i%20 == 0 {
					if err := s.Sync(); err != nil {
						t.Error(err)
					}
				}
				if i%5 == 0 { // read while others write
					if got, err := s.Read(loc); err != nil || !bytes.Equal(got, raw) {
						t.Errorf("Read(%v) during Puts: %v", loc, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	seen := map[Location]bool{}
	for _, rs := range results {
		for _, r := range rs {
			if seen[r.loc] {
				t.Fatalf("location %v returned twice", r.loc)
			}
			seen[r.loc] = true
			mustRead(t, s, r.loc, r.raw)
		}
	}
	packs, err := s.Packs()
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) < 2 {
		t.Fatalf("%d packs, want rotation", len(packs))
	}
	n := 0
	for _, p := range packs {
		if err := s.Check(p.ID, true, func(id ID, loc Location) error {
			if !seen[loc] {
				t.Errorf("Check found unknown record %v", loc)
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n != workers*per {
		t.Fatalf("Check saw %d records, want %d", n, workers*per)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	const max = 64 << 10
	s := openStore(t, dir, Options{MaxPackSize: max})
	var locs []Location
	var blobs [][]byte
	for i := range 40 {
		b := randomBytes(uint64(i), 5000) // raw: 5052-byte records
		blobs = append(blobs, b)
		locs = append(locs, mustPut(t, s, b))
	}
	big := randomBytes(99, 200<<10) // larger than a pack: alone in one
	bigLoc := mustPut(t, s, big)
	after := mustPut(t, s, []byte("after the big one"))
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	packs, err := s.Packs()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range packs {
		if p.ID != uint32(i+1) {
			t.Fatalf("pack ids %v", packs)
		}
		name := fmt.Sprintf("%08x", p.ID)
		if want := filepath.Join(dir, name[6:], name+".pack"); p.Path != want {
			t.Fatalf("pack path %s, want %s", p.Path, want)
		}
		if st, err := os.Stat(p.Path); err != nil || st.Size() != p.Size {
			t.Fatalf("pack %s: size %d, stat %v %v", p.Path, p.Size, st, err)
		}
		if p.Size > max && p.ID != bigLoc.Pack {
			t.Fatalf("pack %d is %d bytes, more than MaxPackSize %d", p.ID, p.Size, max)
		}
	}
	// 12 records of 5052 bytes fit in 64 KiB after the 16-byte header.
	if locs[11].Pack != 1 || locs[12].Pack != 2 {
		t.Fatalf("rotation after record 12: %v, %v", locs[11], locs[12])
	}
	if bigLoc.Pack != locs[39].Pack+1 || bigLoc.Offset != FileHeaderSize || after.Pack != bigLoc.Pack+1 {
		t.Fatalf("big record at %v, next at %v", bigLoc, after)
	}
	for i, b := range blobs {
		mustRead(t, s, locs[i], b)
	}
	mustRead(t, s, bigLoc, big)
}

func TestReopenReadsOldPacksAndNeverAppends(t *testing.T) {
	dir := t.TempDir()
	s1, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	corpus := mailCorpus(11, 20)
	var locs []Location
	for _, m := range corpus {
		locs = append(locs, mustPut(t, s1, m))
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(packPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Put(Hash(nil), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}

	s2 := openStore(t, dir, Options{})
	for i, m := range corpus {
		mustRead(t, s2, locs[i], m)
	}
	l := mustPut(t, s2, corpus[0])
	if l.Pack != 2 {
		t.Fatalf("second session wrote to pack %d, want a new pack 2", l.Pack)
	}
	if err := s2.Sync(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(packPath(dir, 1))
	if err != nil || !bytes.Equal(before, after) {
		t.Fatal("old pack changed after reopening")
	}
	// A session without Puts creates no pack file.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, dir, Options{})
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	be, err := NewLocal(dir, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	packs, _ := listPacks(be)
	if len(packs) != 2 {
		t.Fatalf("packs after an idle session: %v", packs)
	}
}

// writePack writes n mail messages to pack 1 in dir and returns their locations.
func writeTestPack(t *testing.T, dir string, n int) ([]Location, [][]byte) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	corpus := mailCorpus(5, n)
	var locs []Location
	for _, m := range corpus {
		locs = append(locs, mustPut(t, s, m))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return locs, corpus
}

func checkAll(s *Store, pack uint32, deep bool) (n int, err error) {
	err = s.Check(pack, deep, func(ID, Location) error { n++; return nil })
	return n, err
}

func TestTornTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, last Location)
		reason string
	}{
		{"mid-record", func(t *testing.T, path string, last Location) {
			os.Truncate(path, last.Offset+int64(last.Length)/2)
		}, "extends past the end of the file"},
		{"mid-header", func(t *testing.T, path string, last Location) {
			os.Truncate(path, last.Offset+20)
		}, "incomplete record header"},
		{"zero-filled", func(t *testing.T, path string, last Location) {
			f, _ := os.OpenFile(path, os.O_WRONLY, 0)
			f.WriteAt(make([]byte, last.Length), last.Offset)
			f.Close()
		}, "zero bytes at the end of the file"},
		{"last record CRC", func(t *testing.T, path string, last Location) {
			flipByte(t, path, last.Offset+int64(last.Length)-10)
		}, "record CRC mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			locs, corpus := writeTestPack(t, dir, 10)
			last := locs[len(locs)-1]
			path := packPath(dir, 1)
			tc.damage(t, path, last)

			s := openStore(t, dir, Options{})
			n, err := checkAll(s, 1, false)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrTorn) {
				t.Fatalf("Check: %v, want a torn tail", err)
			}
			if ce.Offset != last.Offset || ce.Path != path || !strings.Contains(err.Error(), tc.reason) ||
				!strings.Contains(err.Error(), fmt.Sprintf("%s: torn tail at offset %d", path, last.Offset)) {
				t.Fatalf("Check: %v; want torn tail at %d in %s (%s)", err, last.Offset, path, tc.reason)
			}
			if n != len(locs)-1 {
				t.Fatalf("Check passed %d records, want %d", n, len(locs)-1)
			}
			if _, err := s.Read(last); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Read of the torn record: %v", err)
			}
			for i := range len(locs) - 1 {
				mustRead(t, s, locs[i], corpus[i])
			}
		})
	}
}

func TestTornFileHeader(t *testing.T) {
	dir := t.TempDir()
	writeTestPack(t, dir, 1)
	path := packPath(dir, 1)
	os.Truncate(path, 9)
	s := openStore(t, dir, Options{})
	err := s.Check(1, false, nil)
	if !errors.Is(err, ErrTorn) || !strings.Contains(err.Error(), "incomplete file header") {
		t.Fatalf("Check: %v", err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func TestFlippedByte(t *testing.T) {
	dir := t.TempDir()
	locs, corpus := writeTestPack(t, dir, 10)
	path := packPath(dir, 1)
	victim := locs[4]
	flipByte(t, path, victim.Offset+RecordHeaderSize+int64(victim.Length)/3)

	s := openStore(t, dir, Options{})
	n, err := checkAll(s, 1, false)
	want := fmt.Sprintf("%s: corrupt record at offset %d: record CRC mismatch", path, victim.Offset)
	if err == nil || err.Error() != want || errors.Is(err, ErrTorn) {
		t.Fatalf("Check: %v\nwant %s", err, want)
	}
	if n != len(locs)-1 {
		t.Fatalf("Check passed %d records, want the %d undamaged ones", n, len(locs)-1)
	}
	_, err = s.Read(victim)
	if err == nil || err.Error() != want {
		t.Fatalf("Read: %v\nwant %s", err, want)
	}
	for i, l := range locs {
		if i != 4 {
			mustRead(t, s, l, corpus[i])
		}
	}

	// A flipped length field: the walk finds the next intact record and
	// goes on from there.
	flipByte(t, path, locs[7].Offset+41)
	n, err = checkAll(s, 1, false)
	if n != len(locs)-2 || err == nil || errors.Is(err, ErrTorn) ||
		!strings.Contains(err.Error(), fmt.Sprintf("%s: corrupt record at offset %d: ", path, locs[7].Offset)) ||
		!strings.Contains(err.Error(), fmt.Sprintf("up to the next intact record at offset %d", locs[8].Offset)) {
		t.Fatalf("Check with a damaged length: %d records, %v", n, err)
	}

	// Garbage over a record header.
	dir3 := t.TempDir()
	locs3, _ := writeTestPack(t, dir3, 10)
	f, err := os.OpenFile(packPath(dir3, 1), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xaa}, 100), locs3[5].Offset)
	f.Close()
	s3 := openStore(t, dir3, Options{})
	n, err = checkAll(s3, 1, true)
	want = fmt.Sprintf("%s: corrupt record at offset %d: bad record magic; %d bytes skipped up to the next intact record at offset %d",
		packPath(dir3, 1), locs3[5].Offset, locs3[6].Offset-locs3[5].Offset, locs3[6].Offset)
	if n != len(locs3)-1 || err == nil || err.Error() != want {
		t.Fatalf("Check with garbage: %d records, %v\nwant %s", n, err, want)
	}

	// A length field flipped so far that the record seems to run past the
	// end of the file is not taken for a torn tail: intact records follow.
	dir2 := t.TempDir()
	locs2, _ := writeTestPack(t, dir2, 10)
	flipByte(t, packPath(dir2, 1), locs2[3].Offset+42)
	s2 := openStore(t, dir2, Options{})
	n, err = checkAll(s2, 1, false)
	if n != len(locs2)-1 || err == nil || errors.Is(err, ErrTorn) ||
		!strings.Contains(err.Error(), "runs past the end of the file (a damaged header)") ||
		!strings.Contains(err.Error(), fmt.Sprintf("up to the next intact record at offset %d", locs2[4].Offset)) {
		t.Fatalf("Check with a damaged length: %d, %v", n, err)
	}

	// A bad file header.
	flipByte(t, path, 2)
	if err := s.Check(1, false, nil); err == nil || !strings.Contains(err.Error(), "bad file magic") {
		t.Fatalf("Check: %v", err)
	}
}

func TestDeepCheckHashMismatch(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	good := mailCorpus(9, 3)
	var locs []Location
	for _, m := range good {
		locs = append(locs, mustPut(t, s, m))
	}
	// Put trusts its caller: a wrong id is written with a valid CRC.
	wrongID := Hash([]byte("not this content"))
	bad, err := s.Put(wrongID, good[0])
	if err != nil {
		t.Fatal(err)
	}
	rawBad, err := s.Put(wrongID, randomBytes(4, 3000)) // stored uncompressed
	if err != nil {
		t.Fatal(err)
	}
	if n, err := checkAll(s, 1, false); err != nil || n != 5 {
		t.Fatalf("shallow Check: %d, %v; the CRCs are valid", n, err)
	}
	n, err := checkAll(s, 1, true)
	if n != 3 || !errors.Is(err, ErrHashMismatch) || errors.Is(err, ErrTorn) {
		t.Fatalf("deep Check: %d, %v", n, err)
	}
	for _, l := range []Location{bad, rawBad} {
		if !strings.Contains(err.Error(), fmt.Sprintf("corrupt record at offset %d: content hashes to", l.Offset)) {
			t.Fatalf("deep Check: %v\nwant a hash mismatch at %d", err, l.Offset)
		}
		_, err := s.Read(l)
		if !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), s.Path(1)) {
			t.Fatalf("Read: %v", err)
		}
	}
	sum := sha256.Sum256(good[0])
	if _, err := s.AppendBlob(nil, sum, locs[0]); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptZstdPayload(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	m := mailCorpus(2, 1)[0]
	loc := mustPut(t, s, m)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite the payload with garbage and fix the CRC: only the
	// decompressor or the hash can tell.
	path := packPath(dir, 1)
	data, _ := os.ReadFile(path)
	rec := data[loc.Offset : loc.Offset+int64(loc.Length)]
	for i := RecordHeaderSize + 10; i < len(rec)-RecordTrailerSize; i += 97 {
		rec[i] ^= 0xff
	}
	crc := crc32c(rec[:len(rec)-RecordTrailerSize])
	rec[len(rec)-4], rec[len(rec)-3], rec[len(rec)-2], rec[len(rec)-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	os.WriteFile(path, data, 0o600)

	s2 := openStore(t, dir, Options{})
	if err := s2.Check(1, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := s2.Check(1, true, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("deep Check: %v", err)
	}
	if _, err := s2.Read(loc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read: %v", err)
	}
}

func TestCheckActivePack(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	for _, m := range mailCorpus(1, 5) {
		mustPut(t, s, m)
	}
	// Not yet synced: Check flushes and sees all five.
	if n, err := checkAll(s, 1, true); err != nil || n != 5 {
		t.Fatalf("Check of the pack being written: %d, %v", n, err)
	}
	packs, err := s.Packs()
	if err != nil || len(packs) != 1 {
		t.Fatalf("Packs: %v, %v", packs, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{MaxPackSize: 100}); err == nil {
		t.Fatal("tiny MaxPackSize accepted")
	}
	os.MkdirAll(filepath.Join(dir, "00"), 0o700)
	os.WriteFile(filepath.Join(dir, "00", "00000001.pack"), nil, 0o600)
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "misplaced") {
		t.Fatalf("Open with a misplaced pack: %v", err)
	}
	os.Remove(filepath.Join(dir, "00", "00000001.pack"))
	os.WriteFile(filepath.Join(dir, "00", "notes.txt"), nil, 0o600)
	s := openStore(t, dir, Options{Level: zstd.SpeedFastest})
	if _, err := s.Read(Location{Pack: 7, Offset: 16, Length: 100, Size: 10}); err == nil || !strings.Contains(err.Error(), "00000007.pack") {
		t.Fatalf("Read from a missing pack: %v", err)
	}
	if _, err := s.Read(Location{}); err == nil {
		t.Fatal("Read of the zero Location: want an error")
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func TestIDString(t *testing.T) {
	id := Hash([]byte("abc"))
	if id.String() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatal(id)
	}
	back, err := ParseID(id.String())
	if err != nil || back != id {
		t.Fatal(back, err)
	}
	if _, err := ParseID("abc"); err == nil {
		t.Fatal("short id accepted")
	}
}
