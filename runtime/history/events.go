package history

import (
	"cmp"
	"slices"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// Event kinds, as they appear in Event.Kind (docs/API.md lists them).
const (
	AccountCreated = "account_created"
	AccountDeleted = "account_deleted"
	FolderCreated  = "folder_created"
	FolderRenamed  = "folder_renamed"
	FolderDeleted  = "folder_deleted"
	BulkDeletion   = "bulk_deletion"
	Restored       = "restore"
)

// Bulk deletions: at least BulkMessages messages gone within BulkWindow
// (outside the removal of a whole folder or account, which are events of
// their own).
const (
	BulkMessages = 20
	BulkWindow   = time.Minute
)

// Event is one significant moment of an account's history.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Folder is the folder concerned (the new name of a renamed one);
	// FolderB64 its exact bytes when they are not UTF-8.
	Folder    string `json:"folder,omitempty"`
	FolderB64 string `json:"folder_b64,omitempty"`
	// From is a renamed folder's old name.
	From    string `json:"from,omitempty"`
	FromB64 string `json:"from_b64,omitempty"`
	// Began is when the removal of a deleted account or folder began
	// (see catalog.RemovalStart): restore an instant before it to get
	// back what was there. Until is the last removal of a bulk deletion.
	Began *time.Time `json:"began,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// Messages counts the messages concerned: held by a created account,
	// held before the removal of a deleted account or folder, gone in a
	// bulk deletion, or written by a restore. Folders counts the folders
	// of a created or deleted account.
	Messages int `json:"messages"`
	Folders  int `json:"folders,omitempty"`
	// PerFolder splits a bulk deletion by folder.
	PerFolder []FolderCount `json:"per_folder,omitempty"`
	// Restore describes a restore made into the account.
	Restore *RestoreEvent `json:"restore,omitempty"`
}

// FolderCount is a number of messages of one folder.
type FolderCount struct {
	Folder    string `json:"folder"`
	FolderB64 string `json:"folder_b64,omitempty"`
	Messages  int    `json:"messages"`
}

// RestoreEvent is a restore made into the account.
type RestoreEvent struct {
	// Kind is "account", "item", "undelete" or "into-folder".
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// SourceB64 is Source's exact bytes when they are not UTF-8.
	SourceB64 string     `json:"source_b64,omitempty"`
	Instant   *time.Time `json:"instant,omitempty"`
	Finished  time.Time  `json:"finished"`
	Outcome   string     `json:"outcome"`
	Operation string     `json:"operation"`
}

// Events returns an account's significant events at or after since,
// oldest first.
func Events(c *catalog.Catalog, account string, since time.Time) ([]Event, error) {
	a, err := c.AccountByName(account)
	if err != nil {
		return nil, err
	}
	h := &builder{c: c, a: a}
	if err := h.accountEvents(); err != nil {
		return nil, err
	}
	if err := h.folderEvents(); err != nil {
		return nil, err
	}
	if err := h.bulkDeletions(since.UnixNano()); err != nil {
		return nil, err
	}
	if err := h.restores(account, since.UnixNano()); err != nil {
		return nil, err
	}
	out := h.events[:0]
	for _, e := range h.events {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y Event) int { return x.At.Compare(y.At) })
	return out, nil
}

// span is a removal run: from when it began to the step that completed it.
type span struct{ began, end int64 }

func (s span) covers(t int64) bool { return t >= s.began && t <= s.end }

// builder collects the events of one account.
type builder struct {
	c      *catalog.Catalog
	a      catalog.Account
	events []Event
	// created are the instants the account was created (or recreated);
	// deletions its removal runs.
	created   map[int64]bool
	deletions []span
	// folderRemovals are the removal runs of deleted folders, by name.
	folderRemovals map[string][]span
}

func ts(t int64) time.Time { return time.Unix(0, t).UTC() }

func tp(t int64) *time.Time { v := ts(t); return &v }

func (h *builder) add(e Event) {
	e.FolderB64, e.FromB64 = names.B64(e.Folder), names.B64(e.From)
	h.events = append(h.events, e)
}

// inDeletion reports whether an instant lies in a removal run of the
// whole account.
func (h *builder) inDeletion(t int64) bool {
	return slices.ContainsFunc(h.deletions, func(s span) bool { return s.covers(t) })
}

// accountEvents finds the account's creations (a version with no
// predecessor) and deletions (a version with no successor).
func (h *builder) accountEvents() error {
	vs, err := h.c.AccountVersions(h.a.ID)
	if err != nil {
		return err
	}
	starts, ends := map[int64]bool{}, map[int64]bool{}
	for _, v := range vs {
		starts[v.ValidFrom] = true
		if v.ValidTo != 0 {
			ends[v.ValidTo] = true
		}
	}
	h.created = map[int64]bool{}
	for _, v := range vs {
		if !ends[v.ValidFrom] {
			h.created[v.ValidFrom] = true
			msgs, folders, err := h.contents(v.ValidFrom)
			if err != nil {
				return err
			}
			h.add(Event{At: ts(v.ValidFrom), Kind: AccountCreated, Messages: msgs, Folders: folders})
		}
		if v.ValidTo != 0 && !starts[v.ValidTo] {
			began, err := h.c.RemovalStart(h.a.ID, v.ValidTo)
			if err != nil {
				return err
			}
			h.deletions = append(h.deletions, span{began, v.ValidTo})
			msgs, folders, err := h.contents(began - 1)
			if err != nil {
				return err
			}
			h.add(Event{At: ts(v.ValidTo), Kind: AccountDeleted, Began: tp(began), Messages: msgs, Folders: folders})
		}
	}
	return nil
}

// contents counts the account's messages and folders at an instant.
func (h *builder) contents(at int64) (messages, folders int, err error) {
	if messages, err = h.c.CountItemsAt(h.a.ID, nil, at); err != nil {
		return 0, 0, err
	}
	folders, err = h.c.CountFoldersAt(h.a.ID, at)
	return messages, folders, err
}

// folderEvents finds folders created, renamed and deleted: at each
// instant, the names whose versions end without one of the same name
// starting, and the names that start without one ending. A pair of them
// is a rename when the folder keeps its GUID or its message files.
func (h *builder) folderEvents() error {
	fvs, err := h.c.FolderVersions(h.a.ID)
	if err != nil {
		return err
	}
	starts, ends := map[int64][]*catalog.FolderVersion{}, map[int64][]*catalog.FolderVersion{}
	var instants []int64
	for i := range fvs {
		f := &fvs[i]
		instants = append(instants, f.ValidFrom)
		starts[f.ValidFrom] = append(starts[f.ValidFrom], f)
		if f.ValidTo != 0 {
			instants = append(instants, f.ValidTo)
			ends[f.ValidTo] = append(ends[f.ValidTo], f)
		}
	}
	slices.Sort(instants)
	h.folderRemovals = map[string][]span{}
	for _, t := range slices.Compact(instants) {
		if h.created[t] || h.inDeletion(t) {
			continue // part of the account's creation or removal
		}
		gone, came := unmatched(ends[t], starts[t]), unmatched(starts[t], ends[t])
		renames, err := h.pairRenames(t, gone, came)
		if err != nil {
			return err
		}
		for _, r := range renames {
			h.add(Event{At: ts(t), Kind: FolderRenamed, Folder: r.to.Name, From: r.from.Name})
		}
		for _, f := range gone {
			if f == nil {
				continue
			}
			began, err := h.c.FolderRemovalStart(h.a.ID, f.Name, t)
			if err != nil {
				return err
			}
			h.folderRemovals[f.Name] = append(h.folderRemovals[f.Name], span{began, t})
			n, err := h.c.CountItemsAt(h.a.ID, &f.Name, began-1)
			if err != nil {
				return err
			}
			h.add(Event{At: ts(t), Kind: FolderDeleted, Folder: f.Name, Began: tp(began), Messages: n})
		}
		for _, f := range came {
			if f != nil {
				h.add(Event{At: ts(t), Kind: FolderCreated, Folder: f.Name})
			}
		}
	}
	return nil
}

// unmatched returns the versions of list whose folder name is not in
// other.
func unmatched(list, other []*catalog.FolderVersion) []*catalog.FolderVersion {
	var out []*catalog.FolderVersion
	for _, f := range list {
		if !slices.ContainsFunc(other, func(o *catalog.FolderVersion) bool { return o.Name == f.Name }) {
			out = append(out, f)
		}
	}
	return out
}

type rename struct{ from, to *catalog.FolderVersion }

// pairRenames pairs folders gone at t with folders that appeared at t:
// the same GUID, or else the most message files carried over. Paired
// entries are set to nil in gone and came.
func (h *builder) pairRenames(t int64, gone, came []*catalog.FolderVersion) ([]rename, error) {
	var out []rename
	for i, g := range gone {
		best, bestN := -1, 0
		for j, n := range came {
			if n == nil {
				continue
			}
			if g.GUID != "" && g.GUID == n.GUID {
				best, bestN = j, 1<<30
				break
			}
			carried, err := h.c.CarriedOver(h.a.ID, g.Name, n.Name, t)
			if err != nil {
				return nil, err
			}
			if carried > bestN {
				best, bestN = j, carried
			}
		}
		if best >= 0 {
			out = append(out, rename{g, came[best]})
			gone[i], came[best] = nil, nil
		}
	}
	return out, nil
}

// bulkDeletions groups the message removals that are not part of a
// folder's or the account's removal into bursts of at most BulkWindow
// from their first removal, and reports those of BulkMessages or more.
func (h *builder) bulkDeletions(since int64) error {
	rs, err := h.c.Removals(h.a.ID, since)
	if err != nil {
		return err
	}
	var burst []catalog.Removal
	flush := func() {
		n := 0
		per := map[string]int{}
		for _, r := range burst {
			n += r.Messages
			per[r.Folder] += r.Messages
		}
		if n >= BulkMessages {
			e := Event{At: ts(burst[0].At), Kind: BulkDeletion, Until: tp(burst[len(burst)-1].At), Messages: n}
			for name, count := range per {
				e.PerFolder = append(e.PerFolder, FolderCount{Folder: name, FolderB64: names.B64(name), Messages: count})
			}
			slices.SortFunc(e.PerFolder, func(x, y FolderCount) int { return cmp.Compare(x.Folder, y.Folder) })
			h.add(e)
		}
		burst = burst[:0]
	}
	for _, r := range rs {
		if h.inDeletion(r.At) || slices.ContainsFunc(h.folderRemovals[r.Folder], func(s span) bool { return s.covers(r.At) }) {
			continue
		}
		if len(burst) > 0 && r.At-burst[0].At > int64(BulkWindow) {
			flush()
		}
		burst = append(burst, r)
	}
	if len(burst) > 0 {
		flush()
	}
	return nil
}

// restores adds the restores made into the account.
func (h *builder) restores(account string, since int64) error {
	rs, err := h.c.Restores(account, since)
	if err != nil {
		return err
	}
	for _, r := range rs {
		ev := &RestoreEvent{Kind: r.Kind, Source: r.Source, SourceB64: names.B64(r.Source), Finished: ts(r.Finished), Outcome: r.Outcome, Operation: r.Operation}
		if r.Instant != 0 {
			ev.Instant = tp(r.Instant)
		}
		h.add(Event{At: ts(r.Started), Kind: Restored, Messages: r.Messages, Restore: ev})
	}
	return nil
}
