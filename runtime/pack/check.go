package pack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// maxProblems bounds the problems one Check reports.
const maxProblems = 100

// Check walks every record of pack, in order, and calls fn for each intact
// one. It checks the file header, each record's magic, that its lengths
// are in bounds and inside the file, and its CRC32C; with deep it also
// decompresses each record and re-hashes the blob. fn is not called for a
// damaged record. Check goes past a record whose CRC or hash does not
// match as long as the next record starts where that one says it ends, and
// stops at the first record it cannot frame. The problems come back as one
// error joining *CorruptError values, in file order; a damaged tail (see
// CorruptError.Torn) is always the last. An error returned by fn stops
// the walk and is returned as is.
//
// For the pack this Store is writing, Check covers the records Put before
// Check was called.
func (s *Store) Check(pack uint32, deep bool, fn func(id ID, loc Location) error) error {
	_, err := s.check(pack, deep, fn)
	return err
}

// check is Check that also returns the offset of the torn tail, or -1.
func (s *Store) check(pack uint32, deep bool, fn func(id ID, loc Location) error) (torn int64, err error) {
	path := packPath(s.dir, pack)
	limit, err := s.flushFor(pack, 1<<62)
	if err != nil {
		return -1, err
	}
	f, err := os.Open(path)
	if err != nil {
		return -1, fmt.Errorf("pack store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return -1, fmt.Errorf("pack store: %w", err)
	}
	if limit < 0 || limit > st.Size() {
		limit = st.Size()
	}

	var problems []error
	dropped := 0
	report := func(off int64, torn bool, reason string, err error) {
		if len(problems) < maxProblems || torn {
			problems = append(problems, &CorruptError{Pack: pack, Path: path, Offset: off, Torn: torn, Reason: reason, Err: err})
		} else {
			dropped++
		}
	}
	done := func(torn int64) (int64, error) {
		if dropped > 0 {
			problems = append(problems, fmt.Errorf("%s: %d more damaged records not listed", path, dropped))
		}
		return torn, errors.Join(problems...)
	}

	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, limit), 1<<20)
	var hdr [RecordHeaderSize]byte
	if limit < FileHeaderSize {
		report(0, true, fmt.Sprintf("incomplete file header (%d of %d bytes)", limit, FileHeaderSize), nil)
		return done(0)
	}
	if _, err := io.ReadFull(r, hdr[:FileHeaderSize]); err != nil {
		return -1, fmt.Errorf("pack store: reading %s: %w", path, err)
	}
	if reason := checkFileHeader(hdr[:FileHeaderSize], pack); reason != "" {
		report(0, false, reason, nil)
		return done(-1)
	}

	// restIsZero reads the rest of the file and reports whether it is all
	// zero bytes, as a file extended by the kernel but never written is.
	restIsZero := func(first []byte) (bool, error) {
		if !allZero(first) {
			return false, nil
		}
		var buf [64 << 10]byte
		for {
			n, err := r.Read(buf[:])
			if !allZero(buf[:n]) {
				return false, nil
			}
			if err == io.EOF {
				return true, nil
			}
			if err != nil {
				return false, fmt.Errorf("pack store: reading %s: %w", path, err)
			}
		}
	}

	var body []byte // header + payload + trailer of the current record
	var scratch []byte
	defer func() { putBufSlice(body); putBufSlice(scratch) }()
	off := int64(FileHeaderSize)
	for off < limit {
		remain := limit - off
		n := int64(RecordHeaderSize)
		if remain < n {
			n = remain
		}
		if _, err := io.ReadFull(r, hdr[:n]); err != nil {
			return -1, fmt.Errorf("pack store: reading %s at offset %d: %w", path, off, err)
		}
		if n < RecordHeaderSize {
			if allZero(hdr[:n]) {
				report(off, true, fmt.Sprintf("%d zero bytes at the end of the file", n), nil)
			} else {
				report(off, true, fmt.Sprintf("incomplete record header (%d of %d bytes)", n, RecordHeaderSize), nil)
			}
			return done(off)
		}
		h, reason := parseRecordHeader(hdr[:])
		if reason != "" {
			zero, err := restIsZero(hdr[:])
			if err != nil {
				return -1, err
			}
			if zero {
				report(off, true, fmt.Sprintf("%d zero bytes at the end of the file", remain), nil)
				return done(off)
			}
			report(off, false, reason+"; the rest of the pack cannot be read", nil)
			return done(-1)
		}
		recLen := int64(h.stored) + RecordOverhead
		if recLen > remain {
			if next, ok := findRecord(f, off+RecordHeaderSize, limit); ok {
				report(off, false, fmt.Sprintf("record length %d runs past the end of the file, yet an intact record follows at offset %d: a damaged header; the rest of the pack cannot be framed", recLen, next), nil)
				return done(-1)
			}
			report(off, true, fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes left)", recLen, remain), nil)
			return done(off)
		}
		if int64(cap(body)) < recLen {
			putBufSlice(body)
			body = *getBuf(int(recLen))
		}
		body = body[:recLen]
		copy(body, hdr[:])
		if _, err := io.ReadFull(r, body[RecordHeaderSize:]); err != nil {
			return -1, fmt.Errorf("pack store: reading %s at offset %d: %w", path, off, err)
		}
		loc := Location{Pack: pack, Offset: off, Length: uint32(recLen), Size: h.raw}
		end := off + recLen
		good, tornHere := true, false
		if crc32.Checksum(body[:recLen-RecordTrailerSize], castagnoli) != binary.LittleEndian.Uint32(body[recLen-RecordTrailerSize:]) {
			// A bad CRC in the last record is what a crash between the
			// size update and the data write leaves behind.
			good, tornHere = false, end == limit
			report(off, tornHere, "record CRC mismatch", nil)
		} else if deep {
			var reason string
			scratch, reason, err = s.decode(scratch[:0], h, body[RecordHeaderSize:recLen-RecordTrailerSize])
			if reason != "" {
				good = false
				report(off, false, reason, err)
			}
		}
		if good && fn != nil {
			if err := fn(h.id, loc); err != nil {
				return -1, err
			}
		}
		if tornHere {
			return done(off)
		}
		off = end
	}
	return done(-1)
}

// findRecord looks for an intact record (magic, believable header, CRC)
// starting in [from, limit). It tells a damaged length field, which makes
// a record seem to run past the end of the file, from a torn tail. It runs
// only on damaged packs.
func findRecord(f *os.File, from, limit int64) (int64, bool) {
	const window = 1 << 20
	buf := make([]byte, window+len(recordMagic)-1)
	var rec []byte
	for pos := from; pos < limit; pos += window {
		n, _ := f.ReadAt(buf[:min(int64(len(buf)), limit-pos)], pos)
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte(recordMagic))
			if j < 0 {
				break
			}
			at := pos + int64(i+j)
			i += j + 1
			var hdr [RecordHeaderSize]byte
			if _, err := f.ReadAt(hdr[:], at); err != nil {
				continue
			}
			h, reason := parseRecordHeader(hdr[:])
			recLen := int64(h.stored) + RecordOverhead
			if reason != "" || recLen > limit-at {
				continue
			}
			if int64(cap(rec)) < recLen {
				rec = make([]byte, recLen)
			}
			rec = rec[:recLen]
			if _, err := f.ReadAt(rec, at); err != nil {
				continue
			}
			if crc32.Checksum(rec[:recLen-RecordTrailerSize], castagnoli) == binary.LittleEndian.Uint32(rec[recLen-RecordTrailerSize:]) {
				return at, true
			}
		}
	}
	return 0, false
}

func putBufSlice(b []byte) {
	if cap(b) > 0 {
		putBuf(&b)
	}
}

// TruncateTorn cuts the torn tail of pack, as Check reports it, and
// returns the new size of the file; with no torn tail it changes nothing
// and returns the current size. A pack whose file header is incomplete is
// removed (size 0). Only the caller knows that nothing refers to the
// records past the cut: the catalog must not point there. Damage that is
// not a torn tail is refused, and so are the packs of this session.
func (s *Store) TruncateTorn(pack uint32) (int64, error) {
	path := packPath(s.dir, pack)
	if pack >= s.firstID {
		return 0, fmt.Errorf("pack store: %s was written by this process, it has no torn tail to cut", path)
	}
	torn, err := s.check(pack, false, nil)
	var ce *CorruptError
	if err != nil && !errors.As(err, &ce) {
		return 0, err
	}
	if torn < 0 {
		if err != nil {
			return 0, fmt.Errorf("pack store: refusing to truncate %s: its damage is not a torn tail: %w", path, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return 0, fmt.Errorf("pack store: %w", err)
		}
		return st.Size(), nil
	}
	s.readers.forget(pack)
	if torn < FileHeaderSize {
		if err := os.Remove(path); err != nil {
			return 0, fmt.Errorf("pack store: %w", err)
		}
		return 0, syncDir(filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("pack store: %w", err)
	}
	err = f.Truncate(torn)
	if err == nil && !s.noSync {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return 0, fmt.Errorf("pack store: truncating %s to %d bytes: %w", path, torn, err)
	}
	return torn, nil
}

// Packs lists the pack files, by id.
func (s *Store) Packs() ([]PackInfo, error) {
	packs, err := listPacks(s.dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if p := s.active; p != nil {
		for i := range packs {
			if packs[i].ID == p.id {
				packs[i].Size = p.size
			}
		}
	}
	s.mu.Unlock()
	return packs, nil
}

// listPacks finds the files <dir>/<xx>/<8 hex>.pack. A pack file in the
// wrong directory is an error: someone moved files around.
func listPacks(dir string) ([]PackInfo, error) {
	subs, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pack store: %w", err)
	}
	var packs []PackInfo
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(dir, sub.Name()))
		if err != nil {
			return nil, fmt.Errorf("pack store: %w", err)
		}
		for _, e := range ents {
			id, ok := parsePackName(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(dir, sub.Name(), e.Name())
			if want := packPath(dir, id); want != path {
				return nil, fmt.Errorf("pack store: %s is misplaced: pack %08x belongs in %s", path, id, want)
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("pack store: %w", err)
			}
			packs = append(packs, PackInfo{ID: id, Path: path, Size: info.Size()})
		}
	}
	slices.SortFunc(packs, func(a, b PackInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return packs, nil
}
