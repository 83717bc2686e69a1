package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Store is the mail store as SmartScan reads it.
type Store interface {
	Accounts() ([]maildir.Account, error)
	Account(name string) (maildir.Account, error)
	Scan(a maildir.Account) (*maildir.Snapshot, error)
	ScanWith(a maildir.Account, opts maildir.ScanOptions) (*maildir.Snapshot, error)
	OpenMessage(a maildir.Account, f *maildir.Folder, m *maildir.Message) (*os.File, error)
}

// Options control one SmartScan.
type Options struct {
	// Deep re-reads and re-hashes every message and reports those whose
	// content differs from the backup.
	Deep bool
	// Include and Exclude are user@domain shell globs (accounts block);
	// an account that is not included, or is excluded, is treated as
	// deleted. Empty Include means every account.
	Include, Exclude []string
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Workers is the number of goroutines reading, hashing and compressing
	// messages; twice GOMAXPROCS when 0, so that file reads overlap with
	// hashing and compression.
	Workers int
	// Progress, when set, is updated as the scan goes.
	Progress *Progress
	// BatchItems is how many changed items a catalog transaction holds at
	// most before it is committed (default 20000).
	BatchItems int
	// BatchTime is how long a catalog transaction stays open at most
	// (default 250ms): other writers, such as the realtime scanner, wait
	// for it.
	BatchTime time.Duration
	// Only, when not nil, limits the scan to these accounts (user@domain):
	// the realtime scanner rescans the accounts it saw change. An account
	// of Only that is gone from the store is marked deleted; accounts not
	// in Only are left alone.
	Only []string
}

// Progress is updated atomically while a scan runs.
type Progress struct {
	AccountsTotal, AccountsDone atomic.Int64
	ItemsSeen                   atomic.Int64
	ItemsRead, BytesRead        atomic.Int64
	BytesStored, BlobsStored    atomic.Int64
}

// Result summarises a finished (or stopped) SmartScan.
type Result struct {
	Accounts        int   `json:"accounts"`
	DeletedAccounts int   `json:"deleted_accounts"`
	Items           int64 `json:"items"`
	New             int64 `json:"new"`
	Changed         int64 `json:"changed"`
	Moved           int64 `json:"moved"`
	Deleted         int64 `json:"deleted"`
	Unchanged       int64 `json:"unchanged"`
	// FoldersSkipped counts the folders not listed at all because their
	// stamp showed they had not changed since their last listing.
	FoldersSkipped int   `json:"folders_skipped"`
	Vanished       int64 `json:"vanished"`
	BytesRead      int64 `json:"bytes_read"`
	BytesStored    int64 `json:"bytes_stored"`
	NewBlobs       int64 `json:"new_blobs"`
	// Mismatches lists, for a deep scan, the items whose content differs
	// from their backup.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// Errors are per-account problems that did not stop the scan.
	Errors []string `json:"errors,omitempty"`
}

// Mismatch is a message whose content no longer matches its backup.
type Mismatch struct {
	Account, Folder, Name string
	Backup, Live          string // hex blob ids
}

// Run walks every account of the store and records what changed since the
// last scan: new messages, flag and keyword changes, moves, deletions, and
// folder and account state. An unchanged message (same name, size, mtime
// and inode) is never read; a renamed one is recognised by its Maildir
// base name and a moved one by its inode, without reading. Each batch of
// accounts is committed after its blobs are durable, so a scan killed
// halfway leaves a consistent repository and the next one finishes the job.
func Run(ctx context.Context, r *repo.Repo, st Store, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.BatchItems <= 0 {
		opts.BatchItems = 20000
	}
	if opts.BatchTime <= 0 {
		opts.BatchTime = 250 * time.Millisecond
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	s := &scanner{r: r, st: st, opts: opts, res: &Result{}}
	gen, err := r.Catalog.PurgeGeneration()
	if err != nil {
		return s.res, err
	}
	s.purgeGen = gen
	s.resetBlobs()
	accounts, err := s.accounts()
	if err != nil {
		return s.res, err
	}
	opts.Progress.AccountsTotal.Store(int64(len(accounts)))
	seen := map[string]bool{}
	for _, a := range accounts {
		if err := ctx.Err(); err != nil {
			return s.res, s.finish(err)
		}
		seen[a.Name] = true
		if err := s.lockBatch(); err != nil {
			return s.res, s.finish(err)
		}
		if !s.wanted(a.Name) {
			continue // an excluded account counts as deleted, below
		}
		if err := s.r.CheckSpace(0); err != nil {
			return s.res, s.finish(err)
		}
		if err := s.account(ctx, a); err != nil {
			var se *repo.SpaceError
			if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return s.res, s.finish(err)
			}
			if errors.Is(err, maildir.ErrNoAccount) {
				seen[a.Name] = false // vanished between listing and scanning
			} else {
				s.res.Errors = append(s.res.Errors, fmt.Sprintf("account %s: %v", a.Name, err))
				if s.fatal(err) {
					return s.res, s.finish(err)
				}
			}
		}
		opts.Progress.AccountsDone.Add(1)
		s.res.Accounts++
		if s.pending >= opts.BatchItems || time.Since(s.batchStart) >= opts.BatchTime {
			if err := s.commit(); err != nil {
				return s.res, err
			}
		}
	}
	if err := s.lockBatch(); err != nil {
		return s.res, s.finish(err)
	}
	if err := s.deleteMissing(seen); err != nil {
		return s.res, s.finish(err)
	}
	return s.res, s.finish(nil)
}

// accounts lists the accounts to scan: every account of the store, or
// those of Options.Only.
func (s *scanner) accounts() ([]maildir.Account, error) {
	if s.opts.Only == nil {
		list, err := s.st.Accounts()
		if err != nil {
			return nil, fmt.Errorf("listing accounts: %w", err)
		}
		return list, nil
	}
	var list []maildir.Account
	for _, name := range s.opts.Only {
		a, err := s.st.Account(name)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, nil
}

// lockBatch takes the repository's writer lock at the start of a batch,
// and empties the blob index if a purge ran since the run started (a
// purge drops blobs this run would otherwise take as present).
func (s *scanner) lockBatch() error {
	if s.locked {
		return nil
	}
	s.r.WriteMu.Lock()
	s.locked = true
	s.batchStart = time.Now()
	gen, err := s.r.Catalog.PurgeGeneration()
	if err != nil {
		return err
	}
	if gen != s.purgeGen {
		s.purgeGen = gen
		s.resetBlobs()
	}
	return nil
}

// scanner is the state of one Run.
type scanner struct {
	r    *repo.Repo
	st   Store
	opts Options
	res  *Result

	blobs   *blobIndex
	tx      *catalog.Tx
	pending int
	lastT   int64
	// locked is set while the batch holds the repository's writer lock,
	// taken at batchStart.
	locked     bool
	batchStart time.Time
	// purgeGen is the catalog's purge generation when blobs was loaded.
	purgeGen int64
}

// wanted reports whether an account is selected by the include and
// exclude patterns.
func (s *scanner) wanted(name string) bool {
	return Selected(name, s.opts.Include, s.opts.Exclude)
}

// Selected reports whether an account matches include (empty: all) and
// none of exclude.
func Selected(name string, include, exclude []string) bool {
	in := len(include) == 0
	for _, p := range include {
		if ok, _ := path.Match(p, name); ok {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, p := range exclude {
		if ok, _ := path.Match(p, name); ok {
			return false
		}
	}
	return true
}

// now returns a strictly increasing timestamp for this run, so that
// versions never have empty validity spans.
func (s *scanner) now() int64 {
	t := s.opts.Now().UnixNano()
	if t <= s.lastT {
		t = s.lastT + 1
	}
	s.lastT = t
	return t
}

// txn returns the open transaction, starting one when needed.
func (s *scanner) txn() (*catalog.Tx, error) {
	if s.tx == nil {
		tx, err := s.r.Catalog.Begin()
		if err != nil {
			return nil, err
		}
		s.tx = tx
	}
	return s.tx, nil
}

// commit makes the blobs of the batch durable, then commits the catalog,
// and releases the writer lock.
func (s *scanner) commit() error {
	defer func() {
		if s.locked {
			s.locked = false
			s.r.WriteMu.Unlock()
		}
	}()
	if s.tx == nil {
		return nil
	}
	if err := s.r.Packs.Sync(); err != nil {
		s.tx.Rollback()
		s.tx = nil
		return fmt.Errorf("syncing packs: %w", err)
	}
	err := s.tx.Commit()
	s.tx, s.pending = nil, 0
	return err
}

// finish commits what is complete, fills in the byte counts and returns
// the run's error.
func (s *scanner) finish(runErr error) error {
	if err := s.commit(); err != nil && runErr == nil {
		runErr = err
	}
	p := s.opts.Progress
	s.res.BytesRead, s.res.BytesStored, s.res.NewBlobs = p.BytesRead.Load(), p.BytesStored.Load(), p.BlobsStored.Load()
	return runErr
}

// storeError is a problem reading one account from the mail store; the
// scan records it and goes on with the other accounts. Every other error
// (packs, catalog) stops the scan.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// fatal reports errors that make going on pointless.
func (s *scanner) fatal(err error) bool {
	var se *storeError
	return !errors.As(err, &se)
}

// deleteMissing marks deleted the accounts that are gone from the store
// or no longer selected.
func (s *scanner) deleteMissing(seen map[string]bool) error {
	known, err := s.r.Catalog.Accounts()
	if err != nil {
		return err
	}
	only := map[string]bool{}
	for _, name := range s.opts.Only {
		only[name] = true
	}
	for _, a := range known {
		if a.DeletedAt != 0 || (seen[a.Name] && s.wanted(a.Name)) || (s.opts.Only != nil && !only[a.Name]) {
			continue
		}
		tx, err := s.txn()
		if err != nil {
			return err
		}
		if err := tx.DeleteAccount(a.ID, s.now()); err != nil {
			return err
		}
		s.res.DeletedAccounts++
	}
	return nil
}
