package catalog

import (
	"fmt"
)

// AccountAmount is how much of one account a query selected: a number of
// messages and their size in bytes.
type AccountAmount struct {
	Name  string
	Items int64
	Bytes int64
	// At is when the account was deleted, for DeletedAccounts; 0 otherwise.
	At int64
}

// EndedItems returns, per account, the messages whose history ended in
// [from, to): every version of the message (an account, folder and Maildir
// base name) is closed and its last version was closed in that span. They
// were deleted, or moved to another folder, and a purge with a cutoff in
// that span drops them, as package purge counts its removed items. Deleted
// accounts are left out: account retention governs them. Items and Bytes
// count each message once, with its last size.
func (c *Catalog) EndedItems(from, to int64) ([]AccountAmount, error) {
	// SQLite takes the bare column size from the row holding
	// max(valid_to): the message's last version.
	const q = `
SELECT a.name, count(*), coalesce(sum(e.size), 0)
FROM (
	SELECT account_id, max(valid_to) AS ended, size
	FROM items
	GROUP BY account_id, folder, base
	HAVING count(valid_to) = count(*)
) e
JOIN accounts a ON a.id = e.account_id
WHERE a.deleted_at IS NULL AND e.ended >= ? AND e.ended < ?
GROUP BY a.name
ORDER BY a.name`
	return c.amounts(q, false, from, to)
}

// DeletedAccounts returns the accounts deleted in [from, to), with the
// messages they held when they were deleted.
func (c *Catalog) DeletedAccounts(from, to int64) ([]AccountAmount, error) {
	const q = `
SELECT a.name,
	(SELECT count(*) FROM items i WHERE i.account_id = a.id AND i.valid_from < a.deleted_at AND i.valid_to = a.deleted_at),
	(SELECT coalesce(sum(size), 0) FROM items i WHERE i.account_id = a.id AND i.valid_from < a.deleted_at AND i.valid_to = a.deleted_at),
	a.deleted_at
FROM accounts a
WHERE a.deleted_at IS NOT NULL AND a.deleted_at >= ? AND a.deleted_at < ?
ORDER BY a.name`
	return c.amounts(q, true, from, to)
}

// CurrentAccounts returns the accounts that are not deleted, with their
// current messages.
func (c *Catalog) CurrentAccounts() ([]AccountAmount, error) {
	const q = `
SELECT a.name,
	(SELECT count(*) FROM items i WHERE i.account_id = a.id AND i.valid_to IS NULL),
	(SELECT coalesce(sum(size), 0) FROM items i WHERE i.account_id = a.id AND i.valid_to IS NULL)
FROM accounts a
WHERE a.deleted_at IS NULL
ORDER BY a.name`
	return c.amounts(q, false)
}

// amounts runs a query whose rows are name, items, bytes[, at].
func (c *Catalog) amounts(q string, withAt bool, args ...any) ([]AccountAmount, error) {
	rows, err := c.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	var out []AccountAmount
	for rows.Next() {
		var a AccountAmount
		dest := []any{&a.Name, &a.Items, &a.Bytes}
		if withAt {
			dest = append(dest, &a.At)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", c.path, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return out, nil
}
