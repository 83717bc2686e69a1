package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// searchMmap is how much of the catalog file a search maps.
const searchMmap = 1 << 30

// SearchQuery says which messages of an account a search returns. Empty
// fields do not filter.
type SearchQuery struct {
	// Sender matches a substring of From, Recipient one of To or Cc,
	// Subject one of Subject, all case-insensitively (addresses and
	// display names alike).
	Sender, Recipient, Subject string
	// MessageID matches the Message-ID exactly (angle brackets optional).
	MessageID string
	// Folder keeps the messages of one folder (its name, "INBOX",
	// "Projects/2026").
	Folder string
	// Since and Before bound the received date (the item's mtime, IMAP's
	// INTERNALDATE), Unix ns: Since <= date < Before. 0 leaves a side
	// open.
	Since, Before int64
	// At, when not 0, searches the messages present at that instant (Unix
	// ns); otherwise every message the account's history holds, current or
	// deleted, each once in its latest version.
	At int64
	// Deleted keeps the messages that are no longer present.
	Deleted bool
	// Limit, when above 0, bounds the messages returned.
	Limit int
}

// headerFilter reports whether the query filters on headers.
func (q *SearchQuery) headerFilter() bool {
	return q.Sender != "" || q.Recipient != "" || q.Subject != "" || q.MessageID != ""
}

// Found is one message a search returns.
type Found struct {
	// Item is the version shown: the latest one, or the one present at
	// SearchQuery.At. Its ID is the item id that restore item takes.
	Item Item
	// Headers is nil while the message's headers are not indexed yet.
	Headers *Headers
	// DeletedAt is when the message stopped being present (deleted,
	// expunged, or moved out of its folder); 0 while it is present.
	DeletedAt int64
}

// SearchResult is the answer of a search.
type SearchResult struct {
	Account  Account
	Messages []Found
	// Truncated is set when Limit cut the list short.
	Truncated bool
	// Unindexed counts the messages that header filters could not be
	// checked against because their headers are not indexed yet (see the
	// agent's header_index status); they are not in Messages.
	Unindexed int64
}

// Search finds messages of an account, ordered by received date. It only
// reads, so it never waits for a writer.
func (c *Catalog) Search(account string, q SearchQuery) (*SearchResult, error) {
	a, err := c.AccountByName(account)
	if err != nil {
		return nil, err
	}
	if q.Since != 0 && q.Before != 0 && q.Before <= q.Since {
		return nil, fmt.Errorf("search: before must be later than since")
	}
	// latest holds the latest version of every message (folder and base
	// name): versions of a message are inserted in time order, so it is
	// the highest id.
	var sb strings.Builder
	args := []any{a.ID}
	sb.WriteString(`WITH latest AS (SELECT folder, base, max(id) AS id FROM items WHERE account_id = ?1`)
	if q.Folder != "" {
		sb.WriteString(` AND folder = ?`)
		args = append(args, q.Folder)
	}
	sb.WriteString(` GROUP BY folder, base)`)
	// deleted is when the message of item i stopped being present: its
	// latest version's end. Without At, i is that version; with At, a
	// version still current is present, and only the others look their
	// message's latest version up (the latest table is built, and
	// indexed, only when one does).
	deleted := `coalesce(i.valid_to, 0)`
	if q.At != 0 {
		deleted = `CASE WHEN i.valid_to IS NULL THEN 0 ELSE (SELECT coalesce(l.valid_to, 0) FROM latest k JOIN items l ON l.id = k.id
			WHERE k.folder = i.folder AND k.base = i.base) END`
	}
	sb.WriteString(` SELECT ` + searchItemColumns + `, ` + deleted + `,
		h.blob IS NOT NULL, coalesce(h.sender, ''), coalesce(h.recipients, ''), coalesce(h.cc, ''), coalesce(h.subject, ''),
		coalesce(h.date, 0), coalesce(h.message_id, '')`)
	if q.At == 0 {
		sb.WriteString(` FROM latest k JOIN items i ON i.id = k.id`)
	} else {
		sb.WriteString(` FROM items i`)
	}
	sb.WriteString(` LEFT JOIN blob_headers h ON h.blob = i.blob WHERE i.account_id = ?1`)
	if q.At != 0 {
		sb.WriteString(` AND i.valid_from <= ? AND (i.valid_to IS NULL OR i.valid_to > ?)`)
		args = append(args, q.At, q.At)
		if q.Folder != "" {
			sb.WriteString(` AND i.folder = ?`)
			args = append(args, q.Folder)
		}
	}
	if q.Deleted {
		sb.WriteString(` AND i.valid_to IS NOT NULL AND ` + deleted + ` != 0`)
	}
	if q.Since != 0 {
		sb.WriteString(` AND i.mtime >= ?`)
		args = append(args, q.Since)
	}
	if q.Before != 0 {
		sb.WriteString(` AND i.mtime < ?`)
		args = append(args, q.Before)
	}
	if q.headerFilter() {
		var conds []string
		for _, f := range []struct{ col, want string }{
			{"h.sender_lc", q.Sender}, {"h.recipients_lc", q.Recipient}, {"h.subject_lc", q.Subject},
		} {
			if f.want != "" {
				conds = append(conds, `instr(`+f.col+`, ?) > 0`)
				args = append(args, strings.ToLower(f.want))
			}
		}
		if q.MessageID != "" {
			conds = append(conds, `h.message_id = ?`)
			args = append(args, NormalizeMessageID(q.MessageID))
		}
		sb.WriteString(` AND (h.blob IS NULL OR (` + strings.Join(conds, ` AND `) + `))`)
	}
	sb.WriteString(` ORDER BY i.mtime, i.id`)
	ctx := context.Background()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: searching %s: %w", c.path, account, err)
	}
	defer conn.Close()
	// A search touches every row of the account in key order, not file
	// order: reading the pages through a memory map (the kernel's page
	// cache, shared and reclaimable) rather than SQLite's small private
	// cache saves a read system call per page, and the GROUP BY sorts in
	// memory.
	if _, err := conn.ExecContext(ctx, `PRAGMA mmap_size = `+strconv.Itoa(searchMmap)+`; PRAGMA temp_store = MEMORY`); err != nil {
		return nil, fmt.Errorf("catalog %s: searching %s: %w", c.path, account, err)
	}
	rows, err := conn.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: searching %s: %w", c.path, account, err)
	}
	defer rows.Close()
	res := &SearchResult{Account: a, Messages: []Found{}}
	for rows.Next() {
		var f Found
		var blob []byte
		var ino int64
		var kw string
		var indexed bool
		var h Headers
		it := &f.Item
		if err := rows.Scan(&it.ID, &it.AccountID, &it.Folder, &it.Base, &it.Subdir, &it.Name, &blob, &it.Size, &it.MTime, &ino,
			&it.Flags, &kw, &it.UID, &it.Owner.UID, &it.Owner.GID, &it.Owner.Mode, &it.ValidFrom, &it.ValidTo,
			&f.DeletedAt, &indexed, &h.From, &h.To, &h.Cc, &h.Subject, &h.Date, &h.MessageID); err != nil {
			return nil, fmt.Errorf("catalog %s: searching %s: %w", c.path, account, err)
		}
		copy(it.Blob[:], blob)
		it.Ino = uint64(ino)
		it.Keywords = splitList(kw)
		switch {
		case indexed:
			f.Headers = &h
		case q.headerFilter():
			res.Unindexed++
			continue
		}
		if q.Limit > 0 && len(res.Messages) == q.Limit {
			res.Truncated = true
			continue // keep counting the unindexed
		}
		res.Messages = append(res.Messages, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: searching %s: %w", c.path, account, err)
	}
	return res, nil
}

// searchItemColumns is itemColumns of the item alias i.
const searchItemColumns = `i.id, i.account_id, i.folder, i.base, i.subdir, i.name, i.blob, i.size, i.mtime, i.ino, i.flags, i.keywords,
	i.uid, i.fuid, i.fgid, i.fmode, i.valid_from, coalesce(i.valid_to, 0)`
