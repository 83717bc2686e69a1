package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
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
	Progress    *Progress
}

// IntoFolder prepares and runs a restore account -into-folder.
func IntoFolder(ctx context.Context, r *repo.Repo, st LiveStore, opts IntoFolderOptions) (*LiveResult, error) {
	p, err := PrepareIntoFolder(r, st, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// PrepareIntoFolder prepares writing an account's whole folder tree as it was at an
// instant under a new folder of the live account, with flags, keywords
// and received dates (the messages get new UIDs there), leaving its live
// folders untouched. The folders it creates are subscribed. The folder
// must not exist yet, nor any folder below it.
func PrepareIntoFolder(r *repo.Repo, st LiveStore, opts IntoFolderOptions) (*Prepared, error) {
	name := strings.TrimRight(opts.Folder, "/")
	if name == "" {
		return nil, errors.New("restore -into-folder needs a folder name")
	}
	if strings.EqualFold(name, maildir.Inbox) {
		return nil, fmt.Errorf("folder %q: restore into a new folder, not into INBOX itself", opts.Folder)
	}
	if err := checkFolderName(st.Layout(), name); err != nil {
		return nil, err
	}
	target, err := st.Account(opts.Account)
	if err != nil {
		return nil, err
	}
	at, err := instant(r, Options{Account: opts.Account, At: opts.At})
	if err != nil {
		return nil, err
	}
	state, err := accountState(r, opts.Account, at)
	if err != nil {
		return nil, err
	}
	snap, err := st.Scan(target)
	if err != nil && !errors.Is(err, maildir.ErrNoAccount) {
		return nil, fmt.Errorf("reading the account %s: %w", opts.Account, err)
	}
	if snap != nil {
		for _, f := range snap.Folders {
			if f.Name == name || strings.HasPrefix(f.Name, name+"/") {
				return nil, fmt.Errorf("account %s: folder %q exists already; restore into a folder that does not", opts.Account, f.Name)
			}
		}
	}
	dest := func(folder string) string { return name + "/" + folder }
	var folders []liveFolder
	idx := map[string]int{}
	for i := range state.Folders {
		fv := &state.Folders[i]
		d := dest(fv.Name)
		if err := checkFolderName(st.Layout(), d); err != nil {
			return nil, err
		}
		idx[fv.Name] = len(folders)
		folders = append(folders, liveFolder{name: d, source: &catalog.FolderVersion{Name: d, Owner: fv.Owner}})
	}
	for i := range state.Items {
		it := &state.Items[i]
		j, ok := idx[it.Folder]
		if !ok {
			j = len(folders)
			idx[it.Folder] = j
			folders = append(folders, liveFolder{name: dest(it.Folder)})
		}
		folders[j].puts = append(folders[j].puts, put{item: it, home: it.Folder, flags: it.Flags, keywords: it.Keywords})
	}
	// The source folders keep their directory owner but get the directory
	// the store's layout gives their new name.
	for i := range folders {
		if s := folders[i].source; s != nil {
			dir, err := maildir.FolderDir(st.Layout(), s.Name)
			if err != nil {
				return nil, err
			}
			s.Dir = dir
		}
	}
	atUTC := at.UTC()
	res := &LiveResult{Strategy: "into-folder", Account: opts.Account, To: opts.Account, At: &atUTC, IntoFolder: name, DryRun: opts.DryRun}
	job := &liveJob{r: r, st: st, to: opts.Account, dryRun: opts.DryRun, postCommand: opts.PostCommand, progress: opts.Progress,
		keepCopies: true, folders: folders}
	return prepared(job, res), nil
}
