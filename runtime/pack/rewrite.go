package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
)

// This file is what purge needs to give space back: copying live records
// verbatim into the pack being written (no decompression, no
// recompression), and removing pack files nothing refers to any more. The
// order that keeps a crash harmless is the caller's: copy, Sync, commit the
// catalog that points at the copies, and only then Remove the old pack.

// Writing reports whether pack is one this Store is still writing: the
// active pack, or one rotated out but not yet fsynced. Such a pack may grow
// or hold records not yet durable; it must be neither rewritten nor
// removed. Every other pack is immutable.
func (s *Store) Writing(pack uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil && s.active.id == pack {
		return true
	}
	for _, p := range s.sealed {
		if p.id == pack {
			return true
		}
	}
	return false
}

// CopyRecord copies the record of blob id stored at loc, byte for byte,
// into the pack being written, and returns the copy's location. It checks
// the record's framing, its CRC and that it holds id, so that damage is
// never copied (the error is then a *CorruptError naming the source); it
// does not decompress or re-hash. Like Put, the copy is durable only after
// the next successful Sync.
func (s *Store) CopyRecord(id ID, loc Location) (Location, error) {
	path := packPath(s.dir, loc.Pack)
	fail := func(reason string) error {
		return &CorruptError{Pack: loc.Pack, Path: path, Offset: loc.Offset, Reason: reason}
	}
	if loc.Offset < FileHeaderSize || loc.Length < RecordOverhead || loc.Length > MaxBlobSize+RecordOverhead || loc.Size > MaxBlobSize {
		return Location{}, fmt.Errorf("pack store: invalid location (%v) in %s", loc, path)
	}
	if _, err := s.flushFor(loc.Pack, loc.Offset+int64(loc.Length)); err != nil {
		return Location{}, err
	}
	f, err := s.readers.acquire(loc.Pack)
	if err != nil {
		return Location{}, err
	}
	bp := bufpool.Get(int(loc.Length))
	defer bufpool.Put(bp)
	rec := (*bp)[:loc.Length]
	n, err := f.f.ReadAt(rec, loc.Offset)
	s.readers.release(f)
	if n < len(rec) {
		if err == io.EOF {
			return Location{}, fail(fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes read)", len(rec), n))
		}
		return Location{}, fmt.Errorf("pack store: reading %s at offset %d: %w", path, loc.Offset, err)
	}
	h, reason := parseRecordHeader(rec)
	switch {
	case reason != "":
		return Location{}, fail(reason)
	case int64(h.stored)+RecordOverhead != int64(loc.Length) || h.raw != loc.Size:
		return Location{}, fail(fmt.Sprintf("record (stored size %d, raw size %d) does not match the location (length %d, size %d)",
			h.stored, h.raw, loc.Length, loc.Size))
	case h.id != id:
		return Location{}, fail(fmt.Sprintf("record holds blob %s, not %s", h.id, id))
	}
	body := rec[:len(rec)-RecordTrailerSize]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(rec[len(body):]) {
		return Location{}, fail("record CRC mismatch")
	}
	return s.appendRecord(rec, h.raw)
}

// appendRecord appends a checked record to the active pack, as Put does.
func (s *Store) appendRecord(rec []byte, raw uint32) (Location, error) {
	recLen := int64(len(rec))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Location{}, ErrClosed
	}
	if s.err != nil {
		return Location{}, s.err
	}
	if s.active == nil || (s.active.size > FileHeaderSize && s.active.size+recLen > s.maxPack) {
		if err := s.rotateLocked(); err != nil {
			s.err = err
			return Location{}, err
		}
	}
	p := s.active
	loc := Location{Pack: p.id, Offset: p.size, Length: uint32(recLen), Size: raw}
	if _, err := s.w.Write(rec); err != nil {
		s.err = fmt.Errorf("pack store: writing %s at offset %d: %w", p.path, p.size, err)
		return Location{}, s.err
	}
	p.size += recLen
	p.unsynced = true
	return loc, nil
}

// Remove deletes pack files, then fsyncs the directories that held them.
// Only the caller knows that no committed catalog entry refers to them any
// more. Packs this Store is still writing are refused; a pack already gone
// is not an error.
func (s *Store) Remove(packs ...uint32) error {
	var dirs []string
	for _, id := range packs {
		if s.Writing(id) {
			return fmt.Errorf("pack store: refusing to remove %s: it is being written", packPath(s.dir, id))
		}
	}
	for _, id := range packs {
		path := packPath(s.dir, id)
		s.readers.forget(id)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pack store: %w", err)
		}
		dirs = append(dirs, filepath.Dir(path))
	}
	if s.noSync {
		return nil
	}
	slices.Sort(dirs)
	for _, d := range slices.Compact(dirs) {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
