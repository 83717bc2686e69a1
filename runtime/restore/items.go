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

// ItemOptions say which messages restore item brings back.
type ItemOptions struct {
	// Account is the account the items belong to in the backup.
	Account string
	// IDs are catalog item ids (items.id), as backup search gives them.
	IDs []int64
	// To is the account to write into; "" means Account.
	To string
	// Folder is the folder to write into; "" means each item's own.
	Folder      string
	DryRun      bool
	PostCommand []string
	// PostCommandUser runs PostCommand (see CommandUser).
	PostCommandUser string
	Progress        *Progress
}

// RestoreItems prepares and runs a restore item.
func RestoreItems(ctx context.Context, r *repo.Repo, st store.Writable, opts ItemOptions) (*LiveResult, error) {
	p, err := PrepareItems(r, st, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// PrepareItems prepares bringing single message versions back, with their flags,
// keywords and received date, into their folder (recreated if it is gone)
// or into opts.Folder, unless the same content is there already. Every id
// is checked before anything is written: an unknown id, or one of another
// account, is an error.
func PrepareItems(r *repo.Repo, st store.Writable, opts ItemOptions) (*Prepared, error) {
	if opts.To == "" {
		opts.To = opts.Account
	}
	if len(opts.IDs) == 0 {
		return nil, errors.New("restore item needs at least one item id")
	}
	if opts.Folder != "" {
		if _, err := folderDir(st, opts.Folder); err != nil {
			return nil, err
		}
	}
	if _, err := st.Account(opts.To); err != nil {
		return nil, err
	}
	a, err := r.Catalog.AccountByName(opts.Account)
	if err != nil {
		return nil, err
	}
	var bad []string
	var puts []put
	seen := map[int64]bool{}
	for _, id := range opts.IDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		it, err := r.Catalog.ItemByID(id)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			bad = append(bad, fmt.Sprintf("%d (no such item)", id))
			continue
		case err != nil:
			return nil, err
		case it.AccountID != a.ID:
			owner := "another account"
			if o, err := r.Catalog.AccountByID(it.AccountID); err == nil {
				owner = o.Name
			}
			bad = append(bad, fmt.Sprintf("%d (an item of %s)", id, owner))
			continue
		}
		puts = append(puts, put{item: &it, home: it.Folder, flags: it.Flags, keywords: it.Keywords})
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("account %s: %w: item %s; nothing restored", opts.Account, catalog.ErrNotFound, strings.Join(bad, ", "))
	}
	dest := func(p put) string {
		if opts.Folder != "" {
			return opts.Folder
		}
		return p.item.Folder
	}
	source := func(p put) *catalog.FolderVersion {
		if opts.Folder != "" {
			return nil
		}
		fv, err := r.Catalog.FolderVersionAt(a.ID, p.item.Folder, lastInstant(p.item))
		if err != nil {
			return nil
		}
		return &fv
	}
	res := &LiveResult{Strategy: "item", Account: opts.Account, To: opts.To, DryRun: opts.DryRun}
	job := &liveJob{r: r, st: st, to: opts.To, dryRun: opts.DryRun, postCommand: opts.PostCommand, postCommandUser: opts.PostCommandUser, progress: opts.Progress,
		listItems: true, folders: groupByFolder(puts, dest, source)}
	return prepared(job, res), nil
}

// lastInstant is the last instant at which an item version was current.
func lastInstant(it *catalog.Item) int64 {
	if it.ValidTo != 0 {
		return it.ValidTo - 1
	}
	return time.Now().UnixNano()
}
