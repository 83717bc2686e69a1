package scan

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
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

// account records one account's changes inside a savepoint, so that they
// are kept or dropped as a whole.
func (s *scanner) account(ctx context.Context, a maildir.Account) error {
	t := s.now()
	tx, err := s.txn()
	if err != nil {
		return err
	}
	if err := tx.Savepoint("account"); err != nil {
		return err
	}
	mark := s.blobs.mark()
	if err := s.recordAccount(ctx, tx, a, t); err != nil {
		s.blobs.undo(mark)
		if rerr := tx.RollbackTo("account"); rerr != nil {
			return rerr
		}
		return err
	}
	return tx.Release("account")
}

// recordAccount reads one account from the store, skipping the folders
// whose stamp shows they did not change since they were last listed, and
// records the differences.
func (s *scanner) recordAccount(ctx context.Context, tx *catalog.Tx, a maildir.Account, t int64) error {
	acct, err := tx.Account(a.Name, t)
	if err != nil {
		return err
	}
	open, err := tx.OpenFolders(acct.ID)
	if err != nil {
		return err
	}
	var opts maildir.ScanOptions
	if !s.opts.Deep {
		stamps, err := tx.Stamps(acct.ID)
		if err != nil {
			return err
		}
		known := make(map[string]bool, len(open))
		for _, f := range open {
			known[f.Dir] = true
		}
		opts.Reuse = func(dir string, st maildir.Stamp) bool {
			old, ok := stamps[dir]
			return ok && known[dir] && old.New == st.New && old.Cur == st.Cur && old.UIDList == st.UIDList &&
				old.Keywords == st.Keywords && st.Latest() < old.ListedAt-racyMargin
		}
	}
	listedAt := time.Now().UnixNano() // wall clock: compared with file mtimes
	snap, err := s.st.ScanWith(a, opts)
	if err != nil {
		if errors.Is(err, maildir.ErrNoAccount) {
			return err
		}
		return &storeError{err}
	}
	if err := s.recordAccountState(tx, acct.ID, snap, t); err != nil {
		return err
	}
	if err := s.recordFolders(tx, acct.ID, open, snap, t); err != nil {
		return err
	}
	if err := s.recordItems(ctx, tx, acct.ID, snap, t); err != nil {
		return err
	}
	for _, f := range snap.Folders {
		if f.Reused {
			continue
		}
		st := catalog.Stamp{New: f.Stamp.New, Cur: f.Stamp.Cur, UIDList: f.Stamp.UIDList, Keywords: f.Stamp.Keywords, ListedAt: listedAt}
		if err := tx.SetStamp(acct.ID, f.Dir, st); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) recordAccountState(tx *catalog.Tx, id int64, snap *maildir.Snapshot, t int64) error {
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

func (s *scanner) recordFolders(tx *catalog.Tx, id int64, open []catalog.FolderVersion, snap *maildir.Snapshot, t int64) error {
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

// recordItems diffs messages: unchanged ones are skipped without reading,
// renamed and moved ones reuse their blob, the rest are read.
func (s *scanner) recordItems(ctx context.Context, tx *catalog.Tx, id int64, snap *maildir.Snapshot, t int64) error {
	open, err := tx.OpenItems(id)
	if err != nil {
		return err
	}
	byKey := make(map[itemKey]*catalog.Item, len(open))
	byFile := make(map[fileKey]*catalog.Item, len(open))
	for i := range open {
		it := &open[i]
		byKey[itemKey{it.Folder, it.Base}] = it
		byFile[fileKey{it.Ino, it.Size, it.MTime}] = it
	}
	reused := map[string]bool{}
	for _, f := range snap.Folders {
		if f.Reused {
			reused[f.Name] = true
			s.res.FoldersSkipped++
		}
	}
	if len(reused) > 0 {
		for k := range byKey {
			if reused[k.folder] {
				delete(byKey, k)
				s.res.Items++
				s.res.Unchanged++
				s.opts.Progress.ItemsSeen.Add(1)
			}
		}
	}
	var jobs []readJob
	for fi := range snap.Folders {
		f := &snap.Folders[fi]
		for mi := range f.Messages {
			m := &f.Messages[mi]
			s.res.Items++
			s.opts.Progress.ItemsSeen.Add(1)
			k := itemKey{f.Name, m.Base}
			old, ok := byKey[k]
			if ok {
				delete(byKey, k)
				if !s.opts.Deep && sameFile(old, m) {
					if err := s.update(tx, old, f, m, old.Blob, t); err != nil {
						return err
					}
					continue
				}
				jobs = append(jobs, readJob{folder: f, msg: m, old: old})
				continue
			}
			if cand, ok := byFile[fileKey{m.Ino, m.Size, m.MTime.UnixNano()}]; ok && !s.opts.Deep {
				if err := s.insert(tx, id, f, m, cand.Blob, t); err != nil {
					return err
				}
				s.res.Moved++
				continue
			}
			jobs = append(jobs, readJob{folder: f, msg: m})
		}
	}
	results, err := s.read(ctx, snap.Account, jobs)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.newBlob {
			if err := tx.AddBlob(r.id, r.ref); err != nil {
				return err
			}
		}
	}
	for _, r := range results {
		j := r.job
		switch {
		case r.vanished:
			s.res.Vanished++
			if j.old != nil {
				// Renamed or deleted since the listing: the next scan
				// settles it; keep the old version meanwhile.
				continue
			}
		case j.old == nil:
			if err := s.insert(tx, id, j.folder, j.msg, r.id, t); err != nil {
				return err
			}
			s.res.New++
		default:
			if r.id != j.old.Blob && sameFile(j.old, j.msg) {
				s.res.Mismatches = append(s.res.Mismatches, Mismatch{Account: snap.Account.Name, Folder: j.folder.Name,
					Name: j.msg.Name, Backup: hexID(j.old.Blob), Live: hexID(r.id)})
			}
			if err := s.update(tx, j.old, j.folder, j.msg, r.id, t); err != nil {
				return err
			}
		}
	}
	for _, gone := range byKey {
		if err := tx.CloseItem(gone.ID, t); err != nil {
			return err
		}
		s.res.Deleted++
		s.pending++
	}
	return nil
}

// sameFile reports whether a message file is, by name, size, mtime and
// inode, the one the item was read from.
func sameFile(it *catalog.Item, m *maildir.Message) bool {
	return it.Size == m.Size && it.MTime == m.MTime.UnixNano() && it.Ino == m.Ino
}

// update records a new version of an item when anything about it changed.
func (s *scanner) update(tx *catalog.Tx, old *catalog.Item, f *maildir.Folder, m *maildir.Message, blob catalog.BlobID, t int64) error {
	if blob == old.Blob && old.Name == m.Name && old.Subdir == m.Subdir && old.UID == m.UID &&
		old.Owner == owner(m.Owner) && old.Flags == m.Flags && slices.Equal(old.Keywords, m.Keywords) &&
		old.Size == m.Size && old.MTime == m.MTime.UnixNano() && old.Ino == m.Ino {
		s.res.Unchanged++
		return nil
	}
	if err := tx.CloseItem(old.ID, t); err != nil {
		return err
	}
	s.res.Changed++
	return s.insert(tx, old.AccountID, f, m, blob, t)
}

// insert records a new item version.
func (s *scanner) insert(tx *catalog.Tx, account int64, f *maildir.Folder, m *maildir.Message, blob catalog.BlobID, t int64) error {
	s.pending++
	return tx.InsertItem(&catalog.Item{
		AccountID: account, Folder: f.Name, Base: m.Base, Subdir: m.Subdir, Name: m.Name, Blob: blob,
		Size: m.Size, MTime: m.MTime.UnixNano(), Ino: m.Ino, Flags: m.Flags, Keywords: m.Keywords, UID: m.UID,
		Owner: owner(m.Owner), ValidFrom: t,
	})
}

func owner(o maildir.Owner) catalog.Owner {
	return catalog.Owner{UID: o.UID, GID: o.GID, Mode: uint32(o.Mode)}
}
