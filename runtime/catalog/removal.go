package catalog

import (
	"bytes"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RemovalGap is the longest pause between two recorded steps of one
// removal. Deleting a mailbox with `rm -rf`, or a folder with IMAP
// DELETE, reaches the backup as a run of steps (realtime batches, or
// SmartScans that caught it half done), each removing part of it, a few
// milliseconds to seconds apart; RemovalStart walks back over such a run
// as long as no two steps are further apart than this. Five minutes spans
// the slowest removal of a large mailbox on a loaded server, and keeps an
// unrelated deletion made earlier (a user emptying a folder the day
// before) out of the run.
const RemovalGap = int64(5 * time.Minute)

// RemovalStart returns when the removal that ended at end began: the
// first of the uninterrupted run of removal steps that ends with the step
// at end (the account, or the folder, recorded gone). A step is a
// recorded instant of the scope's history; it belongs to a removal when
// something was removed at it (a message, a folder, the account's
// state) and nothing was added or changed by a user: every version that
// starts at it continues one that ends at it with the same content (the
// same message file with fewer of its companions, as when the
// dovecot-uidlist or dovecot-keywords file went first; a folder whose
// metadata went; account state whose subscriptions file went). Steps
// further apart than RemovalGap break the run. The state at the returned
// instant minus one nanosecond is the scope as it was before the removal
// began; end itself is returned when the step before it was no removal.
func (c *Catalog) RemovalStart(accountID, end int64) (int64, error) {
	return c.removalStart(&removalWalk{db: c.db, path: c.path, account: accountID}, end)
}

// FolderRemovalStart is RemovalStart for one folder of an account, going
// away as a whole (`rm -rf` of its directory, or IMAP DELETE) at end: the
// walk looks at that folder's versions and messages only.
func (c *Catalog) FolderRemovalStart(accountID int64, folder string, end int64) (int64, error) {
	return c.removalStart(&removalWalk{db: c.db, path: c.path, account: accountID, folder: &folder}, end)
}

func (c *Catalog) removalStart(w *removalWalk, end int64) (int64, error) {
	start := end
	for {
		prev, ok, err := w.previous(start)
		if err != nil {
			return 0, err
		}
		if !ok || start-prev > RemovalGap {
			return start, nil
		}
		removal, err := w.isRemoval(prev)
		if err != nil {
			return 0, err
		}
		if !removal {
			return start, nil
		}
		start = prev
	}
}

// removalWalk reads the steps of one scope's history.
type removalWalk struct {
	db      *sql.DB
	path    string
	account int64
	folder  *string // nil for the whole account
}

// itemFilter and folderFilter restrict item and folder version queries to
// the scope; their placeholders take the account id and, for a folder,
// its name (see args).
func (w *removalWalk) itemFilter() string {
	if w.folder == nil {
		return `account_id = ?`
	}
	return `account_id = ? AND folder = ?`
}

func (w *removalWalk) folderFilter() string {
	if w.folder == nil {
		return `account_id = ?`
	}
	return `account_id = ? AND name = ?`
}

func (w *removalWalk) args(extra ...any) []any {
	a := []any{w.account}
	if w.folder != nil {
		a = append(a, *w.folder)
	}
	return append(a, extra...)
}

// previous returns the latest step of the scope before t.
func (w *removalWalk) previous(t int64) (int64, bool, error) {
	q := `SELECT max(t) FROM (
		SELECT max(valid_to) AS t FROM items WHERE ` + w.itemFilter() + ` AND valid_to < ?
		UNION ALL SELECT max(valid_from) FROM items WHERE ` + w.itemFilter() + ` AND valid_from < ?
		UNION ALL SELECT max(valid_to) FROM folder_versions WHERE ` + w.folderFilter() + ` AND valid_to < ?
		UNION ALL SELECT max(valid_from) FROM folder_versions WHERE ` + w.folderFilter() + ` AND valid_from < ?`
	args := append(append(append(w.args(t), w.args(t)...), w.args(t)...), w.args(t)...)
	if w.folder == nil {
		q += `
		UNION ALL SELECT max(valid_to) FROM account_versions WHERE account_id = ? AND valid_to < ?
		UNION ALL SELECT max(valid_from) FROM account_versions WHERE account_id = ? AND valid_from < ?`
		args = append(args, w.account, t, w.account, t)
	}
	q += `)`
	var prev sql.NullInt64
	if err := w.db.QueryRow(q, args...).Scan(&prev); err != nil {
		return 0, false, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	return prev.Int64, prev.Valid, nil
}

// isRemoval reports whether the step at t only removed things: something
// ended at it, and every version that starts at it continues one that
// ended there, losing something of it and gaining nothing (see
// lostMessage and lostFolder).
func (w *removalWalk) isRemoval(t int64) (bool, error) {
	items, err := w.itemsAt(t)
	if err != nil {
		return false, err
	}
	ended := make(map[messageKey]*Item)
	for i := range items {
		if it := &items[i]; it.ValidTo == t {
			ended[keyOf(it)] = it
		}
	}
	removed := len(ended) > 0
	for i := range items {
		it := &items[i]
		if it.ValidFrom != t {
			continue
		}
		old, ok := ended[keyOf(it)]
		if !ok || !lostMessage(old, it) {
			return false, nil // a message added, moved in or changed
		}
	}
	folders, err := w.foldersAt(t)
	if err != nil {
		return false, err
	}
	endedFolders := map[string]*FolderVersion{}
	for i := range folders {
		if f := &folders[i]; f.ValidTo == t {
			endedFolders[f.Name] = f
		}
	}
	removed = removed || len(endedFolders) > 0
	for i := range folders {
		f := &folders[i]
		if f.ValidFrom != t {
			continue
		}
		old, ok := endedFolders[f.Name]
		if !ok || !lostFolder(old, f) {
			return false, nil // a folder created, renamed or changed
		}
	}
	if w.folder == nil {
		ok, gone, err := w.accountAt(t)
		if err != nil || !ok {
			return false, err
		}
		removed = removed || gone
	}
	return removed, nil
}

// messageKey is what must stay the same for a new version to continue an
// ended one within a removal: the file (folder, base name, sub-directory,
// full name, hence flags and keyword letters) and its content. A user's
// flag change renames the file and so is not a continuation.
type messageKey struct {
	folder, base, subdir, name string
	blob                       BlobID
}

func keyOf(it *Item) messageKey {
	return messageKey{it.Folder, it.Base, it.Subdir, it.Name, it.Blob}
}

// lostMessage reports whether a new version of the same message file only
// lost what its companion files gave it: its UID (dovecot-uidlist gone)
// or keyword names (dovecot-keywords gone: the driver shows a keyword
// letter without a name as "?x"), and gained nothing. Dovecot
// assigning a UID, or a keyword name appearing, is a change, not part of
// a removal.
func lostMessage(old, cur *Item) bool {
	if old.Owner != cur.Owner || old.Size != cur.Size || old.MTime != cur.MTime || old.Ino != cur.Ino {
		return false
	}
	lostUID := cur.UID == 0 && old.UID != 0
	if cur.UID != old.UID && !lostUID {
		return false
	}
	named := 0
	for _, k := range cur.Keywords {
		if strings.HasPrefix(k, "?") {
			continue // a letter whose name went with dovecot-keywords
		}
		if !slices.Contains(old.Keywords, k) {
			return false
		}
		named++
	}
	return lostUID || named < len(old.Keywords)
}

// lostFolder reports whether a new version of a folder only lost what its
// companion files gave it (dovecot-uidlist: UIDVALIDITY, next UID, GUID;
// dovecot-keywords: keyword names), and gained nothing.
func lostFolder(old, cur *FolderVersion) bool {
	if old.Dir != cur.Dir || old.Owner != cur.Owner {
		return false
	}
	lost := false
	for _, f := range []struct{ o, c uint32 }{{old.UIDValidity, cur.UIDValidity}, {old.NextUID, cur.NextUID}} {
		switch {
		case f.c == f.o:
		case f.c == 0:
			lost = true
		default:
			return false
		}
	}
	switch {
	case cur.GUID == old.GUID:
	case cur.GUID == "":
		lost = true
	default:
		return false
	}
	for _, k := range cur.Keywords {
		if !slices.Contains(old.Keywords, k) {
			return false
		}
	}
	return lost || len(cur.Keywords) < len(old.Keywords)
}

// itemsAt returns the scope's item versions that start or end at t.
func (w *removalWalk) itemsAt(t int64) ([]Item, error) {
	rows, err := w.db.Query(`SELECT `+itemColumns+` FROM items WHERE `+w.itemFilter()+` AND valid_from = ?
		UNION ALL SELECT `+itemColumns+` FROM items WHERE `+w.itemFilter()+` AND valid_to = ?`, append(w.args(t), w.args(t)...)...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	return scanItems(rows, w.path)
}

// foldersAt returns the scope's folder versions that start or end at t.
func (w *removalWalk) foldersAt(t int64) ([]FolderVersion, error) {
	rows, err := w.db.Query(`SELECT `+folderColumns+` FROM folder_versions WHERE `+w.folderFilter()+` AND valid_from = ?
		UNION ALL SELECT `+folderColumns+` FROM folder_versions WHERE `+w.folderFilter()+` AND valid_to = ?`, append(w.args(t), w.args(t)...)...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	return scanFolders(rows, w.path)
}

// accountAt checks the account-level state at a step: ok is false when a
// user changed it (subscriptions or ownership); gone is true when it
// ended without a successor, or its subscriptions file went.
func (w *removalWalk) accountAt(t int64) (ok, gone bool, err error) {
	rows, err := w.db.Query(`SELECT `+accountVersionColumns+` FROM account_versions WHERE account_id = ? AND (valid_from = ? OR valid_to = ?)`,
		w.account, t, t)
	if err != nil {
		return false, false, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	vs, err := scanAccountVersions(rows, w.path)
	if err != nil {
		return false, false, err
	}
	var before, after *AccountVersion
	for i := range vs {
		if vs[i].ValidFrom == t {
			after = &vs[i]
		} else {
			before = &vs[i]
		}
	}
	switch {
	case after == nil:
		return true, before != nil, nil
	case before == nil || before.Owner != after.Owner:
		return false, false, nil
	case after.Subscriptions == nil && before.Subscriptions != nil:
		return true, true, nil
	default:
		return bytes.Equal(before.Subscriptions, after.Subscriptions), false, nil
	}
}
