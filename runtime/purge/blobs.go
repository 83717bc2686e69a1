package purge

import "github.com/mailkeep/mailkeep/runtime/catalog"

// dropBlobs deletes from the catalog every blob no item refers to any more
// (those of the versions just removed, and any left by an older run) and
// counts them. A purge that drops blobs
// bumps the catalog's purge generation, so that a writer caching the set of
// known blobs reloads it.
func (p *purger) dropBlobs(tx *catalog.Tx) error {
	n, err := tx.DropUnreferencedBlobs(func(catalog.BlobID, catalog.BlobRef) {})
	if err != nil {
		return err
	}
	p.res.BlobsFreed = n
	p.res.Rows.Blobs = n
	if n > 0 {
		if err := tx.BumpPurgeGeneration(); err != nil {
			return err
		}
	}
	return nil
}
