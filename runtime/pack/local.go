package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// Local is the Backend of files in a directory, normally
// <backup_path>/packs. An object is the file <dir>/<xx>/<name>, where <xx>
// is the last two characters of the name before its first dot (pack
// 0000012a.pack is 2a/0000012a.pack), so that sequentially numbered packs
// spread over 256 directories. Directories are created 0700 and files
// 0600: they hold mail. Local has the ReaderAt capability (pread on
// cached descriptors) and the Appender one (O_EXCL files, fsync of the
// file and then of each directory that gained an entry). Save writes a
// temporary file, fsyncs it and renames it over the name.
type Local struct {
	dir    string
	noSync bool

	mu    sync.Mutex
	dirty []string // directories with new entries not yet fsynced

	readers readCache
}

// LocalOptions configure a Local backend.
type LocalOptions struct {
	// NoSync leaves out every fsync, for tests and benchmarks.
	NoSync bool
}

// NewLocal opens (creating it, 0700, if needed) the directory dir.
func NewLocal(dir string, opts LocalOptions) (*Local, error) {
	b := &Local{dir: dir, noSync: opts.NoSync}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("pack store: %w", err)
		}
		b.dirty = append(b.dirty, filepath.Dir(dir), dir)
	} else if err != nil {
		return nil, fmt.Errorf("pack store: %w", err)
	}
	b.readers.init(b)
	return b, nil
}

// Dir returns the directory.
func (b *Local) Dir() string { return b.dir }

// shard is the directory of name: the last two characters before its
// first dot, '0'-padded on the left.
func shard(name string) string {
	stem, _, _ := strings.Cut(name, ".")
	if len(stem) < 2 {
		stem = strings.Repeat("0", 2-len(stem)) + stem
	}
	return stem[len(stem)-2:]
}

func (b *Local) path(name string) string {
	return filepath.Join(b.dir, shard(name), name)
}

// packPath is the file of pack id in the directory of a Local backend.
func packPath(dir string, id uint32) string {
	name := PackName(id)
	return filepath.Join(dir, shard(name), name)
}

// Where returns the file name of name; for "" the directory.
func (b *Local) Where(name string) string {
	if name == "" {
		return b.dir
	}
	return b.path(name)
}

// mkShard creates the directory of name when it is missing.
func (b *Local) mkShard(name string) (string, error) {
	sub := filepath.Join(b.dir, shard(name))
	if _, err := os.Stat(sub); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("pack store: %w", err)
		}
		b.markDirty(b.dir)
	}
	return sub, nil
}

func (b *Local) markDirty(dir string) {
	b.mu.Lock()
	b.dirty = append(b.dirty, dir)
	b.mu.Unlock()
}

// syncDirty fsyncs the directories that gained entries, plus extra.
func (b *Local) syncDirty(extra ...string) error {
	if b.noSync {
		return nil
	}
	b.mu.Lock()
	dirs := append(b.dirty, extra...)
	b.dirty = nil
	b.mu.Unlock()
	slices.Sort(dirs)
	for i, d := range slices.Compact(dirs) {
		if err := fsutil.SyncDir(d); err != nil {
			b.mu.Lock()
			b.dirty = append(b.dirty, dirs[i:]...) // tried again next time
			b.mu.Unlock()
			return fmt.Errorf("pack store: %w", err)
		}
	}
	return nil
}

// Save writes name through a temporary file renamed over it.
func (b *Local) Save(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("pack store: saving: %w", err)
	}
	sub, err := b.mkShard(name)
	if err != nil {
		return err
	}
	path := b.path(name)
	f, err := os.CreateTemp(sub, ".tmp-save-*")
	if err != nil {
		return fmt.Errorf("pack store: saving %s: %w", path, err)
	}
	tmp := f.Name()
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err == nil && !b.noSync {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pack store: saving %s: %w", path, err)
	}
	b.readers.forget(name)
	return b.syncDirty(sub)
}

// Load opens name and returns a reader of the range.
func (b *Local) Load(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: loading: %w", err)
	}
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("pack store: loading %s: negative offset %d or length %d", b.path(name), offset, length)
	}
	f, err := os.Open(b.path(name))
	if err != nil {
		return nil, fmt.Errorf("pack store: %w", err)
	}
	if length == 0 {
		length = 1<<63 - 1 - offset
	}
	return sectionCloser{io.NewSectionReader(f, offset, length), f}, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }

// ReadAt preads from a cached descriptor of name.
func (b *Local) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	rf, err := b.readers.acquire(name)
	if err != nil {
		return 0, err
	}
	n, err := rf.f.ReadAt(p, off)
	b.readers.release(rf)
	return n, err
}

// Stat returns the size of name's file.
func (b *Local) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	if err := ValidName(name); err != nil {
		return ObjectInfo{}, fmt.Errorf("pack store: stat: %w", err)
	}
	fi, err := os.Stat(b.path(name))
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("pack store: %w", err)
	}
	return ObjectInfo{Name: name, Size: fi.Size()}, nil
}

// List finds the files <dir>/<xx>/<name>. A file in a directory of two
// hex digits that is not its own is an error (someone moved files
// around); files whose names no object could have (temporary files,
// names that would not be stored under a hex directory) are left out.
func (b *Local) List(ctx context.Context, fn func(ObjectInfo) error) error {
	subs, err := os.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("pack store: %w", err)
	}
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(b.dir, sub.Name()))
		if err != nil {
			return fmt.Errorf("pack store: %w", err)
		}
		for _, e := range ents {
			name := e.Name()
			if ValidName(name) != nil || !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(b.dir, sub.Name(), name)
			if sh := shard(name); sh != sub.Name() {
				if isHex2(sh) {
					return fmt.Errorf("pack store: %s is misplaced: it belongs in %s", path, b.path(name))
				}
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("pack store: %w", err)
			}
			if err := fn(ObjectInfo{Name: name, Size: info.Size()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func isHex2(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(s) == 2
}

// Remove deletes name's file and fsyncs its directory.
func (b *Local) Remove(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("pack store: removing: %w", err)
	}
	path := b.path(name)
	b.readers.forget(name)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("pack store: %w", err)
	}
	return b.syncDirty(filepath.Dir(path))
}

// Create creates name's file with O_EXCL, mode 0600.
func (b *Local) Create(ctx context.Context, name string) (AppendFile, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: creating: %w", err)
	}
	sub, err := b.mkShard(name)
	if err != nil {
		return nil, err
	}
	path := b.path(name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pack store: %w", err)
	}
	b.markDirty(sub)
	return &localFile{b: b, name: name, f: f}, nil
}

// SyncObject fsyncs name's file.
func (b *Local) SyncObject(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("pack store: syncing: %w", err)
	}
	if b.noSync {
		return nil
	}
	if err := fsutil.SyncDir(b.path(name)); err != nil { // fsyncs a file as well
		return fmt.Errorf("pack store: %w", err)
	}
	return nil
}

// localFile is a pack file of a Local backend being appended to.
type localFile struct {
	b    *Local
	name string
	f    *os.File
}

func (l *localFile) Write(p []byte) (int, error) { return l.f.Write(p) }

// Sync fsyncs the file, then the directories that gained entries.
func (l *localFile) Sync() error {
	if l.b.noSync {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("pack store: fsync %s: %w", l.f.Name(), err)
	}
	return l.b.syncDirty()
}

func (l *localFile) Truncate(size int64) error {
	l.b.readers.forget(l.name)
	if err := l.f.Truncate(size); err != nil {
		return fmt.Errorf("pack store: cutting %s back to %d bytes: %w", l.f.Name(), size, err)
	}
	return nil
}

func (l *localFile) Close() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("pack store: closing %s: %w", l.f.Name(), err)
	}
	return nil
}

// Close releases the cached read descriptors. The backend is not used
// after it.
func (b *Local) Close() error {
	b.readers.close()
	return nil
}

// maxOpenReaders bounds the read-only descriptors of pack files a Local
// backend keeps for ReadAt (pread), shared by concurrent readers.
const maxOpenReaders = 64

type readCache struct {
	b      *Local
	mu     sync.Mutex
	files  map[string]*readFile
	closed bool
}

type readFile struct {
	f       *os.File
	refs    int
	evicted bool
}

func (c *readCache) init(b *Local) {
	c.b = b
	c.files = make(map[string]*readFile)
}

func (c *readCache) acquire(name string) (*readFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if rf := c.files[name]; rf != nil {
		rf.refs++
		return rf, nil
	}
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: reading: %w", err)
	}
	f, err := os.Open(c.b.path(name))
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
	c.files[name] = rf
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

// forget drops the cached descriptor of name (after a removal, a
// replacement or a truncation).
func (c *readCache) forget(name string) {
	c.mu.Lock()
	if rf := c.files[name]; rf != nil {
		delete(c.files, name)
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
