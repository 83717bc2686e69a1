package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/selection"
	"github.com/mailkeep/mailkeep/runtime/store"
)

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
	// Readers is the number of goroutines opening and reading message
	// files (default 8), so that reads from a cold disk overlap; GOMAXPROCS
	// other goroutines hash and compress what they read.
	Readers int
	// Progress, when set, is updated as the scan goes.
	Progress *Progress
	// BatchItems is how many changed items a catalog transaction holds
	// before it is committed (default 20000); it is checked between
	// accounts, so a transaction may exceed it by one account's changes.
	BatchItems int
	// BatchTime is how long SmartScan keeps the repository's writer lock
	// at least once it has it (default 250ms). When another writer, such
	// as the realtime scanner, waits for the lock after that, SmartScan
	// gives up the accounts under way (it starts them again later), except
	// the oldest one when it recorded none yet under this lock, commits
	// and lets it in.
	BatchTime time.Duration
	// Only, when not nil, limits the scan to these accounts (user@domain):
	// the realtime scanner rescans the accounts it saw change. An account
	// of Only that is gone from the store is marked deleted; accounts not
	// in Only are left alone.
	Only []string
	// Busy, when set, reports the accounts a restore is writing into. A
	// scan does not record them: it would record a half-written state (the
	// messages not yet written back as deleted, UIDs and keywords not yet
	// set); it lists them in Result.Busy and leaves their backup as it
	// was, and the next scan records them.
	Busy func(account string) bool
}

// Progress is updated atomically while a scan runs.
type Progress struct {
	AccountsTotal, AccountsDone atomic.Int64
	ItemsSeen                   atomic.Int64
	ItemsRead, BytesRead        atomic.Int64
	BytesStored, BlobsStored    atomic.Int64
}

// commitInterval is how often a SmartScan that nobody waits for commits:
// what a crash loses at most.
const commitInterval = 2 * time.Second

// lookahead is how many accounts are read from the catalog and listed
// ahead of the one being planned.
const lookahead = 3

// aheadItems bounds the messages (catalog items and listed files) that
// the accounts under way hold in memory, a few hundred bytes each: with
// large accounts, fewer are read ahead. A variable for tests.
var aheadItems = 200_000

// defaultReaders is Options.Readers when zero: measured on a virtual
// disk, eight concurrent reads of cold message files read 2.2 times as
// fast as one, sixteen 2.5 times.
const defaultReaders = 8

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
	// Skipped counts, by reason (store.Reason: "symlink", "fifo",
	// "unreadable", ...), the files and directories of the mail store that
	// were not read; SkippedItems names the first maxSkippedItems of them.
	// What a skip hides is never recorded as deleted: the backup of a
	// skipped message or folder stays as it was.
	Skipped      map[string]int64 `json:"skipped,omitempty"`
	SkippedItems []SkippedItem    `json:"skipped_items,omitempty"`
	// Warnings are problems of the mail store that did not stop anything
	// from being backed up (a damaged dovecot-uidlist, a folder without
	// cur/), each naming its account and path.
	Warnings []string `json:"warnings,omitempty"`
	// Errors are per-account problems that did not stop the scan, and
	// Failed the accounts they concern (not recorded by this run).
	Errors []string `json:"errors,omitempty"`
	Failed []string `json:"failed_accounts,omitempty"`
	// Busy are the accounts not recorded because a restore was writing
	// into them (see Options.Busy).
	Busy []string `json:"busy_accounts,omitempty"`
}

// SkippedItem is one file or directory of the mail store a scan did not
// read. Path is relative to the account's Maildir root (or its CONTROL=
// directory); names that are not UTF-8 are shown with U+FFFD and given
// exactly in the _b64 fields.
type SkippedItem struct {
	Account    string `json:"account"`
	AccountB64 string `json:"account_b64,omitempty"`
	Path       string `json:"path"`
	PathB64    string `json:"path_b64,omitempty"`
	Reason     string `json:"reason"`
	Error      string `json:"error,omitempty"`
}

// maxSkippedItems bounds Result.SkippedItems; Result.Skipped counts them
// all.
const maxSkippedItems = 100

// SkippedTotal returns how many files and directories were skipped.
func (r *Result) SkippedTotal() int64 {
	var n int64
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// skip adds an account's skips and warnings to the result.
func (r *Result) skip(account string, skips []store.Skip, warnings []error) {
	for _, k := range skips {
		if r.Skipped == nil {
			r.Skipped = map[string]int64{}
		}
		r.Skipped[string(k.Reason)]++
		if len(r.SkippedItems) < maxSkippedItems {
			it := SkippedItem{Reason: string(k.Reason)}
			it.Account, it.AccountB64 = names.Fields(account)
			it.Path, it.PathB64 = names.Fields(k.Path)
			if k.Err != nil {
				it.Error = strings.ToValidUTF8(k.Err.Error(), "\uFFFD")
			}
			r.SkippedItems = append(r.SkippedItems, it)
		}
	}
	for _, w := range warnings {
		r.Warnings = append(r.Warnings, strings.ToValidUTF8(fmt.Sprintf("account %s: %v", account, w), "\uFFFD"))
	}
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
//
// Accounts overlap (see work): while one is recorded, the next ones are
// read and listed. Run holds the repository's writer lock from the first
// account on, commits every commitInterval or BatchItems, and lets another
// writer in once it held the lock for BatchTime (see Options and walker).
func Run(ctx context.Context, r *repo.Repo, st store.Store, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Readers <= 0 {
		opts.Readers = defaultReaders
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
	s := &scanner{ctx: ctx, r: r, st: st, opts: opts, res: &Result{}, committed: time.Now(), started: opts.Now().UnixNano()}
	gen, err := r.Catalog.PurgeGeneration()
	if err != nil {
		return s.res, err
	}
	s.purgeGen = gen
	s.newBlobs()
	if opts.Only == nil {
		r.Catalog.Prefetch() // a full scan touches most of the catalog
	}
	accounts, err := s.accounts()
	if err != nil {
		return s.res, err
	}
	opts.Progress.AccountsTotal.Store(int64(len(accounts)))
	s.pipe = s.startPipeline(ctx)
	err = s.walk(ctx, accounts)
	s.pipe.stop(err != nil)
	return s.res, s.r.AsSpaceError(s.finish(err))
}

// settle records one account, keeping the run going past problems that
// concern that account alone.
func (s *scanner) settle(w *work, seen map[string]bool) error {
	if s.busy(w.a.Name) {
		return nil // a restore began writing into it since its listing
	}
	// A catalog write that found its filesystem full stops the run as
	// the reserve does.
	err := s.r.AsSpaceError(s.record(w))
	if err != nil {
		var se *repo.SpaceError
		switch {
		case errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return err
		case errors.Is(err, store.ErrNoAccount):
			seen[w.a.Name] = false // vanished between listing and scanning
		case s.fatal(err):
			s.res.Errors = append(s.res.Errors, fmt.Sprintf("account %s: %v", w.a.Name, err))
			return err
		default:
			s.res.Errors = append(s.res.Errors, fmt.Sprintf("account %s: %v", w.a.Name, err))
			s.res.Failed = append(s.res.Failed, w.a.Name)
		}
	}
	s.opts.Progress.AccountsDone.Add(1)
	if err == nil {
		s.uncommitted.Accounts++
	} else {
		s.res.Accounts++
	}
	s.recorded++
	return nil
}

// accounts lists the accounts to scan: every account of the store, or
// those of Options.Only.
func (s *scanner) accounts() ([]store.Account, error) {
	if s.opts.Only == nil {
		list, err := s.st.Accounts()
		if err != nil {
			return nil, fmt.Errorf("listing accounts: %w", err)
		}
		return list, nil
	}
	var list []store.Account
	for _, name := range slices.Compact(slices.Sorted(slices.Values(s.opts.Only))) {
		a, err := s.st.Account(name)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, nil
}

// lockBatch takes the repository's writer lock at the start of a batch,
// and empties the blob index if a purge ran since it was filled (a purge
// drops blobs this run would otherwise take as present).
func (s *scanner) lockBatch() error {
	if s.locked {
		return nil
	}
	if err := s.r.LockWrites(); err != nil {
		return err
	}
	s.locked = true
	s.batchStart = time.Now()
	s.recorded = 0
	gen, err := s.r.Catalog.PurgeGeneration()
	if err != nil {
		return err
	}
	if gen != s.purgeGen {
		s.purgeGen = gen
		s.newBlobs()
	}
	return nil
}

// newBlobs starts a new blob index, with the contents a killed scan left
// uncommitted in the packs (none once a purge ran). Failing to look for
// them only costs storing them again: a warning.
func (s *scanner) newBlobs() {
	orphans, err := s.r.Orphans()
	if err != nil {
		s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("contents stored before a crash are stored again: looking for them failed: %v", err))
	}
	s.blobs = newBlobIndex(s.r.Catalog, orphans)
}

// scanner is the state of one Run.
type scanner struct {
	ctx  context.Context // the run's: stops the listings too
	r    *repo.Repo
	st   store.Store
	opts Options
	res  *Result

	blobs   *blobIndex
	pipe    *pipeline
	tx      *catalog.Tx
	pending int
	// uncommitted counts what the open transaction records; it joins res
	// when the transaction commits, so that a failed run reports only
	// what it committed.
	uncommitted Result
	lastT       int64
	// locked is set while the batch holds the repository's writer lock,
	// taken at batchStart.
	locked     bool
	batchStart time.Time
	// recorded counts the accounts recorded since the lock was taken.
	recorded int
	// committed is when the last commit ended (or the run started).
	committed time.Time
	// purgeGen is the catalog's purge generation when blobs was loaded.
	purgeGen int64
	// started is when the run started, by Options.Now.
	started int64
}

// busy reports (and notes in the result) an account a restore is writing
// into.
func (s *scanner) busy(name string) bool {
	if s.opts.Busy == nil || !s.opts.Busy(name) {
		return false
	}
	s.res.Busy = append(s.res.Busy, name)
	return true
}

// wanted reports whether an account is selected by the include and
// exclude patterns.
func (s *scanner) wanted(name string) bool {
	return selection.Selected(name, s.opts.Include, s.opts.Exclude)
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

// commit makes the blobs of the batch durable, then commits the catalog;
// with unlock it also releases the writer lock, which the caller may only
// ask for when no account is under way.
func (s *scanner) commit(unlock bool) error {
	defer func() {
		s.committed = time.Now()
		if unlock && s.locked {
			s.locked = false
			s.r.WriteMu.Unlock()
		}
	}()
	if s.tx == nil {
		return nil
	}
	if err := s.r.Packs.Sync(); err != nil {
		s.tx.Rollback()
		s.tx, s.pending, s.uncommitted = nil, 0, Result{}
		return s.r.AsSpaceError(fmt.Errorf("syncing packs: %w", err))
	}
	err := s.r.AsSpaceError(s.tx.Commit())
	s.tx, s.pending = nil, 0
	if err == nil {
		s.blobs.committed()
		s.res.add(&s.uncommitted)
		s.res.Accounts += s.uncommitted.Accounts
		s.res.DeletedAccounts += s.uncommitted.DeletedAccounts
	}
	s.uncommitted = Result{}
	return err
}

// finish commits what is recorded, fills in the byte counts and returns
// the run's error.
func (s *scanner) finish(runErr error) error {
	if err := s.commit(false); err != nil && runErr == nil {
		runErr = err
	}
	if s.locked {
		// What failed in the packs went with a transaction that is rolled
		// back by now: clear the failure, which on a full disk gives back
		// the space of the records that did not make it, so that the
		// outcome can be recorded.
		if err := s.r.Packs.Recover(); err != nil && runErr == nil {
			runErr = err
		}
		s.locked = false
		s.r.WriteMu.Unlock()
	}
	p := s.opts.Progress
	s.res.BytesRead, s.res.BytesStored, s.res.NewBlobs = p.BytesRead.Load(), p.BytesStored.Load(), p.BlobsStored.Load()
	return runErr
}

// add adds the counts of one account's result to the run's.
func (r *Result) add(o *Result) {
	r.Items += o.Items
	r.New += o.New
	r.Changed += o.Changed
	r.Moved += o.Moved
	r.Deleted += o.Deleted
	r.Unchanged += o.Unchanged
	r.FoldersSkipped += o.FoldersSkipped
	r.Vanished += o.Vanished
	r.Mismatches = append(r.Mismatches, o.Mismatches...)
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
		if a.LastSeen >= s.started && s.wanted(a.Name) {
			// Not in this run's listing, but another writer (the realtime
			// scanner, while this run let it in) saw it since: it is new.
			continue
		}
		tx, err := s.txn()
		if err != nil {
			return err
		}
		if err := tx.DeleteAccount(a.ID, s.now()); err != nil {
			return err
		}
		s.uncommitted.DeletedAccounts++
	}
	return nil
}
