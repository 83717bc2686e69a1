package pack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync"
)

// Memory is a Backend that keeps its objects in memory, for fast tests.
// It has the ReaderAt and Appender capabilities; Sync is a no-op, so
// everything written is "durable" at once. The zero value is not ready:
// use NewMemory.
type Memory struct {
	mu   sync.RWMutex
	objs map[string][]byte
}

// NewMemory returns an empty Memory backend.
func NewMemory() *Memory { return &Memory{objs: map[string][]byte{}} }

func notExist(op, name string) error {
	return fmt.Errorf("pack store: %s memory:%s: %w", op, name, fs.ErrNotExist)
}

// Where returns "memory:" and the name.
func (m *Memory) Where(name string) string { return "memory:" + name }

// Save replaces name with the bytes of r.
func (m *Memory) Save(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("pack store: saving: %w", err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err != nil {
		return fmt.Errorf("pack store: saving memory:%s: %w", name, err)
	}
	m.mu.Lock()
	m.objs[name] = buf.Bytes()
	m.mu.Unlock()
	return nil
}

// Load returns a copy of the range.
func (m *Memory) Load(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: loading: %w", err)
	}
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("pack store: loading memory:%s: negative offset %d or length %d", name, offset, length)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	data, ok := m.objs[name]
	if !ok {
		return nil, notExist("loading", name)
	}
	if offset >= int64(len(data)) {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	data = data[offset:]
	if length > 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(data))), nil
}

// ReadAt copies from the object, as io.ReaderAt does.
func (m *Memory) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	data, ok := m.objs[name]
	if !ok {
		if err := ValidName(name); err != nil {
			return 0, fmt.Errorf("pack store: reading: %w", err)
		}
		return 0, notExist("reading", name)
	}
	if off < 0 {
		return 0, fmt.Errorf("pack store: reading memory:%s: negative offset %d", name, off)
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Stat returns the size of name.
func (m *Memory) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	if err := ValidName(name); err != nil {
		return ObjectInfo{}, fmt.Errorf("pack store: stat: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	data, ok := m.objs[name]
	if !ok {
		return ObjectInfo{}, notExist("stat", name)
	}
	return ObjectInfo{Name: name, Size: int64(len(data))}, nil
}

// List calls fn for a snapshot of the objects.
func (m *Memory) List(ctx context.Context, fn func(ObjectInfo) error) error {
	m.mu.RLock()
	infos := make([]ObjectInfo, 0, len(m.objs))
	for name, data := range m.objs {
		infos = append(infos, ObjectInfo{Name: name, Size: int64(len(data))})
	}
	m.mu.RUnlock()
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes name.
func (m *Memory) Remove(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("pack store: removing: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[name]; !ok {
		return notExist("removing", name)
	}
	delete(m.objs, name)
	return nil
}

// Create creates name, empty, for appending.
func (m *Memory) Create(ctx context.Context, name string) (AppendFile, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: creating: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[name]; ok {
		return nil, fmt.Errorf("pack store: creating memory:%s: %w", name, fs.ErrExist)
	}
	m.objs[name] = []byte{}
	return &memFile{m: m, name: name}, nil
}

// SyncObject checks that name exists; memory needs no sync.
func (m *Memory) SyncObject(ctx context.Context, name string) error {
	_, err := m.Stat(ctx, name)
	return err
}

// Corrupt replaces the object name by what edit makes of a copy of it,
// for tests that damage a pack.
func (m *Memory) Corrupt(name string, edit func([]byte) []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objs[name]
	if !ok {
		return notExist("corrupting", name)
	}
	m.objs[name] = edit(bytes.Clone(data))
	return nil
}

// memFile is an object of a Memory backend being appended to.
type memFile struct {
	m      *Memory
	name   string
	closed bool
}

func (f *memFile) Write(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	data, ok := f.m.objs[f.name]
	if !ok || f.closed {
		return 0, fmt.Errorf("pack store: writing memory:%s: %w", f.name, fs.ErrClosed)
	}
	f.m.objs[f.name] = append(data, p...)
	return len(p), nil
}

func (f *memFile) Sync() error { return nil }

func (f *memFile) Truncate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	data, ok := f.m.objs[f.name]
	if !ok {
		return notExist("truncating", f.name)
	}
	if size < int64(len(data)) {
		f.m.objs[f.name] = bytes.Clone(data[:size])
	}
	return nil
}

func (f *memFile) Close() error {
	f.closed = true
	return nil
}
