package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
)

// Read returns the blob stored at loc, after checking the record's CRC,
// decompressing it and verifying that its SHA-256 is the id in the record
// header. Errors name the pack file and the offset.
func (s *Store) Read(loc Location) ([]byte, error) {
	return s.read(nil, nil, loc)
}

// AppendBlob appends blob id, stored at loc, to dst and returns the
// extended slice. It checks what Read checks and also that the record
// holds id, so that a wrong location in the catalog is an error rather than
// another message. Reusing dst makes a restore loop allocation-free.
func (s *Store) AppendBlob(dst []byte, id ID, loc Location) ([]byte, error) {
	return s.read(dst, &id, loc)
}

func (s *Store) read(dst []byte, want *ID, loc Location) ([]byte, error) {
	bp, h, err := s.loadRecord(loc, want)
	if err != nil {
		return dst, err
	}
	defer bufpool.Put(bp)
	out, reason, err := s.decode(dst, h, (*bp)[RecordHeaderSize:loc.Length-RecordTrailerSize])
	if reason != "" {
		return dst, &CorruptError{Pack: loc.Pack, Path: packPath(s.dir, loc.Pack), Offset: loc.Offset, Reason: reason, Err: err}
	}
	return out, nil
}

// loadRecord reads the record at loc into a pooled buffer, which the
// caller puts back, and checks its framing, that it matches the location,
// its CRC and, when want is set, that it holds that blob. Damage is a
// *CorruptError naming the pack and the offset.
func (s *Store) loadRecord(loc Location, want *ID) (*[]byte, recordHeader, error) {
	path := packPath(s.dir, loc.Pack)
	fail := func(reason string) error {
		return &CorruptError{Pack: loc.Pack, Path: path, Offset: loc.Offset, Reason: reason}
	}
	if loc.Offset < FileHeaderSize || loc.Length < RecordOverhead || loc.Length > MaxBlobSize+RecordOverhead || loc.Size > MaxBlobSize {
		return nil, recordHeader{}, fmt.Errorf("pack store: invalid location (%v) in %s", loc, path)
	}
	if _, err := s.flushFor(loc.Pack, loc.Offset+int64(loc.Length)); err != nil {
		return nil, recordHeader{}, err
	}
	f, err := s.readers.acquire(loc.Pack)
	if err != nil {
		return nil, recordHeader{}, err
	}
	bp := bufpool.Get(int(loc.Length))
	rec := (*bp)[:loc.Length]
	n, err := f.f.ReadAt(rec, loc.Offset)
	s.readers.release(f)
	h, reason := recordHeader{}, ""
	switch {
	case n < len(rec) && err == io.EOF:
		reason = fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes read)", len(rec), n)
	case n < len(rec):
		bufpool.Put(bp)
		return nil, h, fmt.Errorf("pack store: reading %s at offset %d: %w", path, loc.Offset, err)
	default:
		h, reason = parseRecordHeader(rec)
	}
	body := rec[:len(rec)-RecordTrailerSize]
	switch {
	case reason != "":
	case int64(h.stored)+RecordOverhead != int64(loc.Length) || h.raw != loc.Size:
		reason = fmt.Sprintf("record (stored size %d, raw size %d) does not match the location (length %d, size %d)",
			h.stored, h.raw, loc.Length, loc.Size)
	case crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(rec[len(body):]):
		reason = "record CRC mismatch"
	case want != nil && h.id != *want:
		reason = fmt.Sprintf("record holds blob %s, not %s", h.id, *want)
	}
	if reason != "" {
		bufpool.Put(bp)
		return nil, h, fail(reason)
	}
	return bp, h, nil
}

// decode appends the raw blob of a record to dst and verifies its hash.
// On failure it returns dst unchanged and the reason.
func (s *Store) decode(dst []byte, h recordHeader, payload []byte) ([]byte, string, error) {
	start := len(dst)
	var out []byte
	if h.comp == CompressionNone {
		out = append(dst, payload...)
	} else {
		var err error
		out, err = s.dec.DecodeAll(payload, slices.Grow(dst, int(h.raw)))
		if err != nil {
			return dst, "zstd decompression failed", err
		}
		if len(out)-start != int(h.raw) {
			return dst, fmt.Sprintf("decompressed to %d bytes, header says %d", len(out)-start, h.raw), nil
		}
	}
	if got := sha256.Sum256(out[start:]); got != h.id {
		return dst, fmt.Sprintf("content hashes to %s, header says %s", ID(got), h.id), ErrHashMismatch
	}
	return out, "", nil
}

// readCache keeps up to maxOpenReaders read-only descriptors of pack files
// for ReadAt (pread), shared by concurrent readers.
const maxOpenReaders = 64

type readCache struct {
	dir    string
	mu     sync.Mutex
	files  map[uint32]*readFile
	closed bool
}

type readFile struct {
	f       *os.File
	refs    int
	evicted bool
}

func (c *readCache) init(dir string) {
	c.dir = dir
	c.files = make(map[uint32]*readFile)
}

func (c *readCache) acquire(pack uint32) (*readFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if rf := c.files[pack]; rf != nil {
		rf.refs++
		return rf, nil
	}
	f, err := os.Open(packPath(c.dir, pack))
	if err != nil {
		return nil, fmt.Errorf("pack store: %w", err)
	}
	if len(c.files) >= maxOpenReaders {
		for id, old := range c.files { // map order: a random victim
			delete(c.files, id)
			old.evicted = true
			if old.refs == 0 {
				old.f.Close()
			}
			break
		}
	}
	rf := &readFile{f: f, refs: 1}
	c.files[pack] = rf
	return rf, nil
}

func (c *readCache) release(rf *readFile) {
	c.mu.Lock()
	rf.refs--
	if rf.refs == 0 && rf.evicted {
		rf.f.Close()
	}
	c.mu.Unlock()
}

// forget drops the cached descriptor of pack (after TruncateTorn).
func (c *readCache) forget(pack uint32) {
	c.mu.Lock()
	if rf := c.files[pack]; rf != nil {
		delete(c.files, pack)
		rf.evicted = true
		if rf.refs == 0 {
			rf.f.Close()
		}
	}
	c.mu.Unlock()
}

func (c *readCache) close() {
	c.mu.Lock()
	c.closed = true
	for id, rf := range c.files {
		delete(c.files, id)
		rf.evicted = true
		if rf.refs == 0 {
			rf.f.Close()
		}
	}
	c.mu.Unlock()
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	return len(bytes.TrimLeft(b, "\x00")) == 0
}
