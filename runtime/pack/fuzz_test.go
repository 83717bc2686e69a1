package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck reads arbitrary bytes as a pack file: Check and Read never
// panic or read out of bounds, and (deep) every record Check reports as
// intact reads back as a blob whose hash is its id.
func FuzzCheck(f *testing.F) {
	// Seeds: a real pack of three blobs, then damaged copies of it.
	dir := f.TempDir()
	s, err := Open(dir, Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range [][]byte{[]byte("Subject: a\n\nhello"), bytes.Repeat([]byte("compressible "), 400), {0xff, 0x00, 0x13}} {
		if _, err := s.Put(Hash(b), b); err != nil {
			f.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(packPath(dir, 1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	flipped := bytes.Clone(good)
	flipped[FileHeaderSize+60] ^= 0x40
	f.Add(flipped)
	f.Add(append(bytes.Clone(good[:FileHeaderSize]), good[FileHeaderSize+5:]...))
	f.Add([]byte("MKPACK"))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := packPath(dir, 1)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_ = s.Check(1, true, func(id ID, loc Location) error {
			if loc.Offset < FileHeaderSize || loc.Offset+int64(loc.Length) > int64(len(data)) {
				t.Fatalf("record at %s lies outside the %d-byte file", loc, len(data))
			}
			raw, err := s.Read(loc)
			if err != nil {
				t.Fatalf("Check reported %s intact, Read says %v", loc, err)
			}
			if Hash(raw) != id || len(raw) != int(loc.Size) {
				t.Fatalf("record %s: content does not match its id", loc)
			}
			return nil
		})
		// Reading at made-up locations fails cleanly.
		for _, off := range []int64{0, FileHeaderSize, int64(len(data)) / 2} {
			_, _ = s.Read(Location{Pack: 1, Offset: off, Length: uint32(len(data)), Size: 1 << 20})
		}
	})
}
