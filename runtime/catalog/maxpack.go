package catalog

import (
	"database/sql"
	"fmt"
)

// LastPack returns the highest pack id any blob is stored in; ok is false
// when the catalog has no blob.
func (c *Catalog) LastPack() (id uint32, ok bool, err error) {
	var n sql.NullInt64
	if err := c.db.QueryRow(`SELECT max(pack) FROM blobs`).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return uint32(n.Int64), n.Valid, nil
}
