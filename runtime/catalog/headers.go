package catalog

import (
	"fmt"
	"strings"
)

// Headers are the headers of one message that a search reads, decoded for
// display (RFC 2047 encoded words decoded, folding and runs of white space
// collapsed, valid UTF-8). They are recorded per blob, in blob_headers.
type Headers struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Cc      string `json:"cc"`
	Subject string `json:"subject"`
	// Date is the Date: header, Unix ns; 0 when it is missing or does not
	// parse.
	Date int64 `json:"date"`
	// MessageID is the Message-ID without its angle brackets.
	MessageID string `json:"message_id"`
}

// BlobHeaders pairs a blob with its headers, for recording.
type BlobHeaders struct {
	Blob    BlobID
	Headers Headers
}

// headersSQL creates the table of search headers. It was added within
// format version 1: a catalog made by an older mailkeep lacks rows for the
// blobs it stored (the agent indexes them in the background), and an older
// mailkeep that purges blobs drops their rows through the cascade. The
// *_lc columns are the lower-cased values that searches compare with.
// It is a rowid table with a unique index on blob rather than a table
// keyed by blob: its rows are large, and a backup inserts them in random
// blob order, which in a WITHOUT ROWID table rewrites pages all over the
// table at every commit; here they are appended, and only the small index
// entries land in random places.
const headersSQL = `
CREATE TABLE IF NOT EXISTS blob_headers (
	id            INTEGER PRIMARY KEY,
	blob          BLOB NOT NULL UNIQUE REFERENCES blobs(id) ON DELETE CASCADE,
	sender        TEXT NOT NULL,
	recipients    TEXT NOT NULL,
	cc            TEXT NOT NULL,
	subject       TEXT NOT NULL,
	date          INTEGER NOT NULL,
	message_id    TEXT NOT NULL,
	sender_lc     TEXT NOT NULL,
	recipients_lc TEXT NOT NULL,
	subject_lc    TEXT NOT NULL
);
`

// headersBatch is how many rows one INSERT of AddHeaders carries (10
// columns a row, under SQLite's historical limit of 999 parameters).
const headersBatch = 90

// headerArgs appends the column values of one blob_headers row.
func headerArgs(args []any, b *BlobHeaders) []any {
	h := &b.Headers
	return append(args, b.Blob[:], h.From, h.To, h.Cc, h.Subject, h.Date, h.MessageID,
		strings.ToLower(h.From), strings.ToLower(h.To+"\n"+h.Cc), strings.ToLower(h.Subject))
}

const headersInsert = `INSERT OR IGNORE INTO blob_headers(blob, sender, recipients, cc, subject, date, message_id, sender_lc, recipients_lc, subject_lc) VALUES `
const headersRow = `, (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AddHeaders records the headers of blobs this transaction added (or
// that the catalog has); headers already recorded are kept.
func (t *Tx) AddHeaders(rows []BlobHeaders) error {
	for len(rows) > 0 {
		n := min(len(rows), headersBatch)
		args := make([]any, 0, 10*n)
		for i := range rows[:n] {
			args = headerArgs(args, &rows[i])
		}
		if _, err := t.exec(headersInsert+headersRow[2:]+strings.Repeat(headersRow, n-1), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// AddHeadersOfKnown records headers like AddHeaders, skipping the blobs
// the catalog no longer has (a purge dropped them since they were read).
// It returns how many rows it added.
func (t *Tx) AddHeadersOfKnown(rows []BlobHeaders) (int64, error) {
	var added int64
	for i := range rows {
		res, err := t.exec(`INSERT OR IGNORE INTO blob_headers(blob, sender, recipients, cc, subject, date, message_id, sender_lc, recipients_lc, subject_lc)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM blobs WHERE id = ?)`,
			append(headerArgs(nil, &rows[i]), rows[i].Blob[:])...)
		if err != nil {
			return added, err
		}
		n, _ := res.RowsAffected()
		added += n
	}
	return added, nil
}

// HeadersOf returns the recorded headers of blobs; a blob whose headers
// are not recorded (not indexed yet, or unknown) is absent from the map.
func (c *Catalog) HeadersOf(ids []BlobID) (map[BlobID]Headers, error) {
	out := make(map[BlobID]Headers, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i := range ids[:n] {
			args[i] = ids[i][:]
		}
		rows, err := c.db.Query(`SELECT blob, sender, recipients, cc, subject, date, message_id FROM blob_headers WHERE blob IN (?`+
			strings.Repeat(`, ?`, n-1)+`)`, args...)
		if err != nil {
			return nil, wrap(c.path, err)
		}
		var raw []byte
		for rows.Next() {
			var h Headers
			if err := rows.Scan(&raw, &h.From, &h.To, &h.Cc, &h.Subject, &h.Date, &h.MessageID); err != nil {
				rows.Close()
				return nil, wrap(c.path, err)
			}
			var id BlobID
			copy(id[:], raw)
			out[id] = h
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap(c.path, err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// UnindexedBlobs returns up to limit blobs after the id after (in id
// order) whose headers are not recorded, for the background indexing of
// a catalog made by an older mailkeep.
func (c *Catalog) UnindexedBlobs(after BlobID, limit int) ([]StoredBlob, error) {
	rows, err := c.db.Query(`SELECT id, pack, offset, length, size FROM blobs b WHERE id > ?
		AND NOT EXISTS (SELECT 1 FROM blob_headers h WHERE h.blob = b.id) ORDER BY id LIMIT ?`, after[:], limit)
	if err != nil {
		return nil, wrap(c.path, err)
	}
	return c.scanStoredBlobs(rows)
}

// CountUnindexed counts the blobs whose headers are not recorded.
func (c *Catalog) CountUnindexed() (int64, error) {
	var n int64
	err := c.db.QueryRow(`SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM blob_headers h WHERE h.blob = b.id)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: counting blobs without headers: %w", c.path, err)
	}
	return n, nil
}

// NormalizeMessageID returns the first <id> of a Message-ID value without
// its angle brackets, or the value trimmed of white space and brackets
// when it has none: how recorded Message-IDs and searched ones compare.
func NormalizeMessageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 1 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	return strings.Trim(v, "<> \t")
}
