package repo

import (
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// AppendBlob appends a blob's content, located through the catalog and
// read (and checked) from its pack, to dst and returns the extended
// slice; pass dst[:0] of a reused buffer to read without allocating.
func (r *Repo) AppendBlob(dst []byte, id catalog.BlobID) ([]byte, error) {
	ref, err := r.Catalog.Blob(id)
	if err != nil {
		return dst, err
	}
	out, err := r.Packs.AppendBlob(dst, pack.ID(id), ref)
	if err != nil {
		return dst, fmt.Errorf("blob %x: %w", id[:8], err)
	}
	return out, nil
}
