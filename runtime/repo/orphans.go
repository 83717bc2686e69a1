package repo

import (
	"errors"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// orphans are the contents a killed process stored and never committed;
// see Repo.Orphans.
type orphans struct {
	found bool
	gen   int64 // the purge generation they were found in
	refs  map[catalog.BlobID]catalog.BlobRef
}

// Orphans returns the intact records, in the packs written last before
// this Repo was opened, whose content no catalog blob row holds: what a
// SmartScan or realtime batch killed before its commit stored (its packs
// were written, its transaction lost). A scan adopts them instead of
// storing the same contents again, which after a crash during a first
// backup would otherwise write most of the repository twice.
//
// They are looked for once, on the first call, after the catalog's last
// blob: in the rest of its pack and in every pack after it (those written
// by this Repo's own Store excluded), read once and checked record by
// record (CRC32C); after a clean stop there is nothing to read. Every pack
// they are in is fsynced before they are returned: the catalog may refer
// to them as soon as they are. Once a
// purge has run (it reclaims unreferenced records) Orphans returns nil.
func (r *Repo) Orphans() (map[catalog.BlobID]catalog.BlobRef, error) {
	r.orphanMu.Lock()
	defer r.orphanMu.Unlock()
	o := &r.orphans
	if !o.found {
		gen, err := r.Catalog.PurgeGeneration()
		if err != nil {
			return nil, err
		}
		refs, err := r.findOrphans()
		if err != nil {
			return nil, err // looked for again next time
		}
		o.found, o.gen, o.refs = true, gen, refs
	}
	gen, err := r.Catalog.PurgeGeneration()
	if err != nil {
		return nil, err
	}
	if gen != o.gen {
		o.refs = nil
	}
	return o.refs, nil
}

func (r *Repo) findOrphans() (map[catalog.BlobID]catalog.BlobRef, error) {
	last, end, ok, err := r.Catalog.LastPack()
	if err != nil {
		return nil, err
	}
	packs, err := r.Packs.Packs()
	if err != nil {
		return nil, err
	}
	refs := map[catalog.BlobID]catalog.BlobRef{}
	for _, p := range packs {
		from := int64(0)
		if ok && p.ID == last {
			from = end // what the catalog refers to ends there
		}
		if (ok && p.ID < last) || p.Size <= from || r.Packs.Writing(p.ID) {
			continue
		}
		found := 0
		err := r.Packs.CheckFrom(p.ID, from, func(id pack.ID, loc pack.Location) error {
			bid := catalog.BlobID(id)
			if _, dup := refs[bid]; dup {
				return nil
			}
			has, err := r.Catalog.HasBlob(bid)
			if err != nil || has {
				return err
			}
			refs[bid] = loc
			found++
			return nil
		})
		var ce *pack.CorruptError
		if err != nil && !errors.As(err, &ce) {
			return nil, err // damaged records are simply not adopted
		}
		if found > 0 {
			if err := r.Packs.SyncPack(p.ID); err != nil {
				return nil, err
			}
		}
	}
	return refs, nil
}
