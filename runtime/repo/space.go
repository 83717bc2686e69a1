package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mattn/go-sqlite3"

	"github.com/mailkeep/mailkeep/runtime/pack"
	"golang.org/x/sys/unix"
)

// Reserve is the free space, in bytes, to keep on the filesystem holding
// the pack files (blobs) and on the one holding the catalog (metadata).
type Reserve struct {
	Blobs, Metadata int64
}

// SpaceError says that writing stopped because a filesystem's free space
// fell below its reserve.
type SpaceError struct {
	Which   string // "backup" or "metadata"
	Path    string
	Free    int64
	Reserve int64
	// Need is what the write that was refused needed (0 when not known).
	Need int64
	// Err is the write error when the filesystem filled up before the
	// reserve was reached (another process wrote to it, or no reserve is
	// set).
	Err error
}

func (e *SpaceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("the %s filesystem of %s is full (%v; reserved_space.%s_mb is %d): writing stopped",
			e.Which, e.Path, e.Err, e.Which, e.Reserve>>20)
	}
	if e.Reserve == 0 {
		// No reserve: the next write does not fit.
		return fmt.Sprintf("the %s filesystem of %s is full (%d KB free, the next write needs %d KB; reserved_space.%s_mb is 0): writing stopped",
			e.Which, e.Path, e.Free>>10, e.Need>>10, e.Which)
	}
	return fmt.Sprintf("the %s filesystem of %s has %d MB free, below the reserved %d MB (reserved_space.%s_mb): writing stopped",
		e.Which, e.Path, e.Free>>20, e.Reserve>>20, e.Which)
}

func (e *SpaceError) Unwrap() error { return e.Err }

// AsSpaceError returns err as a *SpaceError when it is, or wraps, a full
// filesystem (ENOSPC, EDQUOT, SQLite's "database or disk is full"), so
// that callers treat a disk that filled up like the reserve reached;
// otherwise err itself.
func (r *Repo) AsSpaceError(err error) error {
	var se *SpaceError
	var sq sqlite3.Error
	switch {
	case err == nil || errors.As(err, &se):
		return err
	case errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT):
		packs := r.packsDir()
		free, _ := freeBytes(packs)
		return &SpaceError{Which: "backup", Path: packs, Free: free, Reserve: r.opts.Reserve.Blobs, Err: err}
	case errors.As(err, &sq) && sq.Code == sqlite3.ErrFull:
		free, _ := freeBytes(r.Path)
		return &SpaceError{Which: "metadata", Path: filepath.Join(r.Path, CatalogFile), Free: free, Reserve: r.opts.Reserve.Metadata, Err: err}
	}
	return err
}

// spaceBudget is how much may be written to the packs before the free
// space is measured again.
type spaceBudget struct {
	mu   sync.Mutex
	left int64
}

// maxUnchecked bounds the bytes written between two measurements, for
// the space other writers take meanwhile.
const maxUnchecked = 64 << 20

// ReserveSpace is asked before n bytes are written to the packs: it
// returns a *SpaceError when writing them would take the backup
// filesystem below its reserve (or the metadata filesystem is below its
// own). It measures the free space (statfs) only when the bytes written
// since the last measurement reach half of what was then left above the
// reserve (at most 64 MiB): cheap far from the reserve, a check before
// every record close to it, so that the reserve is never crossed.
func (r *Repo) ReserveSpace(n int64) error {
	b := &r.space
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.left {
		b.left -= n
		return nil
	}
	b.left = 0
	free, err := r.measureSpace(n)
	if err != nil {
		return err
	}
	b.left = min((free-n-r.opts.Reserve.Blobs)/2, maxUnchecked)
	return nil
}

// packsDir is the directory whose filesystem holds the packs: a Local
// backend's directory, or the repository itself for other backends.
func (r *Repo) packsDir() string {
	if l, ok := r.Packs.Backend().(*pack.Local); ok {
		return l.Dir()
	}
	return r.Path
}

// freeBytes returns the space available to unprivileged writers on the
// filesystem holding path.
func freeBytes(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// CheckSpace returns a *SpaceError when either filesystem is below its
// reserve, counting pending bytes about to be written to the packs.
func (r *Repo) CheckSpace(pending int64) error {
	_, err := r.measureSpace(pending)
	return err
}

// measureSpace is CheckSpace that also returns the free space of the
// backup filesystem.
func (r *Repo) measureSpace(pending int64) (int64, error) {
	packs := r.packsDir()
	free, err := freeBytes(packs)
	if err != nil {
		return 0, err
	}
	if free-pending < r.opts.Reserve.Blobs {
		return free, &SpaceError{Which: "backup", Path: packs, Free: free, Reserve: r.opts.Reserve.Blobs, Need: pending}
	}
	meta, err := freeBytes(r.Path)
	if err != nil {
		return free, err
	}
	if meta < r.opts.Reserve.Metadata {
		return free, &SpaceError{Which: "metadata", Path: filepath.Join(r.Path, CatalogFile), Free: meta, Reserve: r.opts.Reserve.Metadata}
	}
	return free, nil
}

// Usage is the space a repository takes on disk.
type Usage struct {
	// Metadata is the catalog with its write-ahead log.
	Metadata int64
	// Blobs is the pack files.
	Blobs int64
}

// DiskUsage measures a repository at path without opening it.
func DiskUsage(path string) (Usage, error) {
	var u Usage
	for _, name := range []string{CatalogFile, CatalogFile + "-wal", CatalogFile + "-shm"} {
		if st, err := os.Stat(filepath.Join(path, name)); err == nil {
			u.Metadata += st.Size()
		}
	}
	err := filepath.WalkDir(filepath.Join(path, PacksDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if info, err := d.Info(); err == nil {
				u.Blobs += info.Size()
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return u, fmt.Errorf("measuring %s: %w", path, err)
	}
	return u, nil
}
