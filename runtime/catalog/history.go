package catalog

import (
	"fmt"
)

// AccountVersions returns every account-level version of an account,
// oldest first.
func (c *Catalog) AccountVersions(accountID int64) ([]AccountVersion, error) {
	rows, err := c.db.Query(`SELECT `+accountVersionColumns+` FROM account_versions WHERE account_id = ? ORDER BY valid_from, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return scanAccountVersions(rows, c.path)
}

// FolderVersions returns every folder version of an account, oldest
// first.
func (c *Catalog) FolderVersions(accountID int64) ([]FolderVersion, error) {
	rows, err := c.db.Query(`SELECT `+folderColumns+` FROM folder_versions WHERE account_id = ? ORDER BY valid_from, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return scanFolders(rows, c.path)
}

// Removal counts the messages that went from one folder at one instant:
// item versions that ended then with no version of the same content
// starting at that instant (a flag change or a move is not a removal).
type Removal struct {
	At       int64
	Folder   string
	Messages int
}

// Removals lists an account's message removals at or after since, oldest
// first.
func (c *Catalog) Removals(accountID, since int64) ([]Removal, error) {
	rows, err := c.db.Query(`SELECT i.valid_to, i.folder, count(*) FROM items i
		WHERE i.account_id = ? AND i.valid_to IS NOT NULL AND i.valid_to >= ? AND NOT EXISTS (
			SELECT 1 FROM items j INDEXED BY items_blob WHERE j.blob = i.blob AND j.account_id = i.account_id AND j.valid_from = i.valid_to)
		GROUP BY i.valid_to, i.folder ORDER BY i.valid_to, i.folder`, accountID, since)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	var out []Removal
	for rows.Next() {
		var r Removal
		if err := rows.Scan(&r.At, &r.Folder, &r.Messages); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", c.path, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return out, nil
}

// CarriedOver counts the messages that left folder from at instant at and
// appeared in folder to at the same instant under the same Maildir base
// name: a folder rename (Maildir renames the directory, and the files in it
// keep their names).
func (c *Catalog) CarriedOver(accountID int64, from, to string, at int64) (int, error) {
	var n int
	err := c.db.QueryRow(`SELECT count(*) FROM (
		SELECT base FROM items WHERE account_id = ? AND valid_to = ? AND folder = ?
		INTERSECT SELECT base FROM items WHERE account_id = ? AND valid_from = ? AND folder = ?)`,
		accountID, at, from, accountID, at, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return n, nil
}

// CountItemsAt counts the messages of an account, or of one of its folders
// when folder is not nil, valid at an instant.
func (c *Catalog) CountItemsAt(accountID int64, folder *string, at int64) (int, error) {
	q, args := `SELECT count(*) FROM items WHERE account_id = ? AND `+validAt, []any{accountID, at, at}
	if folder != nil {
		q += ` AND folder = ?`
		args = append(args, *folder)
	}
	var n int
	if err := c.db.QueryRow(q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return n, nil
}

// CountFoldersAt counts the folders of an account valid at an instant.
func (c *Catalog) CountFoldersAt(accountID, at int64) (int, error) {
	var n int
	if err := c.db.QueryRow(`SELECT count(*) FROM folder_versions WHERE account_id = ? AND `+validAt, accountID, at, at).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return n, nil
}
