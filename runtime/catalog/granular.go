package catalog

import (
	"database/sql"
	"errors"
	"fmt"
)

// ItemByID returns one item version by its id (items.id), whatever its
// account; ErrNotFound when there is none.
func (c *Catalog) ItemByID(id int64) (Item, error) {
	rows, err := c.db.Query(`SELECT `+itemColumns+` FROM items WHERE id = ?`, id)
	if err != nil {
		return Item{}, fmt.Errorf("catalog %s: item %d: %w", c.path, id, err)
	}
	items, err := scanItems(rows, c.path)
	if err != nil {
		return Item{}, err
	}
	if len(items) == 0 {
		return Item{}, fmt.Errorf("item %d: %w in the backup", id, ErrNotFound)
	}
	return items[0], nil
}

// ClosedItems returns an account's item versions that ended (valid_to)
// in [from, to], by end time: the candidates of a time-range undelete.
func (c *Catalog) ClosedItems(accountID, from, to int64) ([]Item, error) {
	rows, err := c.db.Query(`SELECT `+itemColumns+` FROM items WHERE account_id = ? AND valid_to >= ? AND valid_to <= ? ORDER BY valid_to, id`,
		accountID, from, to)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return scanItems(rows, c.path)
}

// Related returns the versions of an account that have a message's
// content (the same blob), the message's own included, by start time: a
// flag change keeps the content and a move copies it, so these are where
// a message went after a version ended and where it came from. The blob
// index answers it ("+account_id" keeps SQLite from scanning the
// account's items instead).
func (c *Catalog) Related(accountID int64, it *Item) ([]Item, error) {
	rows, err := c.db.Query(`SELECT `+itemColumns+` FROM items WHERE blob = ? AND +account_id = ? ORDER BY valid_from, id`, it.Blob[:], accountID)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return scanItems(rows, c.path)
}

// FolderVersionAt returns the version of an account's folder valid at an
// instant or, when the folder did not exist then, its last version
// before it; ErrNotFound when the folder never existed before at.
func (c *Catalog) FolderVersionAt(accountID int64, name string, at int64) (FolderVersion, error) {
	rows, err := c.db.Query(`SELECT `+folderColumns+` FROM folder_versions WHERE account_id = ? AND name = ? AND valid_from <= ?
		ORDER BY valid_from DESC, id DESC LIMIT 1`, accountID, name, at)
	if err != nil {
		return FolderVersion{}, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	fs, err := scanFolders(rows, c.path)
	if err != nil {
		return FolderVersion{}, err
	}
	if len(fs) == 0 {
		return FolderVersion{}, fmt.Errorf("folder %s: %w in the backup", name, ErrNotFound)
	}
	return fs[0], nil
}

// AccountByID returns an account by its id.
func (c *Catalog) AccountByID(id int64) (Account, error) {
	var a Account
	err := c.db.QueryRow(`SELECT id, name, first_seen, last_seen, coalesce(deleted_at, 0), exact_from FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &a.FirstSeen, &a.LastSeen, &a.DeletedAt, &a.ExactFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("account id %d: %w in the backup", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return a, nil
}
