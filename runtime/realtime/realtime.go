package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
	"github.com/mailkeep/mailkeep/runtime/selection"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// Options configure a Scanner.
type Options struct {
	// Include and Exclude select accounts as in SmartScan.
	Include, Exclude []string
	// Settle is how long the scanner waits after the first change of a
	// batch before recording it, so that a burst is recorded in one
	// transaction (default 100ms).
	Settle time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the scanner's log.
	Logger *slog.Logger
	// OnRecord, when set, is called after each batch is durable (tests and
	// benchmarks measure the delay with it).
	OnRecord func(Batch)
	// Pause, when set (tests and benchmarks only), blocks the event reader
	// while it returns true, so that the kernel's queue overflows.
	Pause func() bool
	// Busy reports the accounts a restore is writing into; they are not
	// recorded while it does (see scan.Options.Busy) but rescanned until
	// they can be.
	Busy func(account string) bool
}

// Batch describes one recorded batch of changes.
type Batch struct {
	// Oldest is the time of the oldest change the batch recorded.
	Oldest time.Time
	// Started is when the rescan began: every change made to the
	// batch's accounts before it is now durable.
	Started time.Time
	// Accounts are the accounts rescanned.
	Accounts []string
}

// Status is the realtime scanner's state, for the agent's status.
type Status struct {
	// State is "running", "degraded" (some directories are not watched:
	// see Problem) or "stopped".
	State string `json:"state"`
	// Problem says why realtime is degraded, naming the limit to raise.
	Problem string `json:"problem,omitempty"`
	// Watches is the number of directories watched.
	Watches int `json:"watches"`
	// Pending is the number of accounts with changes not yet recorded, and
	// BehindSeconds the age of the oldest unrecorded change.
	Pending       int     `json:"pending"`
	BehindSeconds float64 `json:"behind_seconds"`
	// LastChange is when the scanner last recorded a change.
	LastChange *time.Time `json:"last_change,omitempty"`
	// Overflows counts kernel queue overflows; each one rescans every
	// account, and LastRescan says when and why the last rescan happened.
	Overflows  int    `json:"overflows"`
	LastRescan string `json:"last_rescan,omitempty"`
	// Recorded counts the batches recorded; Errors the failed ones.
	Recorded int64  `json:"recorded"`
	Errors   int64  `json:"errors"`
	LastErr  string `json:"last_error,omitempty"`
}

// Scanner follows every change in the mail store with inotify and records
// it in the repository: each event marks its account dirty, and dirty
// accounts are rescanned (without reading unchanged messages) and
// committed together. It never loses a change silently: on a queue
// overflow or an error every account is rescanned, and status says so.
type Scanner struct {
	r    *repo.Repo
	st   store.DirWatcher
	opts Options
	log  *slog.Logger
	w    *fsnotify.Watcher

	mu    sync.Mutex
	dirty map[string]time.Time // account → oldest unrecorded change
	// inflight are the accounts of the batch being recorded: still not
	// durable, so still pending.
	inflight map[string]time.Time
	dirOf    map[string]string        // watched directory → account ("" for a discovery level)
	retry    map[string]time.Duration // account → delay before its next rescan after failures
	status   Status
	kick     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
	limited  bool
}

// Start watches the store and starts recording. The first pass records
// every account once (so nothing that changed while no scanner ran is
// missed).
//
// The store must report changes of its directories (store.DirWatcher).
func Start(ctx context.Context, r *repo.Repo, st store.Store, opts Options) (*Scanner, error) {
	dw, ok := st.(store.DirWatcher)
	if !ok {
		return nil, fmt.Errorf("realtime scanner: the mail store (%T) cannot report its changes", st)
	}
	if opts.Settle <= 0 {
		opts.Settle = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return nil, fmt.Errorf("realtime scanner: %w (raise fs.inotify.max_user_instances)", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Scanner{r: r, st: dw, opts: opts, log: opts.Logger, w: w, dirty: map[string]time.Time{}, dirOf: map[string]string{}, retry: map[string]time.Duration{},
		kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	s.status.State = "running"
	if err := s.discover(); err != nil {
		w.Close()
		cancel()
		return nil, err
	}
	go s.readEvents(ctx)
	go s.record(ctx)
	return s, nil
}

// Stop stops watching and waits for the recorder to finish its batch.
func (s *Scanner) Stop() {
	s.cancel()
	s.w.Close()
	<-s.done
	s.mu.Lock()
	s.status.State = "stopped"
	s.mu.Unlock()
}

// Status returns the scanner's state.
func (s *Scanner) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	var oldest time.Time
	pending := map[string]bool{}
	for _, set := range []map[string]time.Time{s.dirty, s.inflight} {
		for a, t := range set {
			pending[a] = true
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	st.Pending = len(pending)
	if !oldest.IsZero() {
		st.BehindSeconds = s.opts.Now().Sub(oldest).Seconds()
	}
	st.Watches = len(s.dirOf)
	return st
}

// discover watches the levels where accounts appear, then lists the
// accounts, watches every directory that matters and marks every account
// dirty. Watching first means an account created meanwhile is either
// listed or announced by an event.
func (s *Scanner) discover() error {
	s.watchDiscovery()
	accounts, err := s.st.Accounts()
	if err != nil {
		return fmt.Errorf("realtime scanner: listing accounts: %w", err)
	}
	now := s.opts.Now()
	for _, a := range accounts {
		if !selection.Selected(a.Name, s.opts.Include, s.opts.Exclude) {
			continue
		}
		s.watchAccount(a)
		s.markDirty(a.Name, now)
	}
	return nil
}

// watchDiscovery watches the directories where new accounts appear
// (store.DirWatcher.WatchDiscovery).
func (s *Scanner) watchDiscovery() {
	s.st.WatchDiscovery(func(dir string) { s.watch(dir, "") })
}

// watchAccount watches the directories whose changes are an account's
// (store.DirWatcher.WatchAccount).
func (s *Scanner) watchAccount(a store.Account) {
	s.st.WatchAccount(a, func(dir string) { s.watch(dir, a.Name) })
}

// watch adds one directory, recording a watch-limit problem for status.
func (s *Scanner) watch(dir, account string) {
	s.mu.Lock()
	_, have := s.dirOf[dir]
	s.mu.Unlock()
	if have {
		return
	}
	if err := s.w.Add(dir); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			s.mu.Lock()
			if !s.limited {
				s.limited = true
				s.status.State = "degraded"
				s.status.Problem = fmt.Sprintf("the inotify watch limit fs.inotify.max_user_watches (%s) is reached: realtime backup is impossible for some folders until it is raised (sysctl -w fs.inotify.max_user_watches=N); SmartScan still covers them", sysctlValue("fs/inotify/max_user_watches"))
				s.log.Error("realtime scanner degraded", "problem", s.status.Problem)
			}
			s.mu.Unlock()
			return
		}
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("realtime scanner cannot watch a directory", "dir", dir, "err", err)
		}
		return
	}
	s.mu.Lock()
	s.dirOf[dir] = account
	s.mu.Unlock()
}

func sysctlValue(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// markDirty notes a change of an account and wakes the recorder.
func (s *Scanner) markDirty(account string, at time.Time) {
	s.mu.Lock()
	if t, ok := s.dirty[account]; !ok || at.Before(t) {
		s.dirty[account] = at
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// readEvents turns filesystem events into dirty accounts.
func (s *Scanner) readEvents(ctx context.Context) {
	for {
		if s.opts.Pause != nil {
			for s.opts.Pause() {
				time.Sleep(10 * time.Millisecond)
			}
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.w.Events:
			if !ok {
				return
			}
			s.event(ev)
		case err, ok := <-s.w.Errors:
			if !ok {
				return
			}
			s.overflow(err)
		}
	}
}

// event handles one filesystem event.
func (s *Scanner) event(ev fsnotify.Event) {
	now := s.opts.Now()
	dir := filepath.Dir(ev.Name)
	s.mu.Lock()
	account, known := s.dirOf[dir]
	self, isWatched := s.dirOf[ev.Name]
	s.mu.Unlock()
	if isWatched && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		s.mu.Lock()
		delete(s.dirOf, ev.Name) // the kernel dropped the watch
		s.mu.Unlock()
		if self != "" {
			// One of the account's own directories went (its root, a
			// folder): rescan the account whether or not the parent
			// directory is watched, so that an account removed as a whole
			// is always recorded deleted.
			s.markDirty(self, now)
		}
	}
	switch {
	case !known:
		return
	case account == "":
		// A discovery level changed: an account may have appeared or gone.
		if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			s.rediscover(now)
		}
		return
	}
	if ev.Has(fsnotify.Create) {
		if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
			// A new folder (or its new/ and cur/): watch it now, before
			// messages arrive in it; the rescan records what is already
			// there.
			if a, err := s.st.Account(account); err == nil {
				s.watchAccount(a)
			}
		}
	}
	s.markDirty(account, now)
}

// rediscover watches accounts that appeared; accounts that vanished are
// marked dirty so that the rescan records their deletion.
func (s *Scanner) rediscover(now time.Time) {
	s.watchDiscovery()
	accounts, err := s.st.Accounts()
	if err != nil {
		s.log.Warn("realtime scanner: listing accounts", "err", err)
		return
	}
	present := map[string]bool{}
	for _, a := range accounts {
		present[a.Name] = true
		if !selection.Selected(a.Name, s.opts.Include, s.opts.Exclude) {
			continue
		}
		s.mu.Lock()
		_, watched := s.dirOf[a.Root]
		s.mu.Unlock()
		if !watched {
			s.watchAccount(a)
			s.markDirty(a.Name, now)
		}
	}
	s.mu.Lock()
	var gone []string
	for dir, acct := range s.dirOf {
		if acct != "" && !present[acct] {
			gone = append(gone, acct)
			delete(s.dirOf, dir)
		}
	}
	s.mu.Unlock()
	for _, a := range gone {
		s.markDirty(a, now)
	}
}

// overflow handles a lost-events condition: every account is rescanned.
func (s *Scanner) overflow(err error) {
	now := s.opts.Now()
	reason := "error: " + err.Error()
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		reason = "kernel event queue overflow (fs.inotify.max_queued_events = " + sysctlValue("fs/inotify/max_queued_events") + ")"
	}
	s.mu.Lock()
	s.status.Overflows++
	s.status.LastRescan = now.UTC().Format(time.RFC3339) + ": " + reason + "; every account rescanned"
	s.mu.Unlock()
	s.log.Warn("realtime scanner lost events; rescanning every account", "reason", reason)
	s.rediscover(now)
	accounts, lerr := s.st.Accounts()
	if lerr != nil {
		return
	}
	for _, a := range accounts {
		if selection.Selected(a.Name, s.opts.Include, s.opts.Exclude) {
			s.markDirty(a.Name, now)
		}
	}
}

// retryFailed schedules another rescan of the accounts a batch could not
// record (a folder unreadable, or removed while it was listed), after a
// delay that doubles on each consecutive failure up to maxRetryDelay, and
// forgets the delay of the accounts recorded.
func (s *Scanner) retryFailed(res *scan.Result, batch map[string]time.Time) {
	failed := map[string]bool{}
	for _, a := range res.Failed {
		failed[a] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range batch {
		if !failed[a] {
			delete(s.retry, a)
		}
	}
	if len(failed) == 0 {
		return
	}
	s.status.Errors++
	s.status.LastErr = strings.Join(res.Errors, "; ")
	s.log.Warn("realtime scanner: some accounts could not be recorded; will rescan them", "errors", res.Errors)
	for a := range failed {
		d := s.retry[a]
		if d == 0 {
			d = time.Second
		} else if d = 2 * d; d > maxRetryDelay {
			d = maxRetryDelay
		}
		s.retry[a] = d
		at := batch[a]
		time.AfterFunc(d, func() { s.markDirty(a, at) })
	}
}

// busyRetry is how long an account a restore is writing into waits
// before it is rescanned.
const busyRetry = time.Second

// maxRetryDelay bounds the wait before an account that keeps failing is
// rescanned.
const maxRetryDelay = time.Minute

// record rescans dirty accounts and commits them, batch after batch.
func (s *Scanner) record(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		// Let a burst settle into one batch.
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.Settle):
		}
		s.mu.Lock()
		batch := s.dirty
		s.dirty = map[string]time.Time{}
		s.inflight = batch
		s.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		names := make([]string, 0, len(batch))
		var oldest time.Time
		for n, t := range batch {
			names = append(names, n)
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
		sort.Strings(names)
		started := time.Now()
		res, err := scan.Run(ctx, s.r, s.st, scan.Options{Only: names, Include: s.opts.Include, Exclude: s.opts.Exclude, Now: s.opts.Now, Busy: s.opts.Busy})
		if err == nil && res != nil {
			s.retryFailed(res, batch)
			for _, a := range res.Busy {
				at := batch[a]
				time.AfterFunc(busyRetry, func() { s.markDirty(a, at) })
			}
			if n := res.SkippedTotal(); n > 0 {
				s.log.Warn("realtime scanner: files or folders of the mail store skipped; their backup is kept as it was",
					"skipped", res.Skipped, "first", res.SkippedItems[0].Account+": "+res.SkippedItems[0].Path)
			}
		}
		s.mu.Lock()
		s.inflight = nil
		if err != nil {
			s.status.Errors++
			s.status.LastErr = err.Error()
			// Nothing is lost: the accounts go back to the dirty set.
			for n, t := range batch {
				if old, ok := s.dirty[n]; !ok || t.Before(old) {
					s.dirty[n] = t
				}
			}
		} else {
			s.status.Recorded++
			now := s.opts.Now()
			s.status.LastChange = &now
		}
		s.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("realtime scanner: recording changes failed; will retry", "accounts", len(names), "err", err)
			time.Sleep(time.Second)
			select {
			case s.kick <- struct{}{}:
			default:
			}
			continue
		}
		if s.opts.OnRecord != nil {
			s.opts.OnRecord(Batch{Oldest: oldest, Started: started, Accounts: names})
		}
	}
}
