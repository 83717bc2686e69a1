package pack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/mailkeep/mailkeep/runtime/bufpool"
)

// DefaultLevel is the zstd level used when Options.Level is zero.
//
// Chosen by measurement on generated mail (bench_test.go: 2,000 messages,
// 88 MB, median 8.6 KB, 2% with 0.2-4 MB base64 attachments holding 64% of
// the bytes), AMD EPYC, 2 cores, Go 1.26, klauspost/compress v1.20.4,
// medians of -count 5; MB/cpu-s is raw MB per CPU-second of the process
// (the machine was shared, wall times were noisy):
//
//	BenchmarkCompress  MB/cpu-s  stored/raw  (messages < 32 KB)
//	fastest               730      0.860       0.529
//	fastest+lit           443      0.705       0.529
//	default               421      0.844       0.518
//	default+lit           332      0.702       0.519
//	better(+lit)          214      0.701       0.518
//	best(+lit)             12      0.680       0.518
//
//	BenchmarkPut (literal entropy on)  MB/cpu-s  stored/raw (records included)
//	fastest                               442      0.7057
//	default                               388      0.7030
//	better                                266      0.7024
//
// "+lit" entropy-codes literals in blocks without matches (the library
// does so only above SpeedDefault); base64 attachments need it, and the
// Store always turns it on: it saves 18% of the repository for 27%
// (default) to 65% (fastest) more compression CPU, and decodes at ~1 GB
// per CPU-second instead of ~2. With it, SpeedFastest stores 0.4% more than
// SpeedDefault (2% more on messages under 32 KB) for 14% more Put
// throughput per CPU; the better levels buy almost nothing on mail, whose
// bytes are mostly attachments. Reading does not depend on the level
// (BenchmarkRead: ~580 MB/cpu-s with CRC and SHA-256 verification).
const DefaultLevel = zstd.SpeedFastest

// encoderWindow is the zstd window: how far back in a blob a match may
// reach. Each encoder keeps twice the window in memory; with the default
// of 8 MiB, the GOMAXPROCS encoders of an agent on 2 CPUs held 64 MB.
// Matches further back than 1 MiB within one message are rare (the large
// messages are attachments, whose base64 does not repeat).
const encoderWindow = 1 << 20

// writeBufferSize is the size of the buffer in front of the pack file
// being written. Puts are copied into it under the lock and written out
// when it fills, on rotation and on Sync.
const writeBufferSize = 1 << 20

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// MaxPackSize is the size at which Put starts a new pack file; zero
	// means DefaultMaxPackSize. A record larger than this goes alone in a
	// pack of its own.
	MaxPackSize int64
	// Level is the zstd encoder level; zero means DefaultLevel.
	Level zstd.EncoderLevel
	// NoSync turns Sync into a flush to the operating system without
	// fsync, for tests and benchmarks. The default (false) is durable.
	NoSync bool
}

// Store is the append-only pack-file blob store of one repository: the
// pack format (records, compression, checks) over a Backend, which holds
// the bytes. Put, Read, AppendBlob, Sync, Check and Packs are safe for
// concurrent use.
type Store struct {
	be      Backend  // with the Appender capability (see AppendBySave)
	app     Appender // be's
	maxPack int64
	noSync  bool
	enc     *zstd.Encoder
	dec     *zstd.Decoder

	// firstID is the first pack id of this session: every pack from it on
	// was written by this Store, every pack before it is immutable.
	firstID uint32

	// activeID is the id of the pack being written, or -1: lets readers
	// skip mu unless they read from that pack.
	activeID atomic.Int64

	syncMu sync.Mutex // serialises Sync and Close

	mu     sync.Mutex // guards everything below
	closed bool
	err    error // sticky write or fsync error: the store takes no more Puts
	nextID uint32
	active *writePack
	w      *bufio.Writer // writes to active.f
	sealed []*writePack  // rotated out, not yet fsynced and closed
}

// writePack is a pack file this Store appends to.
type writePack struct {
	id       uint32
	path     string // for messages
	f        AppendFile
	size     int64 // logical size, buffered bytes included
	synced   int64 // size at the last successful fsync
	unsynced bool  // written since the last fsync
}

// Open opens (creating it if needed) the pack directory dir, normally
// <backup_path>/packs, through a Local backend: OpenBackend of NewLocal.
// Options.NoSync leaves out the backend's fsyncs too.
func Open(dir string, opts Options) (*Store, error) {
	be, err := NewLocal(dir, LocalOptions{NoSync: opts.NoSync})
	if err != nil {
		return nil, err
	}
	s, err := OpenBackend(be, opts)
	if err != nil {
		be.Close()
		return nil, err
	}
	return s, nil
}

// OpenBackend opens the pack store kept by be. Existing packs are only
// read: Puts go to new packs, numbered after the highest existing one and
// created on the first Put. OpenBackend does not lock anything; the
// repository's lock must keep a second process out (a pack id taken by
// another process fails the Put rather than overwriting its pack). Close
// closes be when be has a Close method.
func OpenBackend(be Backend, opts Options) (*Store, error) {
	where := be.Where("")
	if opts.MaxPackSize == 0 {
		opts.MaxPackSize = DefaultMaxPackSize
	}
	if opts.MaxPackSize < MinMaxPackSize {
		return nil, fmt.Errorf("pack store %s: MaxPackSize %d is below the minimum %d", where, opts.MaxPackSize, MinMaxPackSize)
	}
	if opts.Level == 0 {
		opts.Level = DefaultLevel
	}
	be = AppendBySave(be)
	packs, err := listPacks(be)
	if err != nil {
		return nil, err
	}
	next := uint32(1)
	if n := len(packs); n > 0 {
		if packs[n-1].ID == math.MaxUint32 {
			return nil, fmt.Errorf("pack store %s: pack ids exhausted", where)
		}
		next = packs[n-1].ID + 1
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(opts.Level),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithEncoderCRC(false), // the record CRC32C and the SHA-256 cover it
		zstd.WithWindowSize(encoderWindow),
		// Entropy-code literals even in blocks without matches, which the
		// library does only above SpeedDefault: base64 attachments (6 bits
		// of information per byte) then shrink to ~0.75 instead of ~0.98.
		zstd.WithAllLitEntropyCompression(true),
	)
	if err != nil {
		return nil, fmt.Errorf("pack store %s: zstd encoder: %w", where, err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderLowmem(false),
		zstd.WithDecodeAllCapLimit(true), // never decode past the raw size in the header
	)
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("pack store %s: zstd decoder: %w", where, err)
	}
	s := &Store{
		be:      be,
		app:     be.(Appender),
		maxPack: opts.MaxPackSize,
		noSync:  opts.NoSync,
		enc:     enc,
		dec:     dec,
		firstID: next,
		nextID:  next,
	}
	s.activeID.Store(-1)
	return s, nil
}

// Backend returns the backend that holds the packs.
func (s *Store) Backend() Backend { return s.be }

// Path names pack id for messages: its file name, for a Local backend.
func (s *Store) Path(id uint32) string { return s.be.Where(PackName(id)) }

// Put compresses raw and appends it as one record; id must be Hash(raw)
// (Put does not re-hash: Read and a deep Check verify it). Put does not
// deduplicate: putting the same blob twice stores it twice. The returned
// Location can be read at once, but the record is durable only after the
// next successful Sync. After a write error every later Put and Sync fails.
func (s *Store) Put(id ID, raw []byte) (Location, error) {
	if len(raw) > MaxBlobSize {
		return Location{}, fmt.Errorf("pack store: blob %s is %d bytes, more than the maximum %d", id, len(raw), MaxBlobSize)
	}
	// Compress outside the lock, straight after room for the header.
	bp := bufpool.Get(RecordHeaderSize + s.enc.MaxEncodedSize(len(raw)) + RecordTrailerSize)
	defer bufpool.Put(bp)
	rec := s.enc.EncodeAll(raw, (*bp)[:RecordHeaderSize])
	h := recordHeader{id: id, raw: uint32(len(raw)), stored: uint32(len(rec) - RecordHeaderSize), comp: CompressionZstd}
	// Keep the blob raw unless zstd saves at least 1/32 of it: a barely
	// compressible blob is not worth decompressing on every read.
	var payload []byte
	if int(h.stored)+len(raw)/32 >= len(raw) {
		h.stored, h.comp = uint32(len(raw)), CompressionNone
		rec = rec[:RecordHeaderSize]
		payload = raw
	}
	putRecordHeader(rec, h)
	crc := crc32.Update(crc32.Update(0, castagnoli, rec), castagnoli, payload)
	var trailer [RecordTrailerSize]byte
	trailer[0], trailer[1], trailer[2], trailer[3] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	return s.appendRecord(h.raw, rec, payload, trailer[:])
}

// appendRecord appends a record, given in parts, to the active pack,
// starting a new pack when it would not fit. raw is the blob's raw size.
func (s *Store) appendRecord(raw uint32, parts ...[]byte) (Location, error) {
	var recLen int64
	for _, b := range parts {
		recLen += int64(len(b))
	}
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
	for _, b := range parts {
		if _, err := s.w.Write(b); err != nil {
			s.err = fmt.Errorf("pack store: writing %s at offset %d: %w", p.path, p.size, err)
			return Location{}, s.err
		}
	}
	p.size += recLen
	p.unsynced = true
	return loc, nil
}

// rotateLocked seals the active pack, if any, and starts the next one.
func (s *Store) rotateLocked() error {
	if p := s.active; p != nil {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("pack store: writing %s: %w", p.path, err)
		}
		s.active = nil
		s.activeID.Store(-1)
		if s.noSync {
			if err := p.f.Close(); err != nil {
				return err
			}
		} else {
			s.sealed = append(s.sealed, p) // fsynced and closed by the next Sync
		}
	}
	if s.nextID == 0 { // wrapped around
		return fmt.Errorf("pack store %s: pack ids exhausted", s.be.Where(""))
	}
	id := s.nextID
	name := PackName(id)
	path := s.be.Where(name)
	f, err := s.app.Create(context.Background(), name)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pack store: %s was created by someone else: is another process writing to this repository?", path)
	}
	if err != nil {
		return err
	}
	s.nextID++
	if s.w == nil {
		s.w = bufio.NewWriterSize(f, writeBufferSize)
	} else {
		s.w.Reset(f)
	}
	var hdr [FileHeaderSize]byte
	if _, err := s.w.Write(appendFileHeader(hdr[:0], id)); err != nil {
		f.Close()
		return fmt.Errorf("pack store: writing %s: %w", path, err)
	}
	s.active = &writePack{id: id, path: path, f: f, size: FileHeaderSize, unsynced: true}
	s.activeID.Store(int64(id))
	return nil
}

// Sync makes every Put that returned before Sync was called durable: it
// writes out the buffer and syncs each pack written since the last Sync
// (for a Local backend: fsyncs each file, then each directory that gained
// an entry). The catalog may point at those records once Sync returns
// nil. One fsync per touched file: one for the usual case of a single
// pack being written. Puts may go on while Sync waits for the disk. A
// failed fsync is sticky: later Syncs fail too.
func (s *Store) Sync() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.syncLocked()
}

func (s *Store) syncLocked() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	var active *writePack
	var flushed int64
	if p := s.active; p != nil {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("pack store: writing %s: %w", p.path, err)
			s.mu.Unlock()
			return s.err
		}
		if p.unsynced {
			active, flushed = p, p.size
			p.unsynced = false
		}
	}
	sealed := s.sealed
	s.sealed = nil
	s.mu.Unlock()

	if s.noSync {
		return closeAll(sealed)
	}
	// The files are synced without holding mu; syncMu keeps a concurrent
	// Sync or Close from closing them meanwhile.
	err := syncAndClose(sealed)
	if err == nil && active != nil {
		err = active.f.Sync()
	}
	s.mu.Lock()
	switch {
	case err != nil && s.err == nil:
		s.err = err
	case err == nil && active != nil && flushed > active.synced:
		active.synced = flushed
	}
	s.mu.Unlock()
	return err
}

// Recover clears a write or fsync error so that the store takes Puts
// again, for the next writer (see repo.Repo.LockWrites): the writer that
// saw the error never committed the records it was told about, since its
// Sync failed. The pack being written is cut back to its last synced
// size (removed when nothing in it was synced), which gives back the
// space of the records that did not make it (on a full disk that is what
// lets the catalog record the failure), and closed: a file whose write or
// fsync failed is not written again. The next Put starts a new pack.
func (s *Store) Recover() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil || s.closed {
		return nil
	}
	var errs []error
	if p := s.active; p != nil {
		if p.synced == 0 {
			// Nothing in it was ever durable, so nothing refers to it.
			if err := s.be.Remove(context.Background(), PackName(p.id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("pack store: removing %s: %w", p.path, err))
			}
		} else {
			errs = append(errs, p.f.Truncate(p.synced))
		}
		errs = append(errs, p.f.Close())
		s.active = nil
		s.activeID.Store(-1)
	}
	errs = append(errs, closeAll(s.sealed))
	s.sealed = nil
	if s.w != nil {
		s.w.Reset(io.Discard)
	}
	s.err = nil
	return errors.Join(errs...)
}

func syncAndClose(ps []*writePack) error {
	var first error
	for _, p := range ps {
		if first == nil {
			first = p.f.Sync()
		}
		if err := p.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func closeAll(ps []*writePack) error {
	var first error
	for _, p := range ps {
		if err := p.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close syncs (as Sync does) and releases the store, and its backend when
// that has a Close method. The error is the Sync's, if it failed: then not
// every Put is durable. Close must not run concurrently with Put or Read;
// a second Close returns nil.
func (s *Store) Close() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil
	}
	err := s.syncLocked()
	s.mu.Lock()
	s.closed = true
	if p := s.active; p != nil {
		if e := p.f.Close(); e != nil && err == nil {
			err = e
		}
		s.active = nil
		s.activeID.Store(-1)
	}
	if e := closeAll(s.sealed); e != nil && err == nil {
		err = e
	}
	s.sealed = nil
	s.mu.Unlock()
	if c, ok := s.be.(io.Closer); ok {
		c.Close()
	}
	s.enc.Close()
	s.dec.Close()
	return err
}

// flushFor makes sure the bytes of pack up to end are in the backend, so
// that a reader sees them. It returns the size of the pack as written so
// far, or -1 when pack is not being written.
func (s *Store) flushFor(pack uint32, end int64) (int64, error) {
	if s.activeID.Load() != int64(pack) {
		return -1, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.active
	if p == nil || p.id != pack {
		return -1, nil
	}
	if end > p.size-int64(s.w.Buffered()) {
		if err := s.w.Flush(); err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("pack store: writing %s: %w", p.path, err)
			}
			return -1, s.err
		}
	}
	return p.size, nil
}
