package catalog

import (
	"fmt"
)

// restoresSQL creates the log of restores made into accounts (a table
// added within format version 1: an older mailkeep ignores it).
const restoresSQL = `
CREATE TABLE IF NOT EXISTS restores (
	id        INTEGER PRIMARY KEY,
	account   TEXT NOT NULL,
	kind      TEXT NOT NULL,
	source    TEXT NOT NULL,
	instant   INTEGER NOT NULL,
	started   INTEGER NOT NULL,
	finished  INTEGER NOT NULL,
	messages  INTEGER NOT NULL,
	outcome   TEXT NOT NULL,
	operation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS restores_account ON restores(account, started);
`

// Restore is one restore written into an account, as logged for its
// history.
type Restore struct {
	ID int64
	// Account is the account written into; Source the account restored
	// from (the same unless the restore was made with -to).
	Account, Source string
	// Kind names the restore: "account", "item", "undelete",
	// "into-folder".
	Kind string
	// Instant is the instant restored (Unix ns; 0 when the restore was of
	// chosen items rather than of an instant).
	Instant           int64
	Started, Finished int64
	// Messages counts the messages written.
	Messages int
	// Outcome is "ok" or the error that stopped the restore part-way.
	Outcome string
	// Operation is the agent operation that made it.
	Operation string
}

// LogRestore records a restore made into an account.
func (c *Catalog) LogRestore(r Restore) error {
	_, err := c.db.Exec(`INSERT INTO restores(account, kind, source, instant, started, finished, messages, outcome, operation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Account, r.Kind, r.Source, r.Instant, r.Started, r.Finished, r.Messages, r.Outcome, r.Operation)
	if err != nil {
		return fmt.Errorf("catalog %s: logging the restore into %s: %w", c.path, r.Account, err)
	}
	return nil
}

// Restores returns the restores made into an account that started at or
// after since, oldest first.
func (c *Catalog) Restores(account string, since int64) ([]Restore, error) {
	rows, err := c.db.Query(`SELECT id, account, kind, source, instant, started, finished, messages, outcome, operation
		FROM restores WHERE account = ? AND started >= ? ORDER BY started, id`, account, since)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	defer rows.Close()
	var out []Restore
	for rows.Next() {
		var r Restore
		if err := rows.Scan(&r.ID, &r.Account, &r.Kind, &r.Source, &r.Instant, &r.Started, &r.Finished, &r.Messages, &r.Outcome, &r.Operation); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", c.path, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return out, nil
}
