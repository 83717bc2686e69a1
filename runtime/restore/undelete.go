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

// UndeleteOptions say which deletions restore undelete brings back.
type UndeleteOptions struct {
	Account string
	// From and Until bound the instants of the deletions: From <= t <= Until.
	From, Until time.Time
	// Folder is the folder to write into; "" means where each message
	// was deleted from (before Trash).
	Folder      string
	DryRun      bool
	PostCommand []string
	// PostCommandUser runs PostCommand (see CommandUser).
	PostCommandUser string
	Progress        *Progress
	// Now is the clock (time.Now when nil): the restore's date in the
	// tag, and the end of the history.
	Now func() time.Time
}

// UndeleteFallbackKeyword is the tag used in a folder whose keyword table
// has no room for the dated one.
const UndeleteFallbackKeyword = "undeleted"

// moveWindow is how far apart the end of a message's version and the
// start of another version with its content (or its place) may be for the
// second to count as its successor (a flag change, a move) or its
// predecessor: a move is a new file and an unlink, which the realtime
// scanner may record in different batches.
const moveWindow = 2 * time.Minute

// trashFolders are the folder names treated as the trash, case-insensitive:
// a message expunged there goes back to the folder it was in before.
var trashFolders = []string{"Trash", "Deleted Items", "Deleted Messages", "INBOX/Trash"}

func isTrash(folder string) bool {
	for _, t := range trashFolders {
		if strings.EqualFold(folder, t) {
			return true
		}
	}
	return false
}

// Undelete prepares and runs a restore undelete.
func Undelete(ctx context.Context, r *repo.Repo, st store.Writable, opts UndeleteOptions) (*LiveResult, error) {
	p, err := PrepareUndelete(r, st, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// PrepareUndelete prepares bringing back every message expunged between opts.From and
// opts.Until: versions that ended then with no successor (a flag change or
// a move is not a deletion). Each goes back to the folder it was deleted
// from, or, when it was expunged in the trash, to the folder it was in
// before it was moved there; without the \Deleted flag (T) and tagged
// with the keyword undelete_YYYY-MM-DD (the restore's date, in the local
// zone). Messages still in their folder are left alone.
func PrepareUndelete(r *repo.Repo, st store.Writable, opts UndeleteOptions) (*Prepared, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.Folder != "" {
		if _, err := folderDir(st, opts.Folder); err != nil {
			return nil, err
		}
	}
	if _, err := st.Account(opts.Account); err != nil {
		return nil, err
	}
	a, err := r.Catalog.AccountByName(opts.Account)
	if err != nil {
		return nil, err
	}
	if err := checkRange(a, opts.From, opts.Until, now()); err != nil {
		return nil, err
	}
	closed, err := r.Catalog.ClosedItems(a.ID, opts.From.UnixNano(), opts.Until.UnixNano())
	if err != nil {
		return nil, err
	}
	var puts []put
	for i := range closed {
		it := &closed[i]
		rel, err := r.Catalog.Related(a.ID, it)
		if err != nil {
			return nil, err
		}
		if successor(it, rel) != nil {
			continue
		}
		home := it.Folder
		if isTrash(it.Folder) {
			home = beforeTrash(it, rel)
		}
		puts = append(puts, put{item: it, home: home, flags: strings.ReplaceAll(it.Flags, "T", ""), keywords: it.Keywords})
	}
	dest := func(p put) string {
		if opts.Folder != "" {
			return opts.Folder
		}
		return p.home
	}
	source := func(p put) *catalog.FolderVersion {
		if opts.Folder != "" {
			return nil
		}
		fv, err := r.Catalog.FolderVersionAt(a.ID, p.home, p.item.ValidTo)
		if err != nil {
			return nil
		}
		return &fv
	}
	from, until := opts.From.UTC(), opts.Until.UTC()
	tag := "undelete_" + now().Local().Format(time.DateOnly)
	res := &LiveResult{Strategy: "undelete", Account: opts.Account, To: opts.Account, From: &from, Until: &until, DryRun: opts.DryRun}
	job := &liveJob{r: r, st: st, to: opts.Account, dryRun: opts.DryRun, postCommand: opts.PostCommand, postCommandUser: opts.PostCommandUser, progress: opts.Progress,
		tag: tag, fallback: UndeleteFallbackKeyword, listItems: true, folders: groupByFolder(puts, dest, source)}
	return prepared(job, res), nil
}

// checkRange checks an undelete range against an account's history.
func checkRange(a catalog.Account, from, until, now time.Time) error {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case from.IsZero() || until.IsZero():
		return errors.New("restore undelete needs both -from and -to")
	case !until.After(from):
		return fmt.Errorf("account %s: the end of the range (%s) is not after its start (%s)", a.Name, f(until), f(from))
	case from.UnixNano() < a.FirstSeen:
		return fmt.Errorf("account %s: %w: -from %s is before its first backup (%s)", a.Name, ErrNoState, f(from), f(time.Unix(0, a.FirstSeen)))
	case from.UnixNano() < a.ExactFrom:
		return fmt.Errorf("account %s: %w: the retention purge removed its deletions before %s; start the range there or later",
			a.Name, ErrPurged, f(time.Unix(0, a.ExactFrom)))
	case until.After(now.Add(time.Minute)):
		return fmt.Errorf("account %s: -to %s is in the future", a.Name, f(until))
	}
	return nil
}

// near reports whether two instants are within moveWindow.
func near(a, b int64) bool {
	d := a - b
	return d >= -int64(moveWindow) && d <= int64(moveWindow)
}

// successor returns the version that took over from an ended one (the
// same message renamed, or its content in a new file: a move), or nil
// when the message was deleted. A successor starts near the end of the
// ended version, not before it started (a copy made long before is
// another message), and outlives it; it may start at the very instant the
// ended version did: the realtime scanner can record a move's copy in the
// same batch as the \Deleted flag set on the original, and its expunge
// in a later one.
func successor(it *catalog.Item, rel []catalog.Item) *catalog.Item {
	for i := range rel {
		w := &rel[i]
		if w.ID != it.ID && w.ValidFrom >= it.ValidFrom && near(w.ValidFrom, it.ValidTo) && (w.ValidTo == 0 || w.ValidTo > it.ValidTo) {
			return w
		}
	}
	return nil
}

// beforeTrash follows a message expunged in the trash back through the
// versions it had there to the folder it was moved from; the trash itself
// when it only ever was there.
func beforeTrash(it *catalog.Item, rel []catalog.Item) string {
	cur := it
	for step := 0; step < len(rel); step++ {
		var pred *catalog.Item
		for i := range rel {
			p := &rel[i]
			if p.ID != cur.ID && p.ValidTo != 0 && p.ValidFrom < cur.ValidFrom && near(p.ValidTo, cur.ValidFrom) &&
				(pred == nil || p.ValidTo > pred.ValidTo) {
				pred = p
			}
		}
		if pred == nil {
			break
		}
		if !isTrash(pred.Folder) {
			return pred.Folder
		}
		cur = pred
	}
	return it.Folder
}
