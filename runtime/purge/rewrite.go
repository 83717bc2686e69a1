package purge

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// rewriteBatchBytes is how many live bytes a rewrite batch copies before it
// syncs, commits and deletes the packs it emptied (a variable for tests).
var rewriteBatchBytes int64 = 64 << 20

// removePacks deletes the packs no committed catalog entry refers to.
// Each is checked again just before: a crash or cancellation in between
// leaves unreferenced packs, which the next purge deletes.
func (p *purger) removePacks(ctx context.Context) error {
	for _, st := range p.plan.remove {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := p.r.Catalog.PackRefs(st.id)
		if err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("pack %08x: the catalog refers to %d blobs in it; not deleting it", st.id, n)
		}
		if err := p.r.Packs.Remove(st.id); err != nil {
			return err
		}
		p.res.PacksDeleted++
		p.res.BytesFreed += st.size
		hook("pack-removed")
	}
	return nil
}

// copied is one blob whose record was copied to a new place.
type copied struct {
	id       catalog.BlobID
	from, to catalog.BlobRef
}

// batch is the packs copied since the last commit.
type batch struct {
	packs  []packState
	moves  []copied
	copied int64
}

// rewritePacks copies the live records of each pack past the threshold into
// the pack being written, then, batch by batch: syncs the copies, commits
// the catalog pointing at them, and deletes the old packs. A crash before
// the commit leaves unreferenced copies; after it, unreferenced old packs;
// the next purge reclaims either.
func (p *purger) rewritePacks(ctx context.Context) error {
	var b batch
	for _, st := range p.plan.rewrite {
		if err := ctx.Err(); err != nil {
			return errors.Join(err, p.flush(&b))
		}
		if err := p.r.CheckSpace(st.live); err != nil {
			var se *repo.SpaceError
			if errors.As(err, &se) {
				p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("rewriting packs stopped: %v", err))
				break
			}
			return errors.Join(err, p.flush(&b))
		}
		moves, err := p.copyPack(st)
		var ce *pack.CorruptError
		if errors.As(err, &ce) {
			// The copies made are unreferenced and go with a later purge.
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("pack %08x not rewritten: %v (run mailkeep verify -deep)", st.id, err))
			continue
		}
		if err != nil {
			return errors.Join(err, p.flush(&b))
		}
		b.packs = append(b.packs, st)
		b.moves = append(b.moves, moves...)
		b.copied += st.live
		if b.copied >= rewriteBatchBytes {
			if err := p.flush(&b); err != nil {
				return err
			}
		}
	}
	return p.flush(&b)
}

// copyPack copies the live records of one pack.
func (p *purger) copyPack(st packState) ([]copied, error) {
	blobs, err := p.r.Catalog.BlobsInPack(st.id)
	if err != nil {
		return nil, err
	}
	moves := make([]copied, 0, len(blobs))
	for _, b := range blobs {
		loc, err := p.r.Packs.CopyRecord(pack.ID(b.ID), b.Ref)
		if err != nil {
			return nil, err
		}
		moves = append(moves, copied{id: b.ID, from: b.Ref, to: loc})
	}
	return moves, nil
}

// flush makes a batch's copies durable, repoints the catalog at them in
// one transaction and, once that is committed, deletes the old packs.
func (p *purger) flush(b *batch) error {
	if len(b.packs) == 0 {
		return nil
	}
	defer func() { *b = batch{} }()
	hook("rewrite-copied")
	if err := p.r.Packs.Sync(); err != nil {
		return fmt.Errorf("syncing rewritten packs: %w", err)
	}
	hook("rewrite-synced")
	tx, err := p.r.Catalog.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, m := range b.moves {
		if _, err := tx.MoveBlob(m.id, m.from, m.to); err != nil {
			return err
		}
	}
	var empty []packState
	for _, st := range b.packs {
		n, err := tx.PackRefs(st.id)
		if err != nil {
			return err
		}
		if n != 0 {
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("pack %08x: %d blobs still refer to it after the rewrite; kept", st.id, n))
			continue
		}
		empty = append(empty, st)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	hook("rewrite-committed")
	for _, st := range empty {
		if err := p.r.Packs.Remove(st.id); err != nil {
			return err
		}
		p.res.PacksRewritten++
		p.res.BytesFreed += st.size - st.live
		p.res.BytesCopied += st.live
		hook("rewrite-removed")
	}
	return nil
}
