package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
)

// saveAppender gives a Backend without the Appender capability (an
// object store) one: an object being appended to is kept in memory,
// readable at once, and each Sync saves all of it so far (Save replaces
// the object atomically, so a crash leaves the object of the last Sync,
// records that all made it). Close saves what the last Sync did not.
type saveAppender struct {
	Backend
	mu   sync.Mutex
	open map[string]*saveFile
}

// AppendBySave returns be when it has the Appender capability, and
// otherwise be with an Appender (and ReaderAt) that appends in memory and
// saves the whole object on each Sync. OpenBackend applies it.
func AppendBySave(be Backend) Backend {
	if _, ok := be.(Appender); ok {
		return be
	}
	return &saveAppender{Backend: be, open: map[string]*saveFile{}}
}

type saveFile struct {
	a      *saveAppender
	name   string
	mu     sync.Mutex
	data   []byte
	saved  int  // bytes of data the backend holds
	closed bool // by Close
}

func (a *saveAppender) Create(ctx context.Context, name string) (AppendFile, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("pack store: creating: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.open[name] != nil {
		return nil, fmt.Errorf("pack store: creating %s: %w", a.Where(name), fs.ErrExist)
	}
	if _, err := a.Backend.Stat(ctx, name); err == nil {
		return nil, fmt.Errorf("pack store: creating %s: %w", a.Where(name), fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f := &saveFile{a: a, name: name, saved: -1}
	a.open[name] = f
	return f, nil
}

// SyncObject has nothing to do: saved objects are durable.
func (a *saveAppender) SyncObject(ctx context.Context, name string) error {
	_, err := a.Stat(ctx, name)
	return err
}

func (a *saveAppender) file(name string) *saveFile {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.open[name]
}

// snapshot returns the bytes of an object being appended to, or false.
func (a *saveAppender) snapshot(name string) ([]byte, bool) {
	f := a.file(name)
	if f == nil {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data, true
}

func (a *saveAppender) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	data, ok := a.snapshot(name)
	if !ok {
		return readAtBackend(ctx, a.Backend, name, p, off)
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

func (a *saveAppender) Load(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	data, ok := a.snapshot(name)
	if !ok {
		return a.Backend.Load(ctx, name, offset, length)
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

func (a *saveAppender) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	if data, ok := a.snapshot(name); ok {
		return ObjectInfo{Name: name, Size: int64(len(data))}, nil
	}
	return a.Backend.Stat(ctx, name)
}

func (a *saveAppender) List(ctx context.Context, fn func(ObjectInfo) error) error {
	seen := map[string]bool{}
	err := a.Backend.List(ctx, func(info ObjectInfo) error {
		if data, ok := a.snapshot(info.Name); ok {
			info.Size = int64(len(data))
		}
		seen[info.Name] = true
		return fn(info)
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	var unsaved []string
	for name := range a.open {
		if !seen[name] {
			unsaved = append(unsaved, name)
		}
	}
	a.mu.Unlock()
	for _, name := range unsaved {
		if data, ok := a.snapshot(name); ok {
			if err := fn(ObjectInfo{Name: name, Size: int64(len(data))}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *saveAppender) Remove(ctx context.Context, name string) error {
	a.mu.Lock()
	f := a.open[name]
	delete(a.open, name)
	a.mu.Unlock()
	err := a.Backend.Remove(ctx, name)
	if f != nil && errors.Is(err, fs.ErrNotExist) && f.saved < 0 {
		return nil // never saved
	}
	return err
}

func (f *saveFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fmt.Errorf("pack store: writing %s: %w", f.a.Where(f.name), fs.ErrClosed)
	}
	f.data = append(f.data, p...)
	return len(p), nil
}

// Sync saves the object as written so far, when it changed.
func (f *saveFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.saveLocked()
}

func (f *saveFile) saveLocked() error {
	if f.saved == len(f.data) {
		return nil
	}
	if err := f.a.Backend.Save(context.Background(), f.name, bytes.NewReader(f.data), int64(len(f.data))); err != nil {
		return err
	}
	f.saved = len(f.data)
	return nil
}

func (f *saveFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if size < int64(len(f.data)) {
		f.data = bytes.Clone(f.data[:size])
	}
	return f.saveLocked()
}

// Close saves what is not saved yet and ends the appending: the object is
// read from the backend from then on.
// A file whose object was removed meanwhile is not saved.
func (f *saveFile) Close() error {
	f.a.mu.Lock()
	open := f.a.open[f.name] == f
	f.a.mu.Unlock()
	var err error
	f.mu.Lock()
	if open && !f.closed {
		err = f.saveLocked()
	}
	f.closed = true
	f.mu.Unlock()
	if open {
		f.a.mu.Lock()
		if f.a.open[f.name] == f {
			delete(f.a.open, f.name)
		}
		f.a.mu.Unlock()
	}
	return err
}
