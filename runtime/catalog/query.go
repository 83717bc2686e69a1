package catalog

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/names"
)

// ErrNotFound is returned for an account or blob the catalog does not know.
var ErrNotFound = errors.New("not found")

// ErrPurged is returned for an instant before an account's history was
// trimmed by the retention purge: what it held then is no longer whole.
var ErrPurged = errors.New("instant older than the backup's retention")

// CheckWhole returns an error wrapping ErrPurged when the account's
// history at the instant at (Unix ns) is no longer whole.
func (a Account) CheckWhole(at int64) error {
	if at >= a.FirstSeen && at < a.ExactFrom {
		return fmt.Errorf("account %s: %w: the retention purge removed its history before %s; use that instant or a later one",
			names.Arg(a.Name), ErrPurged, time.Unix(0, a.ExactFrom).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// validAt selects versions valid at the instant bound to the two
// placeholders.
const validAt = `valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)`

// State is an account as it was at one instant.
type State struct {
	Account Account
	At      int64
	// Version is the account-level state; nil when the account did not
	// exist at that instant.
	Version *AccountVersion
	Folders []FolderVersion
	Items   []Item
}

// AccountByName returns an account by name.
func (c *Catalog) AccountByName(name string) (Account, error) {
	a, ok, err := lookupAccount(c.db, c.path, name)
	if err == nil && !ok {
		err = fmt.Errorf("account %s: %w in the backup", names.Arg(name), ErrNotFound)
	}
	return a, err
}

// Accounts returns every account the catalog knows, by name.
func (c *Catalog) Accounts() ([]Account, error) {
	rows, err := c.db.Query(`SELECT id, name, first_seen, last_seen, coalesce(deleted_at, 0), exact_from FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.ID, &a.Name, &a.FirstSeen, &a.LastSeen, &a.DeletedAt, &a.ExactFrom); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", c.path, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// StateAt rebuilds an account as it was at the instant at (Unix ns).
func (c *Catalog) StateAt(name string, at int64) (*State, error) {
	a, err := c.AccountByName(name)
	if err != nil {
		return nil, err
	}
	st := &State{Account: a, At: at}
	rows, err := c.db.Query(`SELECT `+accountVersionColumns+` FROM account_versions WHERE account_id = ? AND `+validAt, a.ID, at, at)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	vs, err := scanAccountVersions(rows, c.path)
	if err != nil {
		return nil, err
	}
	if len(vs) > 0 {
		st.Version = &vs[0]
	}
	rows, err = c.db.Query(`SELECT `+folderColumns+` FROM folder_versions WHERE account_id = ? AND `+validAt+` ORDER BY name`, a.ID, at, at)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	if st.Folders, err = scanFolders(rows, c.path); err != nil {
		return nil, err
	}
	rows, err = c.db.Query(`SELECT `+itemColumns+` FROM items WHERE account_id = ? AND `+validAt+` ORDER BY folder, uid, base`, a.ID, at, at)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	if st.Items, err = scanItems(rows, c.path); err != nil {
		return nil, err
	}
	return st, nil
}

// Blob returns where a blob is stored.
func (c *Catalog) Blob(id BlobID) (BlobRef, error) {
	var r BlobRef
	err := c.db.QueryRow(`SELECT pack, offset, length, size FROM blobs WHERE id = ?`, id[:]).Scan(&r.Pack, &r.Offset, &r.Length, &r.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("blob %x: %w in the catalog", id[:8], ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("catalog %s: blob %x: %w", c.path, id[:8], err)
	}
	return r, nil
}

// HasBlob reports whether the catalog knows a blob (as committed: an open
// write transaction's own blobs are not seen).
func (c *Catalog) HasBlob(id BlobID) (bool, error) {
	var n int
	err := c.db.QueryRow(`SELECT 1 FROM blobs WHERE id = ?`, id[:]).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("catalog %s: blob %x: %w", c.path, id[:8], err)
	}
	return true, nil
}

// BlobIDs calls fn for every known blob, for building an in-memory index.
func (c *Catalog) BlobIDs(fn func(id BlobID, ref BlobRef)) error {
	rows, err := c.db.Query(`SELECT id, pack, offset, length, size FROM blobs`)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	var raw []byte
	for rows.Next() {
		var r BlobRef
		if err := rows.Scan(&raw, &r.Pack, &r.Offset, &r.Length, &r.Size); err != nil {
			return fmt.Errorf("catalog %s: %w", c.path, err)
		}
		var id BlobID
		copy(id[:], raw)
		fn(id, r)
	}
	return rows.Err()
}

// AccountStats summarises one account's backup for listings.
type AccountStats struct {
	Account
	// Items, Folders and Bytes describe the account's current state (for
	// a deleted account, its state before the deletion began).
	Items, Folders int64
	Bytes          int64
	// Versions counts every item version kept, current or historical.
	Versions int64
	// FirstBackup and LastBackup are the first and last times a change of
	// the account was recorded.
	FirstBackup, LastBackup int64
	// LastDeletion is the last time the account disappeared from the
	// store, even if it came back since (a mail server recreates an
	// account whose Maildir was deleted at its next delivery); 0 if never.
	LastDeletion int64
	// DeletionBegan is when that last deletion began (see RemovalStart):
	// the state just before it is the account as it was before it was
	// removed, however many steps the removal reached the backup in. 0 if
	// never deleted.
	DeletionBegan int64
}

// Stats returns the listing of every account, or of one when name is set.
func (c *Catalog) Stats(name string) ([]AccountStats, error) {
	accounts, err := c.Accounts()
	if err != nil {
		return nil, err
	}
	var out []AccountStats
	for _, a := range accounts {
		if name != "" && a.Name != name {
			continue
		}
		s := AccountStats{Account: a}
		err := c.db.QueryRow(`SELECT coalesce(max(v.valid_to), 0) FROM account_versions v
			WHERE v.account_id = ? AND v.valid_to IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM account_versions w WHERE w.account_id = v.account_id AND w.valid_from = v.valid_to)`, a.ID).Scan(&s.LastDeletion)
		if err == nil && a.DeletedAt != 0 && s.LastDeletion == 0 {
			s.LastDeletion = a.DeletedAt
		}
		if err == nil && s.LastDeletion != 0 {
			s.DeletionBegan, err = c.RemovalStart(a.ID, s.LastDeletion)
		}
		// A deleted account is listed as it was before its deletion began.
		at := int64(1<<63 - 1)
		if a.DeletedAt != 0 {
			at = s.DeletionBegan - 1
		}
		if err == nil {
			err = c.db.QueryRow(`SELECT count(*), coalesce(sum(size), 0) FROM items WHERE account_id = ? AND `+validAt, a.ID, at, at).Scan(&s.Items, &s.Bytes)
		}
		if err == nil {
			err = c.db.QueryRow(`SELECT count(*) FROM folder_versions WHERE account_id = ? AND `+validAt, a.ID, at, at).Scan(&s.Folders)
		}
		if err == nil {
			err = c.db.QueryRow(`SELECT count(*), coalesce(min(valid_from), 0), coalesce(max(max(valid_from), coalesce(max(valid_to), 0)), 0) FROM items WHERE account_id = ?`, a.ID).
				Scan(&s.Versions, &s.FirstBackup, &s.LastBackup)
		}
		if err != nil {
			return nil, fmt.Errorf("catalog %s: account %s: %w", c.path, a.Name, err)
		}
		if s.FirstBackup == 0 {
			s.FirstBackup = a.FirstSeen
		}
		if s.LastBackup < a.LastSeen {
			s.LastBackup = a.LastSeen
		}
		out = append(out, s)
	}
	if name != "" && len(out) == 0 {
		return nil, fmt.Errorf("account %s: %w in the backup", names.Arg(name), ErrNotFound)
	}
	return out, nil
}

// Scan is one recorded SmartScan (or other catalog-changing run).
type Scan struct {
	ID       int64
	Kind     string
	Started  int64
	Finished int64
	Outcome  string // "running", "ok", "failed", "cancelled", "interrupted"
	Detail   string
}

// StartScan records the start of a run and returns its id.
func (c *Catalog) StartScan(kind string, started int64) (int64, error) {
	// A run still "running" was interrupted by a crash.
	if _, err := c.db.Exec(`UPDATE scans SET outcome = 'interrupted' WHERE outcome = 'running'`); err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	res, err := c.db.Exec(`INSERT INTO scans(kind, started, outcome) VALUES (?, ?, 'running')`, kind, started)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return res.LastInsertId()
}

// FinishScan records a run's outcome.
func (c *Catalog) FinishScan(id, finished int64, outcome, detail string) error {
	_, err := c.db.Exec(`UPDATE scans SET finished = ?, outcome = ?, detail = ? WHERE id = ?`, finished, outcome, detail, id)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return nil
}

// LastScan returns the latest run of a kind, and the latest successful one.
func (c *Catalog) LastScan(kind string) (last, lastOK *Scan, err error) {
	get := func(q string) (*Scan, error) {
		var s Scan
		err := c.db.QueryRow(q, kind).Scan(&s.ID, &s.Kind, &s.Started, &s.Finished, &s.Outcome, &s.Detail)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", c.path, err)
		}
		return &s, nil
	}
	const cols = `SELECT id, kind, started, coalesce(finished, 0), outcome, detail FROM scans WHERE kind = ?`
	if last, err = get(cols + ` ORDER BY id DESC LIMIT 1`); err != nil {
		return nil, nil, err
	}
	lastOK, err = get(cols + ` AND outcome = 'ok' ORDER BY id DESC LIMIT 1`)
	return last, lastOK, err
}
