package repo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("the %s filesystem of %s has %d MB free, below the reserved %d MB (reserved_space.%s_mb): writing stopped",
		e.Which, e.Path, e.Free>>20, e.Reserve>>20, e.Which)
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
	packs := filepath.Join(r.Path, PacksDir)
	free, err := freeBytes(packs)
	if err != nil {
		return err
	}
	if free-pending < r.opts.Reserve.Blobs {
		return &SpaceError{Which: "backup", Path: packs, Free: free, Reserve: r.opts.Reserve.Blobs}
	}
	if free, err = freeBytes(r.Path); err != nil {
		return err
	}
	if free < r.opts.Reserve.Metadata {
		return &SpaceError{Which: "metadata", Path: filepath.Join(r.Path, CatalogFile), Free: free, Reserve: r.opts.Reserve.Metadata}
	}
	return nil
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
