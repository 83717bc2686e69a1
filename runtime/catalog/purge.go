package catalog

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// This file holds the catalog side of purge (package runtime/purge): the
// queries that find what retention lets go, the deletions, and the
// bookkeeping of blobs and pack files. Every method runs inside the purge's
// write transaction, except the read-only ones on *Catalog, which the pack
// rewrite uses between its transactions.

// Removed counts the catalog rows a purge step deleted, by table.
type Removed struct {
	Items           int64 `json:"items"`
	FolderVersions  int64 `json:"folder_versions"`
	AccountVersions int64 `json:"account_versions"`
	Accounts        int64 `json:"accounts"`
	Blobs           int64 `json:"blobs"`
}

// Add adds o's counts to r.
func (r *Removed) Add(o Removed) {
	r.Items += o.Items
	r.FolderVersions += o.FolderVersions
	r.AccountVersions += o.AccountVersions
	r.Accounts += o.Accounts
	r.Blobs += o.Blobs
}

// ExpiredItem is an item version that ended before a purge cutoff.
type ExpiredItem struct {
	ID        int64
	Folder    string
	Base      string
	Name      string
	Size      int64
	ValidFrom int64
	ValidTo   int64
}

// AccountsTx returns every account the catalog knows, by name, as the
// transaction sees them.
func (t *Tx) AccountsTx() ([]Account, error) {
	rows, err := t.tx.Query(`SELECT id, name, first_seen, last_seen, coalesce(deleted_at, 0), exact_from FROM accounts ORDER BY name`)
	if err != nil {
		return nil, wrap(t.c.path, err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.ID, &a.Name, &a.FirstSeen, &a.LastSeen, &a.DeletedAt, &a.ExactFrom); err != nil {
			return nil, wrap(t.c.path, err)
		}
		out = append(out, a)
	}
	return out, wrap(t.c.path, rows.Err())
}

// ExpiredItems calls fn for every item version of an account that ended
// strictly before the cutoff (valid_to < before), ordered by folder, base
// name and start, so that the versions of one message come together.
func (t *Tx) ExpiredItems(accountID, before int64, fn func(*ExpiredItem) error) error {
	rows, err := t.tx.Query(`SELECT id, folder, base, name, size, valid_from, valid_to FROM items
		WHERE account_id = ? AND valid_to < ? ORDER BY folder, base, valid_from`, accountID, before)
	if err != nil {
		return wrap(t.c.path, err)
	}
	defer rows.Close()
	var it ExpiredItem
	for rows.Next() {
		if err := rows.Scan(&it.ID, &it.Folder, &it.Base, &it.Name, &it.Size, &it.ValidFrom, &it.ValidTo); err != nil {
			return wrap(t.c.path, err)
		}
		if err := fn(&it); err != nil {
			return err
		}
	}
	return wrap(t.c.path, rows.Err())
}

// KeptItemKeys calls fn with the folder and base name of every item version
// of an account that a cutoff keeps: current, or ending at or after it.
// The slices are only valid during the call.
func (t *Tx) KeptItemKeys(accountID, before int64, fn func(folder, base []byte)) error {
	rows, err := t.tx.Query(`SELECT folder, base FROM items WHERE account_id = ? AND valid_to IS NULL
		UNION ALL SELECT folder, base FROM items WHERE account_id = ? AND valid_to >= ?`, accountID, accountID, before)
	if err != nil {
		return wrap(t.c.path, err)
	}
	defer rows.Close()
	var folder, base sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&folder, &base); err != nil {
			return wrap(t.c.path, err)
		}
		fn(folder, base)
	}
	return wrap(t.c.path, rows.Err())
}

// CountExpired counts the versions of an account (items, folders and
// account state) that ended strictly before the cutoff.
func (t *Tx) CountExpired(accountID, before int64) (int64, error) {
	var n int64
	err := t.tx.QueryRow(`SELECT
		(SELECT count(*) FROM items WHERE account_id = ?1 AND valid_to < ?2) +
		(SELECT count(*) FROM folder_versions WHERE account_id = ?1 AND valid_to < ?2) +
		(SELECT count(*) FROM account_versions WHERE account_id = ?1 AND valid_to < ?2)`, accountID, before).Scan(&n)
	return n, wrap(t.c.path, err)
}

// DeleteExpired deletes every version of an account (items, folders and
// account state) that ended strictly before the cutoff: no instant at or
// after the cutoff can see them. Blobs are left to DropUnreferencedBlobs.
func (t *Tx) DeleteExpired(accountID, before int64) (Removed, error) {
	var r Removed
	for _, d := range []struct {
		n     *int64
		table string
	}{{&r.Items, "items"}, {&r.FolderVersions, "folder_versions"}, {&r.AccountVersions, "account_versions"}} {
		res, err := t.exec(`DELETE FROM `+d.table+` WHERE account_id = ? AND valid_to < ?`, accountID, before)
		if err != nil {
			return r, err
		}
		*d.n, _ = res.RowsAffected()
	}
	return r, nil
}

// AccountSummary describes what an account held when it was last present:
// the messages and bytes valid at the instant at, and every item version
// it has.
func (t *Tx) AccountSummary(accountID, at int64) (messages, bytes, versions int64, err error) {
	err = t.tx.QueryRow(`SELECT count(*), coalesce(sum(size), 0) FROM items WHERE account_id = ? AND `+validAt,
		accountID, at, at).Scan(&messages, &bytes)
	if err == nil {
		err = t.tx.QueryRow(`SELECT count(*) FROM items WHERE account_id = ?`, accountID).Scan(&versions)
	}
	return messages, bytes, versions, wrap(t.c.path, err)
}

// DeleteAccountRows deletes an account with its whole history: every item,
// folder and account-state version, and the account itself.
func (t *Tx) DeleteAccountRows(accountID int64) (Removed, error) {
	var r Removed
	for _, d := range []struct {
		n     *int64
		table string
	}{{&r.Items, "items"}, {&r.FolderVersions, "folder_versions"}, {&r.AccountVersions, "account_versions"}} {
		res, err := t.exec(`DELETE FROM `+d.table+` WHERE account_id = ?`, accountID)
		if err != nil {
			return r, err
		}
		*d.n, _ = res.RowsAffected()
	}
	res, err := t.exec(`DELETE FROM accounts WHERE id = ?`, accountID)
	if err != nil {
		return r, err
	}
	r.Accounts, _ = res.RowsAffected()
	return r, nil
}

// RaiseExactFrom records that an account's history before at is no longer
// whole (see Account.ExactFrom); an earlier value stays if it is later.
func (t *Tx) RaiseExactFrom(accountID, at int64) error {
	_, err := t.exec(`UPDATE accounts SET exact_from = max(exact_from, ?) WHERE id = ?`, at, accountID)
	return err
}

// unreferencedBlobs selects the blobs no catalog row refers to. Every table
// that refers to blobs to keep them must be named here, or purge would drop
// its blobs; blob_headers only describes them, and its rows go with their
// blob (ON DELETE CASCADE).
const unreferencedBlobs = `SELECT id, pack, offset, length, size FROM blobs b
	WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.blob = b.id)`

// DropUnreferencedBlobs deletes every blob that no item refers to any more
// and calls fn for each, with where it was stored. The pack records stay
// until purge deletes or rewrites their packs.
func (t *Tx) DropUnreferencedBlobs(fn func(id BlobID, ref BlobRef)) (int64, error) {
	type dropped struct {
		id  BlobID
		ref BlobRef
	}
	rows, err := t.tx.Query(unreferencedBlobs)
	if err != nil {
		return 0, wrap(t.c.path, err)
	}
	var list []dropped
	for rows.Next() {
		var d dropped
		var raw []byte
		if err := rows.Scan(&raw, &d.ref.Pack, &d.ref.Offset, &d.ref.Length, &d.ref.Size); err != nil {
			rows.Close()
			return 0, wrap(t.c.path, err)
		}
		copy(d.id[:], raw)
		list = append(list, d)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, wrap(t.c.path, err)
	}
	for _, d := range list {
		if _, err := t.exec(`DELETE FROM blobs WHERE id = ?`, d.id[:]); err != nil {
			return 0, err
		}
		fn(d.id, d.ref)
	}
	return int64(len(list)), nil
}

// PackUse is how much of a pack file the catalog refers to.
type PackUse struct {
	Blobs int64 // blobs stored in the pack
	Bytes int64 // their record bytes
}

// PackUsage returns, for every pack the catalog refers to, how many blobs
// and record bytes it holds.
func (t *Tx) PackUsage() (map[uint32]PackUse, error) {
	return packUsage(t.tx, t.c.path)
}

// PackUsage is Tx.PackUsage outside a transaction.
func (c *Catalog) PackUsage() (map[uint32]PackUse, error) {
	return packUsage(c.db, c.path)
}

type querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

func packUsage(q querier, path string) (map[uint32]PackUse, error) {
	rows, err := q.Query(`SELECT pack, count(*), sum(length) FROM blobs GROUP BY pack`)
	if err != nil {
		return nil, wrap(path, err)
	}
	defer rows.Close()
	out := map[uint32]PackUse{}
	for rows.Next() {
		var id uint32
		var u PackUse
		if err := rows.Scan(&id, &u.Blobs, &u.Bytes); err != nil {
			return nil, wrap(path, err)
		}
		out[id] = u
	}
	return out, wrap(path, rows.Err())
}

// StoredBlob is a blob with its location.
type StoredBlob struct {
	ID  BlobID
	Ref BlobRef
}

// BlobsInPack returns the blobs the catalog says are in a pack, by offset.
func (c *Catalog) BlobsInPack(pack uint32) ([]StoredBlob, error) {
	rows, err := c.db.Query(`SELECT id, pack, offset, length, size FROM blobs WHERE pack = ? ORDER BY offset`, pack)
	if err != nil {
		return nil, wrap(c.path, err)
	}
	return c.scanStoredBlobs(rows)
}

// scanStoredBlobs reads rows of (id, pack, offset, length, size).
func (c *Catalog) scanStoredBlobs(rows *sql.Rows) ([]StoredBlob, error) {
	defer rows.Close()
	var out []StoredBlob
	var raw []byte
	for rows.Next() {
		var b StoredBlob
		if err := rows.Scan(&raw, &b.Ref.Pack, &b.Ref.Offset, &b.Ref.Length, &b.Ref.Size); err != nil {
			return nil, wrap(c.path, err)
		}
		copy(b.ID[:], raw)
		out = append(out, b)
	}
	return out, wrap(c.path, rows.Err())
}

// MoveBlob repoints a blob from one location to a copy of its record; it
// reports false, changing nothing, when the blob is no longer at from.
func (t *Tx) MoveBlob(id BlobID, from, to BlobRef) (bool, error) {
	if to.Length != from.Length || to.Size != from.Size {
		return false, fmt.Errorf("catalog %s: blob %x: moving a record of %d/%d bytes to one of %d/%d",
			t.c.path, id[:8], from.Length, from.Size, to.Length, to.Size)
	}
	res, err := t.exec(`UPDATE blobs SET pack = ?, offset = ? WHERE id = ? AND pack = ? AND offset = ?`,
		to.Pack, to.Offset, id[:], from.Pack, from.Offset)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PackRefs counts the blobs the catalog stores in a pack.
func (t *Tx) PackRefs(pack uint32) (int64, error) {
	var n int64
	err := t.queryRow(`SELECT count(*) FROM blobs WHERE pack = ?`, pack).Scan(&n)
	return n, wrap(t.c.path, err)
}

// PackRefs is Tx.PackRefs outside a transaction.
func (c *Catalog) PackRefs(pack uint32) (int64, error) {
	var n int64
	err := c.db.QueryRow(`SELECT count(*) FROM blobs WHERE pack = ?`, pack).Scan(&n)
	return n, wrap(c.path, err)
}

// purgeGenerationKey is the meta key counting the purges that dropped
// blobs.
const purgeGenerationKey = "purge_generation"

// BumpPurgeGeneration records that this transaction drops blobs. A writer
// that keeps the set of known blobs in memory (to store each content once)
// must reload it when PurgeGeneration changed since it loaded it, or it
// would refer to a blob that is gone.
func (t *Tx) BumpPurgeGeneration() error {
	_, err := t.exec(`INSERT INTO meta(key, value) VALUES (?, '1')
		ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`, purgeGenerationKey)
	return err
}

// PurgeGeneration returns how many purges dropped blobs from this catalog
// (0 when none did).
func (c *Catalog) PurgeGeneration() (int64, error) {
	return purgeGeneration(c.db, c.path)
}

// PurgeGeneration is Catalog.PurgeGeneration inside a transaction.
func (t *Tx) PurgeGeneration() (int64, error) {
	return purgeGeneration(t.tx, t.c.path)
}

func purgeGeneration(q querier, path string) (int64, error) {
	var s string
	err := q.QueryRow(`SELECT value FROM meta WHERE key = ?`, purgeGenerationKey).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(path, err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: bad %s %q", path, purgeGenerationKey, s)
	}
	return n, nil
}
