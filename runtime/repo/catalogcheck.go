package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// CatalogError says that a repository's catalog is missing, damaged or was
// replaced. Such a repository is refused rather than given a new, empty
// catalog: that would make every pack look unused. The way back is
// RebuildCatalog (mailkeep repair -rebuild-catalog), run with the agent
// stopped.
type CatalogError struct {
	Path    string // the repository
	Problem string
	Err     error
}

func (e *CatalogError) Error() string {
	msg := fmt.Sprintf("repository %s: %s", e.Path, e.Problem)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + fmt.Sprintf("; the packs are kept and nothing was written. With the agent stopped, run `mailkeep repair -rebuild-catalog %s` to rebuild a catalog from the packs (the damaged files are kept beside it)", e.Path)
}

func (e *CatalogError) Unwrap() error { return e.Err }

// identity names a file by device and inode.
type identity struct{ dev, ino uint64 }

func fileIdentity(path string) (identity, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return identity{}, fmt.Errorf("catalog %s: %w", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return identity{}, fmt.Errorf("catalog %s: no inode information", path)
	}
	return identity{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// CheckCatalog reports a *CatalogError when the catalog file this
// repository opened is no longer at its path (deleted, or replaced by
// another file): what is written from then on would be lost at the next
// restart. The agent asks before every operation and in its status.
func (r *Repo) CheckCatalog() error {
	path := filepath.Join(r.Path, CatalogFile)
	id, err := fileIdentity(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &CatalogError{Path: r.Path, Problem: "its catalog " + path + " was deleted while in use"}
	case err != nil:
		return &CatalogError{Path: r.Path, Problem: "its catalog cannot be checked", Err: err}
	case id != r.catalogFile:
		return &CatalogError{Path: r.Path, Problem: "its catalog " + path + " was replaced by another file while in use"}
	}
	return nil
}

// movedAsidePrefix starts the names of the catalog files repair moved
// aside.
const movedAsidePrefix = "catalog-damaged-"

// moveCatalogAside renames the catalog and its -wal and -shm files, those
// that exist, to catalog-damaged-STAMP.db(-wal, -shm): kept together, so
// that SQLite still opens them, and never deleted.
func moveCatalogAside(catPath string, now time.Time) ([]string, error) {
	dir := filepath.Dir(catPath)
	base := filepath.Join(dir, movedAsidePrefix+now.UTC().Format("20060102T150405Z")+".db")
	var moved []string
	for _, suffix := range []string{"", "-wal", "-shm"} {
		from, to := catPath+suffix, base+suffix
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Lstat(to); err == nil {
			return moved, fmt.Errorf("moving %s aside: %s exists already", from, to)
		}
		if err := os.Rename(from, to); err != nil {
			return moved, fmt.Errorf("moving the damaged catalog aside: %w", err)
		}
		// It holds account, folder and file names: private, even when an
		// older mailkeep left it readable.
		if err := os.Chmod(to, 0o600); err != nil {
			return moved, fmt.Errorf("moving the damaged catalog aside: %w", err)
		}
		moved = append(moved, to)
	}
	return moved, fsutil.SyncDir(dir)
}
