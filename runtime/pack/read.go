package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"

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
		return dst, &CorruptError{Pack: loc.Pack, Path: s.Path(loc.Pack), Offset: loc.Offset, Reason: reason, Err: err}
	}
	return out, nil
}

// loadRecord reads the record at loc into a pooled buffer, which the
// caller puts back, and checks its framing, that it matches the location,
// its CRC and, when want is set, that it holds that blob. Damage is a
// *CorruptError naming the pack and the offset.
func (s *Store) loadRecord(loc Location, want *ID) (*[]byte, recordHeader, error) {
	path := s.Path(loc.Pack)
	fail := func(reason string) error {
		return &CorruptError{Pack: loc.Pack, Path: path, Offset: loc.Offset, Reason: reason}
	}
	if loc.Offset < FileHeaderSize || loc.Length < RecordOverhead || loc.Length > MaxBlobSize+RecordOverhead || loc.Size > MaxBlobSize {
		return nil, recordHeader{}, fmt.Errorf("pack store: invalid location (%v) in %s", loc, path)
	}
	if _, err := s.flushFor(loc.Pack, loc.Offset+int64(loc.Length)); err != nil {
		return nil, recordHeader{}, err
	}
	bp := bufpool.Get(int(loc.Length))
	rec := (*bp)[:loc.Length]
	n, err := readAtBackend(context.Background(), s.be, PackName(loc.Pack), rec, loc.Offset)
	h, reason := recordHeader{}, ""
	switch {
	case n < len(rec) && err == io.EOF:
		reason = fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes read)", len(rec), n)
	case n < len(rec) && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrClosed)):
		bufpool.Put(bp)
		return nil, h, err
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

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	return len(bytes.TrimLeft(b, "\x00")) == 0
}
