package catalog

import (
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Current is what the catalog holds of an account now: what SmartScan
// diffs the mail store against.
type Current struct {
	// Account is the account; Known is false, and the rest empty, when the
	// catalog has never seen it.
	Account Account
	Known   bool
	// Folders are the current version of every folder (items are read
	// with OpenItems, for the folders that need them).
	Folders []FolderVersion
	// Stamps are the folder stamps of the last listings, by folder
	// directory.
	Stamps map[string]Stamp
}

// Current reads an account's current state. It reads outside any write
// transaction, so a writer that holds its transaction open (SmartScan
// recording other accounts) does not block it; the caller must keep other
// writers of that account out meanwhile.
func (c *Catalog) Current(name string) (*Current, error) {
	cur := &Current{Stamps: map[string]Stamp{}}
	var err error
	cur.Account, cur.Known, err = lookupAccount(c.db, c.path, name)
	if err != nil || !cur.Known {
		return cur, err
	}
	id := cur.Account.ID
	rows, err := c.db.Query(`SELECT `+folderColumns+` FROM folder_versions WHERE account_id = ? AND valid_to IS NULL`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	if cur.Folders, err = scanFolders(rows, c.path); err != nil {
		return nil, err
	}
	rows, err = c.db.Query(`SELECT dir, new_mtime, cur_mtime, uidlist_mtime, keywords_mtime, listed_at FROM folder_stamps WHERE account_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var dir string
		var s Stamp
		if err := rows.Scan(&dir, &s.New, &s.Cur, &s.UIDList, &s.Keywords, &s.ListedAt); err != nil {
			return nil, fmt.Errorf("catalog %s: reading stamps: %w", c.path, err)
		}
		cur.Stamps[dir] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading stamps: %w", c.path, err)
	}
	return cur, nil
}

// OpenItems returns the current version of the items of an account that
// are in none of the folders named in except. Like Current, it reads
// outside any write transaction.
func (c *Catalog) OpenItems(accountID int64, except []string) ([]Item, error) {
	q := `SELECT ` + itemColumns + ` FROM items WHERE account_id = ? AND valid_to IS NULL`
	args := []any{accountID}
	if len(except) > 0 {
		// One parameter whatever the number of folders (SQLite limits
		// the number of parameters of a statement): a JSON array of the
		// names in hex, since JSON would replace the bytes of a name that
		// is not UTF-8.
		q += ` AND folder NOT IN (SELECT CAST(unhex(value) AS TEXT) FROM json_each(?))`
		args = append(args, hexList(except))
	}
	rows, err := c.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return scanItems(rows, c.path)
}

// CountOpenItems returns how many items of an account are current.
func (c *Catalog) CountOpenItems(accountID int64) (int64, error) {
	var n int64
	err := c.db.QueryRow(`SELECT count(*) FROM items WHERE account_id = ? AND valid_to IS NULL`, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return n, nil
}

// rowQuerier is a transaction or the database.
type rowQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// lookupAccount returns the account with that name, and false when the
// catalog has none.
func lookupAccount(q rowQuerier, path, name string) (Account, bool, error) {
	a := Account{Name: name}
	var deleted sql.NullInt64
	err := q.QueryRow(`SELECT id, first_seen, last_seen, deleted_at, exact_from FROM accounts WHERE name = ?`, name).
		Scan(&a.ID, &a.FirstSeen, &a.LastSeen, &deleted, &a.ExactFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("catalog %s: account %s: %w", path, name, err)
	}
	a.DeletedAt = deleted.Int64
	return a, true, nil
}

// hexList is names as a JSON array of their bytes in hex, which SQLite
// turns back into the exact names with CAST(unhex(value) AS TEXT).
func hexList(names []string) string {
	var b strings.Builder
	b.Grow(2 + len(names)*32)
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(hex.EncodeToString([]byte(n)))
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}
