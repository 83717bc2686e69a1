package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// Options say what to restore.
type Options struct {
	// Account is the account to restore, as backed up (user@domain).
	Account string
	// At is the instant to restore; the zero time means the last state.
	At time.Time
	// To is the account to restore into; "" means Account itself.
	To string
	// DryRun computes what would be restored and writes nothing.
	DryRun bool
	// PostCommand runs after the restore; "%u" in an argument is replaced
	// by the target account.
	PostCommand []string
	// PostCommandUser runs PostCommand as this user (CommandUser); ""
	// and "root" run it as the agent.
	PostCommandUser string
	// Workers read, decompress and write messages in parallel; 8 when 0.
	// A restore waits mostly on file creation and fsync, which overlap
	// well beyond the number of cores.
	Workers int
	// Progress, when set, is updated as the restore goes.
	Progress *Progress
}

// Progress is updated atomically while a restore runs.
type Progress struct {
	ItemsTotal, ItemsDone atomic.Int64
	BytesDone             atomic.Int64
}

// Result says what a restore did (or, for a dry run, would do).
type Result struct {
	Account string `json:"account"`
	To      string `json:"to"`
	// AccountB64 and ToB64 are the exact bytes of the names that are not
	// UTF-8.
	AccountB64 string    `json:"account_b64,omitempty"`
	ToB64      string    `json:"to_b64,omitempty"`
	At         time.Time `json:"at"`
	DryRun     bool      `json:"dry_run"`
	// Mode is "full" when the target was empty or missing (folders, UIDs
	// and UIDVALIDITY restored as they were) or "merge" when it had mail
	// (missing messages added, present ones left alone, the server assigns
	// new UIDs).
	Mode string `json:"mode"`
	// Resumed is true when the target held what a full restore of the
	// same state wrote before it was cut short (its marker): this restore
	// carried it on as a full one.
	Resumed bool           `json:"resumed,omitempty"`
	Folders []FolderResult `json:"folders"`
	// Messages and Bytes count what was written (or, for a dry run, would
	// be); Skipped the messages already there.
	Messages int   `json:"messages"`
	Skipped  int   `json:"skipped"`
	Bytes    int64 `json:"bytes"`
	// Failed counts the messages that could not be written; FailedItems
	// names each. Problems are the failures that are no message's (a
	// folder's keywords or UID list, the subscriptions). A restore with
	// either wrote everything else and ends with an error.
	Failed      int             `json:"failed"`
	FailedItems []FailedMessage `json:"failed_items,omitempty"`
	Problems    []string        `json:"problems,omitempty"`
	// PostCommand is the outcome of restore.post_command, when one ran.
	PostCommand *CommandResult `json:"post_command,omitempty"`
}

// FolderResult is one folder's share of a restore.
type FolderResult struct {
	// Name is the folder's name; NameB64 its exact bytes when they are
	// not UTF-8.
	Name     string `json:"name"`
	NameB64  string `json:"name_b64,omitempty"`
	Messages int    `json:"messages"`
	Skipped  int    `json:"skipped"`
	Bytes    int64  `json:"bytes"`
	Created  bool   `json:"created"`
	// Failed counts the folder's messages that could not be written;
	// Error is the folder's own failure, if any (created, locked, its
	// keywords or UID list).
	Failed int    `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ErrNoState is returned when the account did not exist at the instant.
var ErrNoState = errors.New("account not in the backup at that instant")

// ErrPurged is returned for an instant before the account's history was
// trimmed by the retention purge: what it held then is no longer whole.
var ErrPurged = catalog.ErrPurged

// Run restores an account as it was at opts.At into opts.To.
func Run(ctx context.Context, r *repo.Repo, st store.Writable, opts Options) (*Result, error) {
	if opts.To == "" {
		opts.To = opts.Account
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	target, err := st.Account(opts.To)
	if err != nil {
		return nil, err
	}
	state, err := StateAt(r, opts.Account, opts.At)
	if err != nil {
		return nil, err
	}
	at := time.Unix(0, state.At)
	res := &Result{Account: opts.Account, To: opts.To, AccountB64: names.B64(opts.Account), ToB64: names.B64(opts.To), At: at.UTC(), DryRun: opts.DryRun}
	existing, err := st.Snapshot(target, store.SnapshotOptions{})
	switch {
	case errors.Is(err, store.ErrNoAccount):
		existing = nil
	case err != nil:
		return nil, fmt.Errorf("reading the target account %s: %w", opts.To, err)
	}
	plan := newPlan(state, existing)
	mw := st.AccountWriter(target)
	if plan.mode == "merge" {
		found, err := mw.RestoreMarker()
		if err != nil {
			return nil, fmt.Errorf("reading the target account %s: %w", opts.To, err)
		}
		if found != nil && resumes(found, state) {
			plan.mode, res.Resumed = "full", true
		}
	}
	res.Mode = plan.mode
	opts.Progress.ItemsTotal.Store(int64(plan.messages()))
	w := &writer{r: r, w: mw, opts: opts, res: res, target: target, existing: existing, st: st}
	err = w.run(ctx, plan)
	w.describeFailures()
	if err != nil {
		return res, err
	}
	failure := w.failure()
	if !opts.DryRun && len(opts.PostCommand) > 0 && (failure == nil || res.Messages > 0) {
		res.PostCommand = runPostCommand(ctx, opts.PostCommand, opts.PostCommandUser, opts.To)
		if res.PostCommand.Error != "" || res.PostCommand.ExitCode != 0 {
			if failure != nil {
				return res, fmt.Errorf("%w; and post_command %s", failure, res.PostCommand.Outcome())
			}
			return res, fmt.Errorf("restore written, but post_command %s", res.PostCommand.Outcome())
		}
	}
	return res, failure
}

// StateAt resolves the instant of a restore or an export of an account
// (the zero time is "last", see instant) and returns the account's state
// then. An instant the account's history does not cover whole is an error
// wrapping ErrPurged (trimmed by the retention purge) or ErrNoState
// (before its first backup, after its deletion), saying which instants
// would do.
func StateAt(r *repo.Repo, account string, at time.Time) (*State, error) {
	at, err := instant(r, Options{Account: account, At: at})
	if err != nil {
		return nil, err
	}
	state, err := r.Catalog.StateAt(account, at.UnixNano())
	if err != nil {
		return nil, err
	}
	// Checked first: the purge may have removed the very versions that
	// would tell whether the account existed then.
	if err := state.Account.CheckWhole(at.UnixNano()); err != nil {
		return nil, err
	}
	if state.Version == nil {
		return nil, describeMissing(state, at)
	}
	return state, nil
}

// instant resolves the instant to restore. "last" (the zero time) is now
// for a live account and, for a deleted one, the moment before its
// deletion began (catalog.RemovalStart): a mailbox removed with `rm -rf`
// may reach the backup in several steps, the first ones recording its
// messages as expunged folder by folder, and restoring it brings back
// what it held before all of them.
func instant(r *repo.Repo, opts Options) (time.Time, error) {
	if !opts.At.IsZero() {
		return opts.At, nil
	}
	a, err := r.Catalog.AccountByName(opts.Account)
	if err != nil {
		return time.Time{}, err
	}
	if a.DeletedAt == 0 {
		return time.Now(), nil
	}
	began, err := r.Catalog.RemovalStart(a.ID, a.DeletedAt)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, began-1), nil
}

// describeMissing explains why an account has no state at an instant.
func describeMissing(st *State, at time.Time) error {
	a := st.Account
	first := time.Unix(0, a.FirstSeen).UTC().Format(time.RFC3339)
	if at.UnixNano() < a.FirstSeen {
		return fmt.Errorf("account %s: %w: its first backup is from %s", a.Name, ErrNoState, first)
	}
	if a.DeletedAt != 0 && at.UnixNano() >= a.DeletedAt {
		return fmt.Errorf("account %s: %w: it was deleted at %s; restore an earlier instant",
			a.Name, ErrNoState, time.Unix(0, a.DeletedAt).UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("account %s: %w %s", a.Name, ErrNoState, at.UTC().Format(time.RFC3339))
}

// State is the catalog's view of an account at an instant.
type State = catalog.State

// plan is what to write, folder by folder.
type plan struct {
	mode    string
	state   *State
	folders []folderPlan
}

type folderPlan struct {
	version *catalog.FolderVersion
	// exists is true when the target already has this folder.
	exists  bool
	items   []*catalog.Item
	skipped int
	// present lists the target's messages in this folder by base name, to
	// recognise a message already there.
	present map[string]*store.Message
}

func (p *plan) messages() int {
	n := 0
	for _, f := range p.folders {
		n += len(f.items)
	}
	return n
}

// newPlan decides, for each folder of the backed-up state, which messages
// to write into the target as it is now.
func newPlan(st *State, existing *store.Snapshot) *plan {
	p := &plan{mode: "full", state: st}
	have := map[string]*store.Folder{}
	if existing != nil {
		for i := range existing.Folders {
			f := &existing.Folders[i]
			have[f.Name] = f
			if len(f.Messages) > 0 {
				p.mode = "merge"
			}
		}
	}
	byFolder := map[string][]*catalog.Item{}
	for i := range st.Items {
		it := &st.Items[i]
		byFolder[it.Folder] = append(byFolder[it.Folder], it)
	}
	for i := range st.Folders {
		fv := &st.Folders[i]
		fp := folderPlan{version: fv, items: byFolder[fv.Name]}
		if f, ok := have[fv.Name]; ok {
			fp.exists = true
			fp.present = make(map[string]*store.Message, len(f.Messages))
			for j := range f.Messages {
				fp.present[f.Messages[j].Base] = &f.Messages[j]
			}
		}
		delete(byFolder, fv.Name)
		p.folders = append(p.folders, fp)
	}
	// Items whose folder version is missing (should not happen) still come
	// back, into a folder of that name.
	var orphans []string
	for name := range byFolder {
		orphans = append(orphans, name)
	}
	sort.Strings(orphans)
	for _, name := range orphans {
		fv := &catalog.FolderVersion{Name: name, Dir: guessDir(name)}
		p.folders = append(p.folders, folderPlan{version: fv, items: byFolder[name]})
	}
	sort.SliceStable(p.folders, func(i, j int) bool {
		return folderDepth(p.folders[i].version.Name) < folderDepth(p.folders[j].version.Name)
	})
	return p
}

func folderDepth(name string) int {
	if name == "INBOX" {
		return 0
	}
	return 1 + strings.Count(name, "/")
}

// guessDir is the Maildir++ directory of a folder name, for the rare item
// whose folder record is missing.
func guessDir(name string) string {
	if name == "INBOX" {
		return ""
	}
	return "." + strings.ReplaceAll(name, "/", ".")
}

func fileMode(m uint32) fs.FileMode { return fs.FileMode(m) }
