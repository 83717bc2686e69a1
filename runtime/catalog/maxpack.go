package catalog

import (
	"database/sql"
	"fmt"
)

// LastPack returns the highest pack id any blob is stored in, and the end
// of the last of its blobs (offset + length) in it; ok is false when the
// catalog has no blob.
func (c *Catalog) LastPack() (id uint32, end int64, ok bool, err error) {
	var p, e sql.NullInt64
	err = c.db.QueryRow(`SELECT pack, max(offset + length) FROM blobs WHERE pack = (SELECT max(pack) FROM blobs)`).Scan(&p, &e)
	if err != nil && err != sql.ErrNoRows {
		return 0, 0, false, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return uint32(p.Int64), e.Int64, p.Valid, nil
}
