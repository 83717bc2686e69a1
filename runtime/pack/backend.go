package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Backend is where a Store keeps its pack files: named objects of bytes,
// written whole and read by range. The Store does no file I/O of its own;
// everything it writes or reads goes through its Backend. Local (files in
// a directory) and Memory implement it; a remote object store needs only
// this interface (see Appender for how the Store writes to a backend that
// cannot append). Every method is safe for concurrent use. Every
// implementation passes the contract suite in package backendtest.
//
// Names are flat (no directories; see ValidName); the backend owns its
// layout. A missing object is an error matching fs.ErrNotExist with
// errors.Is, whatever the backend.
type Backend interface {
	// Save creates or replaces the object name with the size bytes read
	// from r, atomically: a reader sees the old object or the new one,
	// never a part. The object is durable when Save returns nil. r must
	// yield exactly size bytes, or Save fails and leaves no object behind.
	Save(ctx context.Context, name string, r io.Reader, size int64) error
	// Load returns a reader of the bytes of name from offset on, at most
	// length of them (length 0: up to the end). A range that runs past the
	// end yields the bytes up to the end (a short read); an offset at or
	// past the end yields none. The caller closes the reader.
	Load(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error)
	// Stat returns the size of name.
	Stat(ctx context.Context, name string) (ObjectInfo, error)
	// List calls fn for every object, in no particular order. An error
	// from fn stops the listing and is returned.
	List(ctx context.Context, fn func(ObjectInfo) error) error
	// Remove deletes name; the removal is durable when it returns nil.
	Remove(ctx context.Context, name string) error
	// Where names object name for messages: a file path, a URL.
	Where(name string) string
}

// ObjectInfo describes one object of a Backend.
type ObjectInfo struct {
	Name string
	Size int64
}

// ReaderAt is an optional capability of a Backend: reading a range into
// the caller's buffer without a request and a reader per call, as pread
// does. It has the semantics of io.ReaderAt (fewer than len(p) bytes only
// with an error, io.EOF at the end of the object). The Store uses it on
// its read path when the backend has it, Load otherwise.
type ReaderAt interface {
	ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error)
}

// Appender is an optional capability of a Backend: writing an object in
// place, by appends, with an fsync that makes everything appended so far
// durable. The Store writes its packs this way: a record Put is appended to
// the pack being written, and a Sync makes the pack durable up to there
// without ending it. Local and Memory have it. For a backend that does not
// (an object store), the Store appends into memory and saves the whole
// pack so far on each Sync (Save replaces it atomically), so that such a
// backend needs nothing beyond Backend.
type Appender interface {
	// Create creates object name, empty, for appending; an object of that
	// name already there is an error matching fs.ErrExist. Bytes written
	// to the returned file can be read (Load, ReadAt) at once; they are
	// durable after its Sync.
	Create(ctx context.Context, name string) (AppendFile, error)
	// SyncObject makes an object that an earlier process appended to, and
	// may have left unsynced when it was killed, durable.
	SyncObject(ctx context.Context, name string) error
}

// AppendFile is an object being written by appends (see Appender).
type AppendFile interface {
	// Write appends p.
	Write(p []byte) (int, error)
	// Sync makes everything written so far durable, and the object's
	// name with it.
	Sync() error
	// Truncate cuts the object back to size bytes.
	Truncate(size int64) error
	// Close ends the writing; it does not sync.
	Close() error
}

// ErrInvalidName is the error (matching fs.ErrInvalid) of a backend given
// a name that ValidName refuses.
var ErrInvalidName = fmt.Errorf("invalid object name: %w", fs.ErrInvalid)

// maxNameLen bounds object names (a file name limit of common file systems).
const maxNameLen = 255

// ValidName reports, as an error wrapping ErrInvalidName, a name no
// backend accepts: empty, longer than 255 bytes, starting with anything but
// an ASCII letter or digit, or holding anything but ASCII letters, digits,
// '.', '-' and '_'. Such names cannot escape a directory, hide as dot
// files or clash with a backend's temporary files.
func ValidName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("%w %q: must be 1 to %d bytes", ErrInvalidName, name, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '-' || c == '_'):
		default:
			return fmt.Errorf("%w %q: byte %d is %q", ErrInvalidName, name, i, c)
		}
	}
	return nil
}

// PackName is the object name of pack id: 8 lower-case hex digits and
// ".pack".
func PackName(id uint32) string {
	const digits = "0123456789abcdef"
	b := [13]byte{8: '.', 9: 'p', 10: 'a', 11: 'c', 12: 'k'}
	for i := 7; i >= 0; i-- {
		b[i] = digits[id&15]
		id >>= 4
	}
	return string(b[:])
}

// readAtBackend reads a range of an object of be: through ReadAt when be
// has it, through Load otherwise.
func readAtBackend(ctx context.Context, be Backend, name string, p []byte, off int64) (int, error) {
	if ra, ok := be.(ReaderAt); ok {
		return ra.ReadAt(ctx, name, p, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	rc, err := be.Load(ctx, name, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// objectReaderAt is an io.ReaderAt over one object of a backend.
type objectReaderAt struct {
	ctx  context.Context
	be   Backend
	name string
}

func (r objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return readAtBackend(r.ctx, r.be, r.name, p, off)
}
