package catalog

import (
	"context"
	"fmt"
)

// HistoryProblem is one defect CheckHistory found: Kind is "item",
// "history" or "account", Where names the row, What says what is wrong.
type HistoryProblem struct {
	Kind, Where, What string
}

// historyChecks are SQL queries that must return no rows in a well-formed
// catalog; each row names a defect.
var historyChecks = []struct {
	kind, what, query string
}{
	{"item", "refers to a blob the catalog does not have",
		`SELECT 'item ' || i.id || ' (' || i.folder || '/' || i.name || ')' FROM items i LEFT JOIN blobs b ON b.id = i.blob WHERE b.id IS NULL`},
	{"history", "has a version that ends before it starts",
		`SELECT 'item ' || id FROM items WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		 UNION ALL SELECT 'folder version ' || id FROM folder_versions WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		 UNION ALL SELECT 'account version ' || id FROM account_versions WHERE valid_to IS NOT NULL AND valid_to <= valid_from`},
	{"history", "overlaps an earlier version of the same message",
		`SELECT 'item ' || id || ' (' || folder || '/' || base || ')' FROM (
		   SELECT id, folder, base, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id, folder, base ORDER BY valid_from, id) AS prev_to
		   FROM items) WHERE prev_to > valid_from`},
	{"history", "overlaps an earlier version of the same folder",
		`SELECT 'folder ' || name FROM (
		   SELECT name, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id, name ORDER BY valid_from, id) AS prev_to
		   FROM folder_versions) WHERE prev_to > valid_from`},
	{"history", "overlaps an earlier version of the account state",
		`SELECT 'account version ' || id FROM (
		   SELECT id, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id ORDER BY valid_from, id) AS prev_to
		   FROM account_versions) WHERE prev_to > valid_from`},
	{"account", "is deleted but still has current versions",
		`SELECT 'account ' || a.name FROM accounts a WHERE a.deleted_at IS NOT NULL AND (
		   EXISTS (SELECT 1 FROM items WHERE account_id = a.id AND valid_to IS NULL) OR
		   EXISTS (SELECT 1 FROM folder_versions WHERE account_id = a.id AND valid_to IS NULL))`},
	{"item", "lies in a folder that does not exist at the same time",
		`SELECT 'item ' || i.id || ' (' || i.folder || '/' || i.name || ')' FROM items i WHERE i.valid_to IS NULL AND NOT EXISTS (
		   SELECT 1 FROM folder_versions f WHERE f.account_id = i.account_id AND f.name = i.folder AND f.valid_to IS NULL)`},
}

// CheckHistory counts the items and runs the history checks: every item
// refers to a known blob, no version ends before it starts or overlaps
// another of the same message, folder or account state, a deleted account
// has no current versions, and every current item lies in a current
// folder. It calls fn for each defect, at most limit per check, and
// returns the number of items. Nothing is repaired.
func (c *Catalog) CheckHistory(ctx context.Context, limit int, fn func(HistoryProblem)) (items int64, err error) {
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&items); err != nil {
		return 0, fmt.Errorf("catalog: %w", err)
	}
	for _, hc := range historyChecks {
		if err := c.runCheck(ctx, hc.kind, hc.what, hc.query, limit, fn); err != nil {
			return items, err
		}
	}
	return items, nil
}

func (c *Catalog) runCheck(ctx context.Context, kind, what, query string, limit int, fn func(HistoryProblem)) error {
	rows, err := c.db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("catalog check %q: %w", what, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var where string
		if err := rows.Scan(&where); err != nil {
			return fmt.Errorf("catalog check %q: %w", what, err)
		}
		if n++; n <= limit {
			fn(HistoryProblem{Kind: kind, Where: where, What: what})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("catalog check %q: %w", what, err)
	}
	return nil
}

// QuickCheck runs SQLite's quick_check on the catalog: "ok", or what it
// found.
func (c *Catalog) QuickCheck(ctx context.Context) (string, error) {
	var integrity string
	if err := c.db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&integrity); err != nil {
		return "", fmt.Errorf("catalog integrity check: %w", err)
	}
	return integrity, nil
}
