package repo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// FormatVersion is the repository format this mailkeep writes; see
// docs/REPOSITORY.md.
const FormatVersion = 1

// Names of the files and directories inside a repository.
const (
	ConfigFile  = "mailkeep-repo.json"
	CatalogFile = "catalog.db"
	PacksDir    = "packs"
)

// Config is the repository's identity file.
type Config struct {
	FormatVersion int       `json:"format_version"`
	ID            string    `json:"id"`
	Created       time.Time `json:"created"`
}

// Options say how a repository is opened.
type Options struct {
	// Purpose names the opener in the lock file ("mailkeep agent").
	Purpose string
	// Durable makes each catalog commit durable on disk before it returns
	// (metadata.flush_on_save).
	Durable bool
	// Reserve is the free space to keep on the filesystems of the packs and
	// of the catalog; writes stop with a *SpaceError below it.
	Reserve Reserve
	// Create allows creating a repository at a path that has none.
	Create bool
	// NewCatalog is for repair only: it moves the catalog files that are
	// there aside (their names go to Repo.MovedAside) and starts an empty
	// catalog for the caller to fill.
	NewCatalog bool
	// PackBackend holds the packs; nil means files in <path>/packs (a
	// pack.Local backend). Tests pass a pack.Memory one, or one wrapped to
	// inject faults. The Repo's Close closes it when it has a Close method.
	PackBackend pack.Backend
}

// Repo is an open, locked repository.
type Repo struct {
	Path    string
	Config  Config
	Catalog *catalog.Catalog
	// Packs is the pack format over the repository's pack backend
	// (Options.PackBackend): it does no file I/O of its own.
	Packs *pack.Store
	// WriteMu serialises the catalog writers of this process (SmartScan,
	// the realtime scanner, purge): a writer holds it while it reads the
	// mail store, diffs it against the catalog and commits, so that no
	// writer records a state older than one already committed. A long
	// writer asks WriteMu.Waiting between batches and lets others in.
	WriteMu WriteLock
	// MovedAside lists the damaged catalog files Open moved aside for
	// Options.NewCatalog.
	MovedAside []string
	opts       Options
	lock       *lock
	space      spaceBudget
	// catalogFile is the catalog's file as opened, to notice it being
	// deleted or replaced while the repository is open.
	catalogFile identity
	orphanMu    sync.Mutex
	orphans     orphans
}

// Open opens the repository at path, creating it when allowed, and takes
// its lock. A second process gets a *LockedError naming the holder.
func Open(path string, opts Options) (*Repo, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("repository path %q is not absolute", path)
	}
	cfgPath := filepath.Join(path, ConfigFile)
	cfg, err := readConfig(cfgPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !opts.Create {
			return nil, fmt.Errorf("no mailkeep repository at %s", path)
		}
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("creating repository %s: %w", path, err)
		}
	case err != nil:
		return nil, err
	case cfg.FormatVersion > FormatVersion:
		return nil, fmt.Errorf("repository %s has format version %d; this mailkeep reads up to %d: upgrade mailkeep", path, cfg.FormatVersion, FormatVersion)
	}
	if err := fsutil.PrivateDir(path, isRepoFile); err != nil {
		return nil, fmt.Errorf("repository %s: %w", path, err)
	}
	if opts.Purpose == "" {
		opts.Purpose = "mailkeep"
	}
	lk, err := acquireLock(path, opts.Purpose)
	if err != nil {
		return nil, err
	}
	r := &Repo{Path: path, opts: opts, lock: lk}
	catPath := filepath.Join(path, CatalogFile)
	if opts.NewCatalog {
		if cfg == nil {
			lk.Release()
			return nil, fmt.Errorf("no mailkeep repository at %s (it has no %s)", path, ConfigFile)
		}
		if r.MovedAside, err = moveCatalogAside(catPath, time.Now()); err != nil {
			lk.Release()
			return nil, err
		}
	} else if cfg != nil {
		// The identity file is written after the catalog: a repository
		// that has one and no catalog has lost it, and an empty catalog
		// beside the old packs would let the next purge delete them.
		if _, err := os.Lstat(catPath); errors.Is(err, fs.ErrNotExist) {
			lk.Release()
			return nil, &CatalogError{Path: path, Problem: "its catalog " + catPath + " is missing"}
		}
	}
	if r.Catalog, err = catalog.Open(catPath, catalog.Options{Durable: opts.Durable}); err != nil {
		lk.Release()
		if cfg != nil {
			return nil, &CatalogError{Path: path, Problem: "its catalog cannot be opened", Err: err}
		}
		return nil, err
	}
	if cfg == nil {
		if cfg, err = createConfig(cfgPath); err != nil {
			r.Catalog.Close()
			lk.Release()
			return nil, err
		}
	}
	r.Config = *cfg
	if r.catalogFile, err = fileIdentity(catPath); err != nil {
		r.Catalog.Close()
		lk.Release()
		return nil, err
	}
	be := opts.PackBackend
	if be == nil {
		if be, err = pack.NewLocal(filepath.Join(path, PacksDir), pack.LocalOptions{}); err != nil {
			r.Catalog.Close()
			lk.Release()
			return nil, err
		}
	}
	if r.Packs, err = pack.OpenBackend(be, pack.Options{}); err != nil {
		if c, ok := be.(io.Closer); ok {
			c.Close()
		}
		r.Catalog.Close()
		lk.Release()
		return nil, err
	}
	return r, nil
}

// isRepoFile reports whether name is one of the files a repository holds
// at its top (temporary files and catalogs that repair moved aside
// included; lost+found when backup_path is a filesystem of its own).
func isRepoFile(name string) bool {
	switch name {
	case ConfigFile, LockFile, CatalogFile, CatalogFile + "-wal", CatalogFile + "-shm", CatalogFile + "-journal", PacksDir, "lost+found":
		return true
	}
	return strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, movedAsidePrefix)
}

// Close closes the catalog and pack store and releases the lock.
func (r *Repo) Close() error {
	var errs []error
	if r.Packs != nil {
		errs = append(errs, r.Packs.Close())
	}
	if r.Catalog != nil {
		errs = append(errs, r.Catalog.Close())
	}
	errs = append(errs, r.lock.Release())
	return errors.Join(errs...)
}

func readConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil || c.FormatVersion == 0 {
		return nil, fmt.Errorf("%s is not a mailkeep repository identity file", path)
	}
	return &c, nil
}

// createConfig writes a new identity file atomically.
func createConfig(path string) (*Config, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	c := &Config{FormatVersion: FormatVersion, ID: hex.EncodeToString(id), Created: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := fsutil.WriteFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("creating repository: %w", err)
	}
	return c, nil
}
