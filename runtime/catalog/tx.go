package catalog

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/pack"
)

// BlobID is the SHA-256 of a blob's raw content.
type BlobID = [32]byte

// BlobRef says where a blob is stored in the pack files: the catalog's
// name for a pack.Location (Pack, Offset, the stored record's Length, the
// raw Size), one type, so that a reference read from the catalog is passed
// to the pack store as it is.
type BlobRef = pack.Location

// Owner is the owner, group and permission bits of a file or directory.
type Owner struct {
	UID, GID uint32
	Mode     uint32
}

// Account is an account known to the catalog.
type Account struct {
	ID        int64
	Name      string
	FirstSeen int64
	LastSeen  int64
	// DeletedAt is when the account disappeared from the store; 0 while
	// present.
	DeletedAt int64
	// ExactFrom is the instant from which the account's history is whole:
	// a purge removed versions that ended before it, so a restore at an
	// earlier instant would miss messages. 0 while nothing was purged.
	ExactFrom int64
}

// AccountVersion is the account-level state valid over a time span.
type AccountVersion struct {
	ID            int64
	AccountID     int64
	Owner         Owner
	Subscriptions []byte // the subscriptions file as found; nil when absent
	ValidFrom     int64
	ValidTo       int64 // 0 while current
}

// FolderVersion is one folder's state valid over a time span.
type FolderVersion struct {
	ID          int64
	AccountID   int64
	Name        string // "INBOX", "Projects/2026"
	Dir         string // directory relative to the Maildir root
	Owner       Owner
	UIDValidity uint32
	NextUID     uint32
	GUID        string
	Keywords    []string // dovecot-keywords, index order
	ValidFrom   int64
	ValidTo     int64
}

// Item is one version of one message: its place, flags and content, valid
// over a time span.
type Item struct {
	ID        int64
	AccountID int64
	Folder    string // folder name
	Base      string // Maildir unique name, stable across flag changes
	Subdir    string // "new" or "cur"
	Name      string // full file name
	Blob      BlobID
	Size      int64
	MTime     int64 // received date, Unix ns
	Ino       uint64
	Flags     string
	Keywords  []string
	UID       uint32
	Owner     Owner
	ValidFrom int64
	ValidTo   int64
}

// Tx is a write transaction. Commit is the commit point of a backup step:
// blobs must be durable in their packs before it is called.
type Tx struct {
	c     *Catalog
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// Begin starts a write transaction.
func (c *Catalog) Begin() (*Tx, error) {
	tx, err := c.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("catalog %s: begin: %w", c.path, err)
	}
	return &Tx{c: c, tx: tx, stmts: map[string]*sql.Stmt{}}, nil
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("catalog %s: commit: %w", t.c.path, err)
	}
	return nil
}

// Rollback abandons the transaction; it is a no-op after Commit.
func (t *Tx) Rollback() { _ = t.tx.Rollback() }

// exec runs a statement, preparing it once per transaction.
func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.Prepare(query); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", t.c.path, err)
		}
		t.stmts[query] = st
	}
	res, err := st.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", t.c.path, err)
	}
	return res, nil
}

func (t *Tx) queryRow(query string, args ...any) *sql.Row {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.Prepare(query); err != nil {
			return t.tx.QueryRow(query, args...)
		}
		t.stmts[query] = st
	}
	return st.QueryRow(args...)
}

// AddBlob records where a blob is stored; a blob already known is kept.
func (t *Tx) AddBlob(id BlobID, ref BlobRef) error {
	_, err := t.exec(`INSERT OR IGNORE INTO blobs(id, pack, offset, length, size) VALUES (?, ?, ?, ?, ?)`,
		id[:], ref.Pack, ref.Offset, ref.Length, ref.Size)
	return err
}

// HasBlob reports whether the catalog knows a blob.
func (t *Tx) HasBlob(id BlobID) (bool, error) {
	var n int
	err := t.queryRow(`SELECT 1 FROM blobs WHERE id = ?`, id[:]).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("catalog %s: %w", t.c.path, err)
	}
	return true, nil
}

// Account returns the account with that name, creating it, or bringing it
// back from deletion, as seen at now.
func (t *Tx) Account(name string, now int64) (Account, error) {
	a, ok, err := lookupAccount(t.tx, t.c.path, name)
	switch {
	case err != nil:
		return a, err
	case !ok:
		res, err := t.exec(`INSERT INTO accounts(name, first_seen, last_seen) VALUES (?, ?, ?)`, name, now, now)
		if err != nil {
			return a, err
		}
		a.ID, _ = res.LastInsertId()
		a.FirstSeen, a.LastSeen = now, now
		return a, nil
	}
	if _, err := t.exec(`UPDATE accounts SET last_seen = ?, deleted_at = NULL WHERE id = ?`, now, a.ID); err != nil {
		return a, err
	}
	a.LastSeen, a.DeletedAt = now, 0
	return a, nil
}

// DeleteAccount marks an account deleted at the given time and closes
// every current version of its items, folders and account state.
func (t *Tx) DeleteAccount(id, at int64) error {
	if _, err := t.exec(`UPDATE accounts SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, at, id); err != nil {
		return err
	}
	for _, table := range []string{"items", "folder_versions", "account_versions"} {
		if _, err := t.exec(`UPDATE `+table+` SET valid_to = ? WHERE account_id = ? AND valid_to IS NULL`, at, id); err != nil {
			return err
		}
	}
	return t.ForgetStamps(id)
}

// InsertItem records a new item version and sets its ID.
func (t *Tx) InsertItem(it *Item) error {
	res, err := t.exec(`INSERT INTO items(account_id, folder, base, subdir, name, blob, size, mtime, ino, flags, keywords, uid, fuid, fgid, fmode, valid_from)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.AccountID, it.Folder, it.Base, it.Subdir, it.Name, it.Blob[:], it.Size, it.MTime, int64(it.Ino),
		it.Flags, joinList(it.Keywords), it.UID, it.Owner.UID, it.Owner.GID, it.Owner.Mode, it.ValidFrom)
	if err != nil {
		return err
	}
	it.ID, _ = res.LastInsertId()
	return nil
}

// Batch sizes of CloseItems and InsertItems: one statement per batch
// instead of one per item (InsertItems stays under SQLite's historical
// limit of 999 parameters).
const (
	closeBatch  = 500
	insertBatch = 60
)

// CloseItems ends item versions at the given time.
func (t *Tx) CloseItems(ids []int64, at int64) error {
	for len(ids) > 0 {
		n := min(len(ids), closeBatch)
		args := make([]any, 0, n+1)
		args = append(args, at)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		if _, err := t.exec(`UPDATE items SET valid_to = ? WHERE id IN (?`+strings.Repeat(`, ?`, n-1)+`)`, args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// InsertItems records new item versions; unlike InsertItem it does not
// set their IDs.
func (t *Tx) InsertItems(items []Item) error {
	const row = `, (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for len(items) > 0 {
		n := min(len(items), insertBatch)
		args := make([]any, 0, 16*n)
		for i := range items[:n] {
			it := &items[i]
			args = append(args, it.AccountID, it.Folder, it.Base, it.Subdir, it.Name, it.Blob[:], it.Size, it.MTime, int64(it.Ino),
				it.Flags, joinList(it.Keywords), it.UID, it.Owner.UID, it.Owner.GID, it.Owner.Mode, it.ValidFrom)
		}
		q := `INSERT INTO items(account_id, folder, base, subdir, name, blob, size, mtime, ino, flags, keywords, uid, fuid, fgid, fmode, valid_from)
		VALUES ` + row[2:] + strings.Repeat(row, n-1)
		if _, err := t.exec(q, args...); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// CloseItem ends an item version at the given time.
func (t *Tx) CloseItem(id, at int64) error {
	_, err := t.exec(`UPDATE items SET valid_to = ? WHERE id = ?`, at, id)
	return err
}

// InsertFolder records a new folder version and sets its ID.
func (t *Tx) InsertFolder(f *FolderVersion) error {
	res, err := t.exec(`INSERT INTO folder_versions(account_id, name, dir, uid, gid, mode, uidvalidity, nextuid, guid, keywords, valid_from)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.AccountID, f.Name, f.Dir, f.Owner.UID, f.Owner.GID, f.Owner.Mode, f.UIDValidity, f.NextUID, f.GUID, joinList(f.Keywords), f.ValidFrom)
	if err != nil {
		return err
	}
	f.ID, _ = res.LastInsertId()
	return nil
}

// CloseFolder ends a folder version at the given time.
func (t *Tx) CloseFolder(id, at int64) error {
	_, err := t.exec(`UPDATE folder_versions SET valid_to = ? WHERE id = ?`, at, id)
	return err
}

// OpenAccountVersion returns the current account-level state, if any.
func (t *Tx) OpenAccountVersion(accountID int64) (*AccountVersion, error) {
	rows, err := t.tx.Query(`SELECT `+accountVersionColumns+` FROM account_versions WHERE account_id = ? AND valid_to IS NULL`, accountID)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", t.c.path, err)
	}
	vs, err := scanAccountVersions(rows, t.c.path)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}

// InsertAccountVersion records new account-level state.
func (t *Tx) InsertAccountVersion(v *AccountVersion) error {
	res, err := t.exec(`INSERT INTO account_versions(account_id, uid, gid, mode, subscriptions, valid_from) VALUES (?, ?, ?, ?, ?, ?)`,
		v.AccountID, v.Owner.UID, v.Owner.GID, v.Owner.Mode, v.Subscriptions, v.ValidFrom)
	if err != nil {
		return err
	}
	v.ID, _ = res.LastInsertId()
	return nil
}

// CloseAccountVersion ends an account version at the given time.
func (t *Tx) CloseAccountVersion(id, at int64) error {
	_, err := t.exec(`UPDATE account_versions SET valid_to = ? WHERE id = ?`, at, id)
	return err
}

// joinList stores a list of names (keywords) as one text column.
func joinList(names []string) string { return strings.Join(names, "\n") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Savepoint marks a point the transaction can roll back to, so that one
// account's changes are all kept or all dropped within a larger batch.
func (t *Tx) Savepoint(name string) error {
	_, err := t.tx.Exec(`SAVEPOINT ` + name)
	return wrap(t.c.path, err)
}

// RollbackTo undoes everything since the savepoint and drops it.
func (t *Tx) RollbackTo(name string) error {
	if _, err := t.tx.Exec(`ROLLBACK TO ` + name); err != nil {
		return wrap(t.c.path, err)
	}
	return t.Release(name)
}

// Release keeps the changes since the savepoint and drops it.
func (t *Tx) Release(name string) error {
	_, err := t.tx.Exec(`RELEASE ` + name)
	return wrap(t.c.path, err)
}

func wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("catalog %s: %w", path, err)
}
