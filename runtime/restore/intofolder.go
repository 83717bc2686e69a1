package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// IntoFolderOptions say what restore account -into-folder writes.
type IntoFolderOptions struct {
	Account string
	// At is the instant to restore; the zero time means the last state
	// (as restore account resolves it).
	At time.Time
	// Folder is the live account's folder the tree goes under, e.g.
	// "Restored/2026-12-01 10:00"; INBOX becomes Folder/INBOX.
	Folder      string
	DryRun      bool
	PostCommand []string
	// PostCommandUser runs PostCommand (see CommandUser).
	PostCommandUser string
	Progress        *Progress
}

// IntoFolder prepares and runs a restore account -into-folder.
func IntoFolder(ctx context.Context, r *repo.Repo, st store.Writable, opts IntoFolderOptions) (*LiveResult, error) {
	p, err := PrepareIntoFolder(r, st, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// PrepareIntoFolder prepares writing an account's whole folder tree as it
// was at an instant under a new folder of the live account, with flags,
// keywords and received dates (the messages get new UIDs there), leaving
// its live folders untouched. The folders it creates are subscribed. The
// folder must not exist yet, nor any folder below it.
func PrepareIntoFolder(r *repo.Repo, st store.Writable, opts IntoFolderOptions) (*Prepared, error) {
	name := strings.TrimRight(opts.Folder, "/")
	if name == "" {
		return nil, errors.New("restore -into-folder needs a folder name")
	}
	if strings.EqualFold(name, store.Inbox) {
		return nil, fmt.Errorf("folder %q: restore into a new folder, not into INBOX itself", opts.Folder)
	}
	if _, err := folderDir(st, name); err != nil {
		return nil, err
	}
	target, err := st.Account(opts.Account)
	if err != nil {
		return nil, err
	}
	state, err := StateAt(r, opts.Account, opts.At)
	if err != nil {
		return nil, err
	}
	at := time.Unix(0, state.At)
	snap, err := st.Snapshot(target, store.SnapshotOptions{})
	if err != nil && !errors.Is(err, store.ErrNoAccount) {
		return nil, fmt.Errorf("reading the account %s: %w", opts.Account, err)
	}
	if snap != nil {
		for _, f := range snap.Folders {
			if f.Name == name || strings.HasPrefix(f.Name, name+"/") {
				return nil, fmt.Errorf("account %s: folder %q exists already; restore into a folder that does not", opts.Account, f.Name)
			}
		}
	}
	// Each folder goes to NAME/<its name>, in the directory the store's
	// layout gives that name, with its backed-up owner and mode.
	var folders []liveFolder
	idx := map[string]int{}
	add := func(folder string, owner catalog.Owner) (int, error) {
		d := name + "/" + folder
		dir, err := folderDir(st, d)
		if err != nil {
			return 0, err
		}
		idx[folder] = len(folders)
		folders = append(folders, liveFolder{name: d, source: &catalog.FolderVersion{Name: d, Dir: dir, Owner: owner}})
		return idx[folder], nil
	}
	for _, fv := range state.Folders {
		if _, err := add(fv.Name, fv.Owner); err != nil {
			return nil, err
		}
	}
	for i := range state.Items {
		it := &state.Items[i]
		j, ok := idx[it.Folder]
		if !ok {
			// An item whose folder record is missing (should not happen)
			// still comes back, with the account's owner.
			if j, err = add(it.Folder, state.Version.Owner); err != nil {
				return nil, err
			}
		}
		folders[j].puts = append(folders[j].puts, put{item: it, home: it.Folder, flags: it.Flags, keywords: it.Keywords})
	}
	atUTC := at.UTC()
	res := &LiveResult{Strategy: "into-folder", Account: opts.Account, To: opts.Account, At: &atUTC, IntoFolder: name, DryRun: opts.DryRun}
	job := &liveJob{r: r, st: st, to: opts.Account, dryRun: opts.DryRun, postCommand: opts.PostCommand, postCommandUser: opts.PostCommandUser, progress: opts.Progress,
		keepCopies: true, folders: folders}
	return prepared(job, res), nil
}
