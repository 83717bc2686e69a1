package pack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
)

// maxProblems bounds the problems one Check reports.
const maxProblems = 100

// Check walks every record of pack, in order, and calls fn for each intact
// one. It checks the file header, each record's magic, that its lengths
// are in bounds and inside the file, and its CRC32C; with deep it also
// decompresses each record and re-hashes the blob. fn is not called for a
// damaged record. After damage Check goes on: at the end of a record whose
// CRC or hash does not match when an intact record starts there, otherwise
// at the next intact record found by scanning, so that every intact record
// is reported whatever the damage. The problems come back as one error
// joining *CorruptError values, in file order; a damaged tail (see
// CorruptError.Torn) is always the last of them. An error returned by fn
// stops the walk and is returned as is.
//
// For the pack this Store is writing, Check covers the records Put before
// Check was called.
func (s *Store) Check(pack uint32, deep bool, fn func(id ID, loc Location) error) error {
	_, err := s.check(pack, deep, 0, fn)
	return err
}

// CheckFrom is Check of the records from offset from on, which must be
// where a record starts (the end of an intact record), or 0.
func (s *Store) CheckFrom(pack uint32, from int64, fn func(id ID, loc Location) error) error {
	_, err := s.check(pack, false, from, fn)
	return err
}

// Problems splits an error returned by Check into the problems it joins.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// check is Check that also returns the offset of the torn tail, or -1.
func (s *Store) check(pack uint32, deep bool, from int64, fn func(id ID, loc Location) error) (torn int64, err error) {
	name, path := PackName(pack), s.Path(pack)
	limit, err := s.flushFor(pack, 1<<62)
	if err != nil {
		return -1, err
	}
	ctx := context.Background()
	st, err := s.be.Stat(ctx, name)
	if err != nil {
		return -1, err
	}
	if limit < 0 || limit > st.Size {
		limit = st.Size
	}
	f := objectReaderAt{ctx: ctx, be: s.be, name: name}

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
	if from > off {
		if from > limit {
			from = limit
		}
		off = from
		r.Reset(io.NewSectionReader(f, off, limit-off))
	}
	// resync goes on at the next intact record after damage at off that
	// breaks the framing; false when there is none.
	resync := func(from int64, reason string) bool {
		next, ok := findRecord(f, from, limit)
		if !ok {
			report(off, false, reason+"; no intact record follows", nil)
			return false
		}
		report(off, false, fmt.Sprintf("%s; %d bytes skipped up to the next intact record at offset %d", reason, next-off, next), nil)
		off = next
		r.Reset(io.NewSectionReader(f, next, limit-next))
		return true
	}
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
			if !resync(off+1, reason) {
				return done(-1)
			}
			continue
		}
		recLen := int64(h.stored) + RecordOverhead
		if recLen > remain {
			// Either an append cut short by a crash, or a length damaged
			// in place: then intact records follow.
			if _, ok := findRecord(f, off+1, limit); !ok {
				report(off, true, fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes left)", recLen, remain), nil)
				return done(off)
			}
			resync(off+1, fmt.Sprintf("record length %d runs past the end of the file (a damaged header)", recLen))
			continue
		}
		if int64(cap(body)) < recLen {
			putBufSlice(body)
			body = *bufpool.Get(int(recLen))
		}
		body = body[:recLen]
		copy(body, hdr[:])
		if _, err := io.ReadFull(r, body[RecordHeaderSize:]); err != nil {
			return -1, fmt.Errorf("pack store: reading %s at offset %d: %w", path, off, err)
		}
		loc := Location{Pack: pack, Offset: off, Length: uint32(recLen), Size: h.raw}
		end := off + recLen
		if crc32.Checksum(body[:recLen-RecordTrailerSize], castagnoli) != binary.LittleEndian.Uint32(body[recLen-RecordTrailerSize:]) {
			if end == limit {
				// A bad CRC in the last record is what a crash between
				// the size update and the data write leaves behind.
				report(off, true, "record CRC mismatch", nil)
				return done(off)
			}
			if !validRecordAt(f, end, limit) {
				// The length itself may be damaged: find the next record.
				if !resync(off+1, "record CRC mismatch") {
					return done(-1)
				}
				continue
			}
			report(off, false, "record CRC mismatch", nil)
			off = end
			continue
		}
		if deep {
			var reason string
			scratch, reason, err = s.decode(scratch[:0], h, body[RecordHeaderSize:recLen-RecordTrailerSize])
			if reason != "" {
				report(off, false, reason, err)
				off = end
				continue
			}
		}
		if fn != nil {
			if err := fn(h.id, loc); err != nil {
				return -1, err
			}
		}
		off = end
	}
	return done(-1)
}

// findRecord returns the offset of the first intact record (magic,
// believable header, CRC) that starts in [from, limit). It runs only on
// damaged packs.
func findRecord(f io.ReaderAt, from, limit int64) (int64, bool) {
	const window = 1 << 20
	buf := make([]byte, window+len(recordMagic)-1)
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
			if validRecordAt(f, at, limit) {
				return at, true
			}
		}
	}
	return 0, false
}

// validRecordAt reports whether an intact record starts at offset at.
func validRecordAt(f io.ReaderAt, at, limit int64) bool {
	var hdr [RecordHeaderSize]byte
	if at+RecordHeaderSize > limit {
		return false
	}
	if _, err := f.ReadAt(hdr[:], at); err != nil {
		return false
	}
	h, reason := parseRecordHeader(hdr[:])
	recLen := int64(h.stored) + RecordOverhead
	if reason != "" || recLen > limit-at {
		return false
	}
	bp := bufpool.Get(int(recLen))
	defer bufpool.Put(bp)
	rec := (*bp)[:recLen]
	if _, err := f.ReadAt(rec, at); err != nil {
		return false
	}
	return crc32.Checksum(rec[:recLen-RecordTrailerSize], castagnoli) == binary.LittleEndian.Uint32(rec[recLen-RecordTrailerSize:])
}

func putBufSlice(b []byte) {
	if cap(b) > 0 {
		bufpool.Put(&b)
	}
}

// Packs lists the pack files, by id.
func (s *Store) Packs() ([]PackInfo, error) {
	packs, err := listPacks(s.be)
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

// listPacks lists the packs of be, by id; objects that are not packs
// (not named <8 hex>.pack) are left out.
func listPacks(be Backend) ([]PackInfo, error) {
	var packs []PackInfo
	err := be.List(context.Background(), func(o ObjectInfo) error {
		if id, ok := parsePackName(o.Name); ok {
			packs = append(packs, PackInfo{ID: id, Path: be.Where(o.Name), Size: o.Size})
		}
		return nil
	})
	if err != nil {
		return nil, err
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
