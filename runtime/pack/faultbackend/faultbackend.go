package faultbackend

import (
	"context"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"

	"github.com/mailkeep/mailkeep/runtime/pack"
)

// Op names a backend operation a Rule can fail.
type Op string

// The operations.
const (
	Save       Op = "save"
	Load       Op = "load"
	ReadAt     Op = "read"
	Stat       Op = "stat"
	List       Op = "list"
	Remove     Op = "remove"
	Create     Op = "create"
	Write      Op = "write"
	Sync       Op = "fsync"
	Truncate   Op = "truncate"
	SyncObject Op = "sync"
)

// Rule chooses the calls that fail.
type Rule struct {
	Op Op
	// Name is the object the rule applies to; "" means any. A name ending
	// in "*" matches as a prefix.
	Name string
	// After lets that many matching calls through first.
	After int
	// Times bounds how many calls fail; 0 means every one from then on.
	Times int
	// Prob, when above 0, fails a matching call with that probability
	// only, drawn from the Backend's seeded generator.
	Prob float64
	// Err is the error under the *fs.PathError; nil means syscall.EIO.
	Err error
}

type rule struct {
	Rule
	seen, failed int
}

// Backend is a pack.Backend that passes every call to the one it wraps,
// failing those its rules choose. It has the ReaderAt and Appender
// capabilities whatever it wraps (pack.AppendBySave fills them in). Safe
// for concurrent use.
type Backend struct {
	inner pack.Backend

	mu       sync.Mutex
	rules    []*rule
	rng      *rand.Rand
	injected int
	calls    map[Op]int
}

// New wraps inner; seed feeds the generator of probabilistic rules.
func New(inner pack.Backend, seed uint64) *Backend {
	return &Backend{
		inner: pack.AppendBySave(inner),
		rng:   rand.New(rand.NewPCG(seed, 0x5eed)),
		calls: map[Op]int{},
	}
}

// Fail adds a rule.
func (b *Backend) Fail(r Rule) {
	b.mu.Lock()
	b.rules = append(b.rules, &rule{Rule: r})
	b.mu.Unlock()
}

// Heal removes every rule: from then on every call goes through.
func (b *Backend) Heal() {
	b.mu.Lock()
	b.rules = nil
	b.mu.Unlock()
}

// Injected returns how many errors were injected so far.
func (b *Backend) Injected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.injected
}

// Calls returns how many calls of op were made so far.
func (b *Backend) Calls(op Op) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

// fault returns the error to inject into a call of op on name, or nil.
func (b *Backend) fault(op Op, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls[op]++
	for _, r := range b.rules {
		if r.Op != op || !matches(r.Name, name) {
			continue
		}
		r.seen++
		if r.seen <= r.After || (r.Times > 0 && r.failed >= r.Times) {
			continue
		}
		if r.Prob > 0 && b.rng.Float64() >= r.Prob {
			continue
		}
		r.failed++
		b.injected++
		err := r.Err
		if err == nil {
			err = syscall.EIO
		}
		return &fs.PathError{Op: string(op), Path: b.inner.Where(name), Err: err}
	}
	return nil
}

func matches(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

// Save saves, unless a rule fails it.
func (b *Backend) Save(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := b.fault(Save, name); err != nil {
		return err
	}
	return b.inner.Save(ctx, name, r, size)
}

// Load loads, unless a rule fails it.
func (b *Backend) Load(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if err := b.fault(Load, name); err != nil {
		return nil, err
	}
	return b.inner.Load(ctx, name, offset, length)
}

// ReadAt reads, unless a rule fails it.
func (b *Backend) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	if err := b.fault(ReadAt, name); err != nil {
		return 0, err
	}
	if ra, ok := b.inner.(pack.ReaderAt); ok {
		return ra.ReadAt(ctx, name, p, off)
	}
	rc, err := b.inner.Load(ctx, name, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF || (err == nil && n < len(p)) {
		err = io.EOF
	}
	return n, err
}

// Stat stats, unless a rule fails it.
func (b *Backend) Stat(ctx context.Context, name string) (pack.ObjectInfo, error) {
	if err := b.fault(Stat, name); err != nil {
		return pack.ObjectInfo{}, err
	}
	return b.inner.Stat(ctx, name)
}

// List lists, unless a rule (with Name "" or "*") fails it.
func (b *Backend) List(ctx context.Context, fn func(pack.ObjectInfo) error) error {
	if err := b.fault(List, ""); err != nil {
		return err
	}
	return b.inner.List(ctx, fn)
}

// Remove removes, unless a rule fails it.
func (b *Backend) Remove(ctx context.Context, name string) error {
	if err := b.fault(Remove, name); err != nil {
		return err
	}
	return b.inner.Remove(ctx, name)
}

// Where is the wrapped backend's.
func (b *Backend) Where(name string) string { return b.inner.Where(name) }

// Create creates, unless a rule fails it; the file's Write, Sync and
// Truncate go through the rules too.
func (b *Backend) Create(ctx context.Context, name string) (pack.AppendFile, error) {
	if err := b.fault(Create, name); err != nil {
		return nil, err
	}
	f, err := b.inner.(pack.Appender).Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &file{b: b, name: name, f: f}, nil
}

// SyncObject syncs, unless a rule fails it.
func (b *Backend) SyncObject(ctx context.Context, name string) error {
	if err := b.fault(SyncObject, name); err != nil {
		return err
	}
	return b.inner.(pack.Appender).SyncObject(ctx, name)
}

// Close closes the wrapped backend when it has a Close method.
func (b *Backend) Close() error {
	if c, ok := b.inner.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

type file struct {
	b    *Backend
	name string
	f    pack.AppendFile
}

func (f *file) Write(p []byte) (int, error) {
	if err := f.b.fault(Write, f.name); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *file) Sync() error {
	if err := f.b.fault(Sync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *file) Truncate(size int64) error {
	if err := f.b.fault(Truncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *file) Close() error { return f.f.Close() }
