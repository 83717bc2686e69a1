package faultfs

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Op is a set of file operations to fail.
type Op uint8

// The operations a fault can hit.
const (
	Read Op = 1 << iota
	Write
	Fsync
)

func (o Op) String() string {
	var s []byte
	for _, x := range []struct {
		op   Op
		name string
	}{{Read, "read"}, {Write, "write"}, {Fsync, "fsync"}} {
		if o&x.op != 0 {
			if len(s) > 0 {
				s = append(s, '|')
			}
			s = append(s, x.name...)
		}
	}
	return string(s)
}

// Options configure a mount.
type Options struct {
	// Direct are base names of files opened with direct I/O (no page
	// cache), so that a read fault is seen at once; give the files that
	// Fail will target. Files that are memory-mapped (SQLite's -shm)
	// should not be among them.
	Direct []string
}

// FS is a mounted fault-injecting pass-through.
type FS struct {
	// Dir is the mount point; Backing the directory it passes through to.
	Dir, Backing string

	server *fuse.Server
	direct []string

	mu       sync.Mutex
	faults   map[string]Op // base name → operations that fail
	injected atomic.Int64
}

// Mount mounts a pass-through of backing at mountpoint (both must exist).
// The caller must Unmount it, after closing every file opened through it.
func Mount(backing, mountpoint string, opts Options) (*FS, error) {
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	f := &FS{Dir: mountpoint, Backing: backing, direct: opts.Direct, faults: map[string]Op{}}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("faultfs: %s: %w", backing, err)
	}
	root := &node{LoopbackNode: &fs.LoopbackNode{RootData: &fs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}}, fs: f}
	root.RootData.RootNode = root
	zero := time.Duration(0)
	f.server, err = fs.Mount(mountpoint, root, &fs.Options{
		// No attribute or entry caching: sizes and names are always the
		// backing directory's.
		AttrTimeout:  &zero,
		EntryTimeout: &zero,
		MountOptions: fuse.MountOptions{
			FsName:            "faultfs",
			Name:              "faultfs",
			DirectMountStrict: true, // as root: mount(2), no fusermount
			AllowOther:        true,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("faultfs: mounting %s at %s: %w", backing, mountpoint, err)
	}
	return f, nil
}

// Unmount unmounts the file system, retrying while it is busy for up to
// 5 seconds; then it detaches it (a lazy unmount, so that no mount is
// left behind) and reports that files were still open on it.
func (f *FS) Unmount() error {
	var err error
	for i := 0; i < 100; i++ {
		if err = f.server.Unmount(); err == nil {
			f.server.Wait()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if derr := syscall.Unmount(f.Dir, syscall.MNT_DETACH); derr != nil {
		return fmt.Errorf("faultfs: unmounting %s: %w; detaching it: %v", f.Dir, err, derr)
	}
	return fmt.Errorf("faultfs: unmounting %s: %w (detached with files still open on it)", f.Dir, err)
}

// Fail makes ops on every file named base (at any depth) fail with EIO
// from now on, open files included, until Clear.
func (f *FS) Fail(base string, ops Op) {
	f.mu.Lock()
	f.faults[base] |= ops
	f.mu.Unlock()
}

// Clear removes every fault: the disk is healthy again.
func (f *FS) Clear() {
	f.mu.Lock()
	clear(f.faults)
	f.mu.Unlock()
}

// Injected returns how many operations failed because of a fault.
func (f *FS) Injected() int64 { return f.injected.Load() }

// fails reports whether op on a file named base fails now, and counts it.
func (f *FS) fails(base string, op Op) bool {
	f.mu.Lock()
	hit := f.faults[base]&op != 0
	f.mu.Unlock()
	if hit {
		f.injected.Add(1)
	}
	return hit
}

// node is the loopback node, handing out failing file handles.
type node struct {
	*fs.LoopbackNode
	fs *FS
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
)

// WrapChild makes every node below the root a node of this file system.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), fs: n.fs}
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return n.wrap(fh, n.EmbeddedInode().Path(nil), fuseFlags)
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ino, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	fh, fuseFlags, errno = n.wrap(fh, name, fuseFlags)
	return ino, fh, fuseFlags, errno
}

func (n *node) wrap(fh fs.FileHandle, path string, fuseFlags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok {
		return nil, 0, syscall.EIO
	}
	base := filepath.Base(path)
	if slices.Contains(n.fs.direct, base) {
		fuseFlags |= fuse.FOPEN_DIRECT_IO
	}
	return &file{LoopbackFile: lf, base: base, fs: n.fs}, fuseFlags, 0
}

// file is an open file whose reads, writes and fsyncs may fail.
type file struct {
	*fs.LoopbackFile
	base string
	fs   *FS
}

// PassthroughFd keeps the kernel from bypassing the file system.
func (f *file) PassthroughFd() (int, bool) { return -1, false }

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if f.fs.fails(f.base, Read) {
		return nil, syscall.EIO
	}
	return f.LoopbackFile.Read(ctx, buf, off)
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.fs.fails(f.base, Write) {
		return 0, syscall.EIO
	}
	return f.LoopbackFile.Write(ctx, data, off)
}

func (f *file) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	if f.fs.fails(f.base, Write) {
		return 0, syscall.EIO
	}
	return f.LoopbackFile.Writev(ctx, data, off)
}

func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if f.fs.fails(f.base, Fsync) {
		return syscall.EIO
	}
	return f.LoopbackFile.Fsync(ctx, flags)
}
