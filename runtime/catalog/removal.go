package catalog

import (
	"bytes"
	"database/sql"
	"fmt"
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

// isRemoval reports whether the step at t only removed things.
func (w *removalWalk) isRemoval(t int64) (bool, error) {
	items, err := w.itemsAt(t)
	if err != nil {
		return false, err
	}
	removed := false
	for _, key := range items.started {
		if !items.ended[key] {
			return false, nil // a message added, moved in or changed
		}
	}
	for key := range items.ended {
		if !items.startedSet[key] {
			removed = true
		}
	}
	folders, err := w.foldersAt(t)
	if err != nil {
		return false, err
	}
	for name := range folders.started {
		if !folders.ended[name] {
			return false, nil // a folder created or renamed
		}
	}
	if len(folders.ended) > 0 {
		removed = true // a folder gone, or only its metadata changed
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
// flag change renames the file and so is not a continuation; losing the
// dovecot-uidlist (UIDs) or the dovecot-keywords file (keyword names) is.
type messageKey struct {
	folder, base, subdir, name string
	blob                       BlobID
}

type stepItems struct {
	started    []messageKey
	startedSet map[messageKey]bool
	ended      map[messageKey]bool
}

func (w *removalWalk) itemsAt(t int64) (*stepItems, error) {
	s := &stepItems{startedSet: map[messageKey]bool{}, ended: map[messageKey]bool{}}
	q := `SELECT folder, base, subdir, name, blob, 1 FROM items WHERE ` + w.itemFilter() + ` AND valid_from = ?
		UNION ALL SELECT folder, base, subdir, name, blob, 0 FROM items WHERE ` + w.itemFilter() + ` AND valid_to = ?`
	rows, err := w.db.Query(q, append(w.args(t), w.args(t)...)...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k messageKey
		var blob []byte
		var started bool
		if err := rows.Scan(&k.folder, &k.base, &k.subdir, &k.name, &blob, &started); err != nil {
			return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
		}
		copy(k.blob[:], blob)
		if started {
			s.started = append(s.started, k)
			s.startedSet[k] = true
		} else {
			s.ended[k] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	return s, nil
}

type stepFolders struct {
	started, ended map[string]bool
}

func (w *removalWalk) foldersAt(t int64) (*stepFolders, error) {
	s := &stepFolders{started: map[string]bool{}, ended: map[string]bool{}}
	q := `SELECT name, 1 FROM folder_versions WHERE ` + w.folderFilter() + ` AND valid_from = ?
		UNION ALL SELECT name, 0 FROM folder_versions WHERE ` + w.folderFilter() + ` AND valid_to = ?`
	rows, err := w.db.Query(q, append(w.args(t), w.args(t)...)...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var started bool
		if err := rows.Scan(&name, &started); err != nil {
			return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
		}
		if started {
			s.started[name] = true
		} else {
			s.ended[name] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading history of account %d: %w", w.path, w.account, err)
	}
	return s, nil
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
