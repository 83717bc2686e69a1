package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	mslocation "github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/store"
	"github.com/mailkeep/mailkeep/schema"
)

// Defaults of the agent's command-line flags.
const (
	DefaultStateDir = "/var/lib/mailkeep"
	DefaultListen   = schema.DefaultAgentAddress
)

// Config is how an agent process is started.
type Config struct {
	// StateDir holds the agent's state: its config document, revision and
	// history.
	StateDir string
	// Logger receives the agent's log; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ReopenWait is how long the agent waits before it tries again to
	// open a repository or mail store that could not be opened (a backup
	// disk mounted late, an I/O error that cleared); the wait doubles
	// after each failure, up to MaxReopenWait. DefaultReopenWait when 0.
	ReopenWait time.Duration
}

// DefaultReopenWait and MaxReopenWait bound the waits between tries to
// open a repository that failed to open.
const (
	DefaultReopenWait = 30 * time.Second
	MaxReopenWait     = 10 * time.Minute
)

// Agent is the mailkeep runtime of one mail server.
type Agent struct {
	cfg Config
	log *slog.Logger
	ops *opManager

	ctx    context.Context
	cancel context.CancelFunc

	mu  sync.RWMutex
	st  *state
	doc *schema.Document
	// engine is the repository and store of the current config; nil while
	// unconfigured or when opening failed (engineErr says why).
	engine    *engine
	engineErr error
	// switching is set while a backup_path or mail_store change waits for
	// running operations to finish; switched is closed when it is done.
	switching bool
	switched  chan struct{}
	// switchMu serialises repository switches.
	switchMu sync.Mutex
	// spaceStop is the last reserved-space stop, cleared by a successful
	// write.
	spaceStop string
	started   time.Time

	// stateLock is held on the state directory until Close.
	stateLock *fsutil.Lock

	sched *scheduler
	rt    *realtimeRunner
	hdr   headerIndexer
	// bg tracks background work (repository switches) that Close waits for.
	bg sync.WaitGroup
}

// engine is what the backup module works with under one config.
type engine struct {
	repo *repo.Repo
	// store is the mail store; the Maildir driver opens it, the engines
	// use it through the store interface.
	store store.Writable
	doc   *schema.Document
}

// New loads the agent's state and, when configured, opens its repository.
func New(cfg Config) (*Agent, error) {
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReopenWait <= 0 {
		cfg.ReopenWait = DefaultReopenWait
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := fsutil.PrivateDir(cfg.StateDir, isStateFile); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	lk, err := lockStateDir(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	st, doc, err := loadState(cfg.StateDir)
	if err != nil {
		lk.Release()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{cfg: cfg, log: cfg.Logger, st: st, doc: doc, ctx: ctx, cancel: cancel, started: cfg.Now(), stateLock: lk}
	a.ops = newOpManager(ctx, func(format string, args ...any) { a.log.Info(fmt.Sprintf(format, args...)) })
	a.sched = newScheduler(a)
	a.rt = &realtimeRunner{a: a}
	if doc == nil {
		a.log.Info("agent is unconfigured; waiting for a config document (mailkeep apply)")
		return a, nil
	}
	a.activate(doc, true, nil)
	return a, nil
}

// activate opens the repository and store of a config and starts its
// schedules; failures are kept for status and do not stop the agent.
//
// A repository switch passes the channel its waiters wait on: it is closed
// as soon as the engine is in place, before the runtime starts, since the
// runtime's own operations wait for it.
func (a *Agent) activate(doc *schema.Document, startup bool, switched chan struct{}) {
	if a.ctx.Err() != nil {
		return // closing
	}
	e, err := openEngine(doc)
	a.mu.Lock()
	a.engine, a.engineErr = e, err
	if switched != nil && a.switched == switched {
		a.switching, a.switched = false, nil
	}
	a.mu.Unlock()
	if switched != nil {
		close(switched)
	}
	if err != nil {
		a.log.Error("backup module cannot start; the agent tries again by itself", "err", err)
		a.reopenLater(doc, startup)
		return
	}
	a.runEngine(doc, e, startup)
}

// runEngine starts what runs on an engine that just opened.
func (a *Agent) runEngine(doc *schema.Document, e *engine, startup bool) {
	a.log.Info("repository open", "backup_path", e.repo.Path, "mail_store", doc.Config().MailStore)
	a.recordRepo(e.repo.Path)
	a.hdr.start(a.ctx, e.repo, a.log)
	if startup && !doc.Config().EnabledAtStartup {
		a.log.Info("backup module not started: enabled_at_startup is false; operations can still be started by hand")
		return
	}
	a.applyRuntime(doc)
	if startup && doc.Config().SmartScanAtStartup {
		if _, err := a.StartSmartScan(false); err != nil {
			a.log.Warn("SmartScan at startup not started", "err", err)
		}
	}
}

// openEngine opens the store and repository a config names.
func openEngine(doc *schema.Document) (*engine, error) {
	c := doc.Config()
	ms, err := mslocation.Parse(c.MailStore)
	if err != nil {
		return nil, fmt.Errorf("mail_store: %w", err)
	}
	st, err := maildir.OpenWith(ms, maildir.Options{Symlinks: c.MailStoreSymlinks})
	if err != nil {
		return nil, fmt.Errorf("mail_store: %w", err)
	}
	r, err := repo.Open(c.BackupPath, repo.Options{
		Purpose: "mailkeep agent",
		Durable: c.Metadata.FlushOnSave,
		Create:  true,
		Reserve: repo.Reserve{
			Blobs:    c.ReservedSpace.BackupMB << 20,
			Metadata: c.ReservedSpace.MetadataMB << 20,
		},
	})
	if err != nil {
		return nil, err
	}
	return &engine{repo: r, store: st, doc: doc}, nil
}

// switchWait is how long an operation waits for a repository switch (a
// new backup_path or mail_store) to finish before it is refused.
const switchWait = 30 * time.Second

// current returns the engine operations use, or why there is none. While
// the agent switches to a new repository it waits for the switch.
func (a *Agent) current() (*engine, error) {
	deadline := time.After(switchWait)
	for {
		a.mu.RLock()
		doc, e, engErr, switched := a.doc, a.engine, a.engineErr, a.switched
		a.mu.RUnlock()
		switch {
		case doc == nil:
			return nil, ErrUnconfigured
		case switched != nil:
			select {
			case <-switched:
				continue
			case <-deadline:
				return nil, fmt.Errorf("%w: the agent is still switching to a new backup_path or mail_store (running operations finish first); try again shortly", ErrBusy)
			case <-a.ctx.Done():
				return nil, errors.New("the agent is shutting down")
			}
		case e == nil:
			return nil, fmt.Errorf("the backup module is not running: %v", engErr)
		}
		if err := e.repo.CheckCatalog(); err != nil {
			return nil, err
		}
		return e, nil
	}
}

// ErrUnconfigured is returned while the agent has no config document.
var ErrUnconfigured = errors.New("the agent is unconfigured: apply a policy first (mailkeep apply)")

// recordRepo remembers a repository path for status.
func (a *Agent) recordRepo(path string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now().UTC().Truncate(time.Second)
	for i := range a.st.Repos {
		if a.st.Repos[i].Path == path {
			a.st.Repos[i].LastUsed = now
			a.saveLocked()
			return
		}
	}
	a.st.Repos = append(a.st.Repos, api.RepoRecord{Path: path, FirstUsed: now, LastUsed: now})
	a.saveLocked()
}

func (a *Agent) saveLocked() {
	if err := a.st.save(a.cfg.StateDir); err != nil {
		a.log.Error("saving agent state", "err", err)
	}
}

// Close stops schedules, cancels running operations, waits for them and
// closes the repository.
func (a *Agent) Close() error {
	a.sched.stop()
	a.rt.stop()
	a.cancel()
	a.ops.shutdown()
	a.bg.Wait()
	a.hdr.stop()
	a.sched.stop() // a switch may have started schedules meanwhile
	a.rt.stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	if a.engine != nil {
		err = a.engine.repo.Close()
		a.engine = nil
	}
	if a.stateLock != nil {
		err = errors.Join(err, a.stateLock.Release())
		a.stateLock = nil
	}
	return err
}
