package scan

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// itemKey identifies a message within an account: its folder and Maildir
// base name.
type itemKey struct{ folder, base string }

// fileKey identifies a message file's content without reading it: a move
// that keeps the inode (rename or hardlink) keeps size and mtime too.
type fileKey struct {
	ino   uint64
	size  int64
	mtime int64
}

// racyMargin is how long after a folder's last change its stamp becomes
// trustworthy: a change within the same timestamp tick as a listing leaves
// the stamp as it was, so a folder is only skipped when its latest change
// is older than the listing that recorded its stamp by this margin (as
// git does with its index). Two seconds covers the coarsest filesystem
// timestamps.
const racyMargin = int64(2 * time.Second)

// work is one account on its way through a scan. Each account goes
// through three steps, all under the batch's writer lock, and the run
// keeps several accounts at different steps so that the disk and the
// processors stay busy:
//
//   - start reads the account's state from the catalog and lists the mail
//     store in the background;
//   - plan diffs the listing against the catalog, settles every message
//     it can without reading it and hands the others to the pipeline;
//   - record waits for those reads and writes the account's changes in one
//     savepoint, so that they are kept or dropped as a whole.
//
// Accounts touch only their own catalog rows (blobs aside, see
// blobIndex), and no other writer runs while accounts are under way, so
// the state read by start stays valid until record.
type work struct {
	a store.Account
	t int64 // the time its versions start, taken before its listing

	// From start.
	folders []catalog.FolderVersion
	items   []catalog.Item // those of the folders listed
	// skippedItems counts the current items of the folders not listed.
	skippedItems int64
	listedAt     int64         // wall clock, compared with file mtimes
	listed       chan struct{} // closed when the fields above and below are set
	snap         *store.Snapshot
	listErr      error // listing the store
	catErr       error // reading the catalog: stops the run

	// From plan: what record writes.
	hidden  *hidden         // what the listing could not see
	same    []change        // known base name, same file: a new version if flags or name changed
	moved   []change        // new base name whose file is a known item's: its blob, no read
	gone    []*catalog.Item // items no longer in the store
	jobs    []readJob
	counts  Result // Items, Unchanged, FoldersSkipped
	results []readResult
	reads   sync.WaitGroup
	// readsDone is closed once every read is done (or dropped).
	readsDone chan struct{}

	// skips are the messages the reads skipped (record appends them).
	skips []store.Skip

	// err is the account's listing error, set by plan.
	err error
	// dropped is set when the run gives the account up to hand the
	// repository over (it will start again): its reads stop.
	dropped atomic.Bool
}

// change is a message settled without reading.
type change struct {
	folder *store.Folder
	msg    *store.Message
	old    *catalog.Item
}

// size is the number of catalog items and listed messages the account
// holds, or 0 while its listing runs.
func (w *work) size() int {
	select {
	case <-w.listed:
	default:
		return 0
	}
	n := len(w.items)
	if w.snap != nil {
		for i := range w.snap.Folders {
			n += len(w.snap.Folders[i].Messages)
		}
	}
	return n
}

// start reads what the catalog knows of an account and lists it, in the
// background, skipping the folders whose stamp shows they did not change
// since they were last listed.
func (s *scanner) start(a store.Account) *work {
	w := &work{a: a, t: s.now(), listed: make(chan struct{})}
	go func() {
		defer close(w.listed)
		cur, err := s.r.Catalog.Current(a.Name)
		if err != nil {
			w.catErr = err
			return
		}
		w.folders = cur.Folders
		opts := store.SnapshotOptions{Context: s.ctx}
		if cur.Known && !s.opts.Deep {
			known := make(map[string]bool, len(w.folders))
			for _, f := range w.folders {
				known[f.Dir] = true
			}
			opts.Reuse = func(dir string, st store.Stamp) bool {
				old, ok := cur.Stamps[dir]
				return ok && known[dir] && old.New == st.New && old.Cur == st.Cur && old.UIDList == st.UIDList &&
					old.Keywords == st.Keywords && st.Latest() < old.ListedAt-racyMargin
			}
		}
		w.listedAt = time.Now().UnixNano()
		w.snap, w.listErr = s.st.Snapshot(a, opts)
		if w.listErr == nil && cur.Known {
			w.catErr = w.loadItems(s.r.Catalog, cur.Account.ID)
		}
	}()
	return w
}

// loadItems reads the account's current items, except those of the
// folders the listing skipped, which are only counted: a scan that skips
// most folders reads few items. (A message copied by hardlink out of a
// skipped folder is then read again rather than recognised by its inode;
// a move changes both folders.)
func (w *work) loadItems(cat *catalog.Catalog, accountID int64) error {
	var skipped []string
	for i := range w.snap.Folders {
		if f := &w.snap.Folders[i]; f.Reused {
			skipped = append(skipped, f.Name)
		}
	}
	var err error
	if w.items, err = cat.OpenItems(accountID, skipped); err != nil || len(skipped) == 0 {
		return err
	}
	total, err := cat.CountOpenItems(accountID)
	w.skippedItems = total - int64(len(w.items))
	return err
}

// plan waits for the listing and diffs it against the catalog: unchanged
// and renamed messages keep their blob, moved ones reuse the blob of the
// item they were moved from, the rest are handed to the pipeline.
func (s *scanner) plan(w *work) error {
	<-w.listed
	if w.catErr != nil {
		return w.catErr
	}
	if w.listErr != nil {
		if errors.Is(w.listErr, store.ErrNoAccount) {
			w.err = w.listErr
		} else {
			w.err = &storeError{w.listErr}
		}
		s.pipe.submit(w) // nothing to read
		return nil
	}
	byKey := make(map[itemKey]*catalog.Item, len(w.items))
	byFile := make(map[fileKey]*catalog.Item, len(w.items))
	for i := range w.items {
		it := &w.items[i]
		byKey[itemKey{it.Folder, it.Base}] = it
		byFile[fileKey{it.Ino, it.Size, it.MTime}] = it
	}
	for _, f := range w.snap.Folders {
		if f.Reused {
			w.counts.FoldersSkipped++
		}
	}
	w.counts.Items += w.skippedItems
	w.counts.Unchanged += w.skippedItems
	for fi := range w.snap.Folders {
		f := &w.snap.Folders[fi]
		for mi := range f.Messages {
			m := &f.Messages[mi]
			w.counts.Items++
			k := itemKey{f.Name, m.Base}
			if old, ok := byKey[k]; ok {
				delete(byKey, k)
				if !s.opts.Deep && sameFile(old, m) {
					w.same = append(w.same, change{f, m, old})
				} else {
					w.jobs = append(w.jobs, readJob{folder: f, msg: m, old: old})
				}
				continue
			}
			// A move keeps the file (Maildir: its inode); a store without
			// file identities (Ino 0) has no moves to recognise.
			if cand, ok := byFile[fileKey{m.Ino, m.Size, m.MTime.UnixNano()}]; ok && m.Ino != 0 && !s.opts.Deep {
				w.moved = append(w.moved, change{f, m, cand})
				continue
			}
			w.jobs = append(w.jobs, readJob{folder: f, msg: m})
		}
	}
	w.hidden = hiddenBy(w.snap.Skipped)
	for _, gone := range byKey {
		if !w.hidden.item(gone) {
			w.gone = append(w.gone, gone)
		}
	}
	s.opts.Progress.ItemsSeen.Add(w.counts.Items)
	s.pipe.submit(w)
	return nil
}

// record waits for the account's reads and writes its changes inside a
// savepoint.
func (s *scanner) record(w *work) error {
	<-w.readsDone
	if err := s.pipe.failure(); err != nil {
		return err
	}
	if err := w.err; err != nil {
		return err
	}
	tx, err := s.txn()
	if err != nil {
		return err
	}
	if err := tx.Savepoint("account"); err != nil {
		return err
	}
	res := w.counts
	if err := s.write(tx, w, &res); err != nil {
		// On a full disk or an I/O error SQLite may roll the whole
		// transaction back, savepoint included: the rollback then fails,
		// and the write's error says why.
		if rerr := tx.RollbackTo("account"); rerr != nil {
			return fmt.Errorf("%w (the transaction was rolled back: %v)", err, rerr)
		}
		return err
	}
	if err := tx.Release("account"); err != nil {
		return err
	}
	s.uncommitted.add(&res)
	s.res.skip(w.a.Name, append(w.snap.Skipped, w.skips...), w.snap.Warnings)
	return nil
}

// hidden is what a listing of an account could not see: the folders
// whose directory, new/ or cur/ was skipped (and, for LAYOUT=fs, the
// folders below them), and the messages skipped one by one. Their items
// are never taken for deleted, nor their folders: a purge would otherwise
// drop mail that is still on disk.
type hidden struct {
	folders  map[string]bool  // names
	subtrees []string         // names, whose subfolders are hidden too
	touched  map[string]bool  // folder names with any skip
	files    map[itemKey]bool // skipped messages
}

func hiddenBy(skips []store.Skip) *hidden {
	h := &hidden{folders: map[string]bool{}, touched: map[string]bool{}, files: map[itemKey]bool{}}
	for _, k := range skips {
		h.touched[k.Folder] = true
		switch k.Scope {
		case store.ScopeFolder:
			h.folders[k.Folder] = true
			if k.Subtree {
				h.subtrees = append(h.subtrees, k.Folder)
			}
		case store.ScopeMessage:
			h.files[itemKey{k.Folder, k.ID}] = true
		}
	}
	return h
}

// folder reports whether a folder was hidden, in whole or in part.
func (h *hidden) folder(name string) bool {
	if h.folders[name] {
		return true
	}
	for _, f := range h.subtrees {
		if strings.HasPrefix(name, f+"/") {
			return true
		}
	}
	return false
}

// item reports whether an item not seen by the listing may still be on
// disk.
func (h *hidden) item(it *catalog.Item) bool {
	return h.files[itemKey{it.Folder, it.Base}] || h.folder(it.Folder)
}

// touches reports whether anything of a folder was skipped.
func (h *hidden) touches(name string) bool { return h.touched[name] || h.folder(name) }

// write records one account's changes.
func (s *scanner) write(tx *catalog.Tx, w *work, res *Result) error {
	t := w.t
	acct, err := tx.Account(w.a.Name, t)
	if err != nil {
		return err
	}
	id := acct.ID
	if err := s.recordAccountState(tx, id, w.snap, t); err != nil {
		return err
	}
	if err := s.recordFolders(tx, id, w.folders, w.snap, w.hidden, t); err != nil {
		return err
	}
	ch := itemChanges{t: t}
	for _, c := range w.same {
		ch.update(res, c.old, c.folder, c.msg, c.old.Blob)
	}
	for _, c := range w.moved {
		ch.insert(id, c.folder, c.msg, c.old.Blob)
		res.Moved++
	}
	if err := s.recordReads(tx, id, w, res, &ch); err != nil {
		return err
	}
	for _, k := range w.skips {
		w.hidden.touched[k.Folder] = true // no stamp: read again next time
	}
	for _, gone := range w.gone {
		ch.closes = append(ch.closes, gone.ID)
		res.Deleted++
	}
	s.pending += len(ch.inserts) + len(w.gone)
	if err := ch.write(tx); err != nil {
		return err
	}
	for _, f := range w.snap.Folders {
		if f.Reused || w.hidden.touches(f.Name) {
			continue // a folder with skips is listed again next time
		}
		st := catalog.Stamp{New: f.Stamp.New, Cur: f.Stamp.Cur, UIDList: f.Stamp.UIDList, Keywords: f.Stamp.Keywords, ListedAt: w.listedAt}
		if err := tx.SetStamp(id, f.Dir, st); err != nil {
			return err
		}
	}
	return nil
}

// recordReads records the messages that were read: their blobs stored by
// this run with their search headers, new items, and new versions of
// changed ones.
func (s *scanner) recordReads(tx *catalog.Tx, id int64, w *work, res *Result, ch *itemChanges) error {
	var hdrs []catalog.BlobHeaders
	for i := range w.results {
		if r := &w.results[i]; r.ref != nil {
			if err := tx.AddBlob(r.id, *r.ref); err != nil {
				return err
			}
			hdrs = append(hdrs, catalog.BlobHeaders{Blob: r.id, Headers: r.hdr})
		}
	}
	if err := tx.AddHeaders(hdrs); err != nil {
		return err
	}
	for i := range w.results {
		r, j := &w.results[i], &w.jobs[i]
		switch {
		case r.vanished:
			res.Vanished++
			// A known item renamed or deleted since the listing keeps
			// its old version: the next scan settles it.
		case r.skipped != nil:
			// Unreadable, or swapped for a FIFO or a link: its backup
			// stays as it was, and the skip is reported.
			w.skips = append(w.skips, *r.skipped)
		case j.old == nil:
			ch.insert(id, j.folder, j.msg, r.id)
			res.New++
		default:
			if r.id != j.old.Blob && sameFile(j.old, j.msg) {
				res.Mismatches = append(res.Mismatches, Mismatch{Account: w.a.Name, Folder: j.folder.Name,
					Name: j.msg.Name, Backup: hexID(j.old.Blob), Live: hexID(r.id)})
			}
			ch.update(res, j.old, j.folder, j.msg, r.id)
		}
	}
	return nil
}

func (s *scanner) recordAccountState(tx *catalog.Tx, id int64, snap *store.Snapshot, t int64) error {
	cur, err := tx.OpenAccountVersion(id)
	if err != nil {
		return err
	}
	want := catalog.AccountVersion{AccountID: id, Owner: owner(snap.Owner), Subscriptions: snap.SubscriptionsRaw, ValidFrom: t}
	if cur != nil && cur.Owner == want.Owner && bytes.Equal(cur.Subscriptions, want.Subscriptions) {
		return nil
	}
	if cur != nil {
		if err := tx.CloseAccountVersion(cur.ID, t); err != nil {
			return err
		}
	}
	s.pending++
	return tx.InsertAccountVersion(&want)
}

func (s *scanner) recordFolders(tx *catalog.Tx, id int64, open []catalog.FolderVersion, snap *store.Snapshot, hid *hidden, t int64) error {
	byName := make(map[string]*catalog.FolderVersion, len(open))
	for i := range open {
		byName[open[i].Name] = &open[i]
	}
	for i := range snap.Folders {
		f := &snap.Folders[i]
		if f.Reused {
			delete(byName, f.Name) // unchanged since its last listing
			continue
		}
		want := catalog.FolderVersion{AccountID: id, Name: f.Name, Dir: f.Dir, Owner: owner(f.Owner),
			UIDValidity: f.UIDValidity, NextUID: f.NextUID, GUID: f.GUID, Keywords: f.Keywords, ValidFrom: t}
		cur := byName[f.Name]
		delete(byName, f.Name)
		if cur != nil && sameFolder(cur, &want) {
			continue
		}
		if cur != nil {
			if err := tx.CloseFolder(cur.ID, t); err != nil {
				return err
			}
		}
		if err := tx.InsertFolder(&want); err != nil {
			return err
		}
		s.pending++
	}
	for _, gone := range byName {
		if hid.folder(gone.Name) {
			continue // not seen, for it (or a folder above it) was skipped
		}
		if err := tx.CloseFolder(gone.ID, t); err != nil {
			return err
		}
		s.pending++
	}
	return nil
}

func sameFolder(a, b *catalog.FolderVersion) bool {
	return a.Dir == b.Dir && a.Owner == b.Owner && a.UIDValidity == b.UIDValidity && a.NextUID == b.NextUID &&
		a.GUID == b.GUID && slices.Equal(a.Keywords, b.Keywords)
}

// sameFile reports whether a message file is, by name, size, mtime and
// inode, the one the item was read from.
func sameFile(it *catalog.Item, m *store.Message) bool {
	return it.Size == m.Size && it.MTime == m.MTime.UnixNano() && it.Ino == m.Ino
}

// itemChanges collects an account's closed and new item versions, which
// are written in a few multi-row statements.
type itemChanges struct {
	t       int64
	closes  []int64
	inserts []catalog.Item
}

// update records a new version of an item when anything about it changed.
func (c *itemChanges) update(res *Result, old *catalog.Item, f *store.Folder, m *store.Message, blob catalog.BlobID) {
	if blob == old.Blob && old.Name == m.Name && old.Subdir == m.Subdir && old.UID == m.UID &&
		old.Owner == owner(m.Owner) && old.Flags == m.Flags && slices.Equal(old.Keywords, m.Keywords) &&
		old.Size == m.Size && old.MTime == m.MTime.UnixNano() && old.Ino == m.Ino {
		res.Unchanged++
		return
	}
	c.closes = append(c.closes, old.ID)
	res.Changed++
	c.insert(old.AccountID, f, m, blob)
}

// insert records a new item version.
func (c *itemChanges) insert(account int64, f *store.Folder, m *store.Message, blob catalog.BlobID) {
	c.inserts = append(c.inserts, catalog.Item{
		AccountID: account, Folder: f.Name, Base: m.Base, Subdir: m.Subdir, Name: m.Name, Blob: blob,
		Size: m.Size, MTime: m.MTime.UnixNano(), Ino: m.Ino, Flags: m.Flags, Keywords: m.Keywords, UID: m.UID,
		Owner: owner(m.Owner), ValidFrom: c.t,
	})
}

// write closes the ended versions, then inserts the new ones.
func (c *itemChanges) write(tx *catalog.Tx) error {
	if err := tx.CloseItems(c.closes, c.t); err != nil {
		return err
	}
	return tx.InsertItems(c.inserts)
}

func owner(o store.Owner) catalog.Owner {
	return catalog.Owner{UID: o.UID, GID: o.GID, Mode: uint32(o.Mode)}
}
