package repo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// VerifyOptions say how thoroughly to check.
type VerifyOptions struct {
	// Deep decompresses and re-hashes every blob; otherwise records are
	// checked by their framing and CRC.
	Deep bool
	// Progress, when set, counts pack records checked.
	Progress *VerifyProgress
}

// VerifyProgress is updated atomically while Verify runs.
type VerifyProgress struct {
	Total, Done, Bytes, Problems atomic.Int64
}

// Problem is one defect Verify found. Nothing is repaired.
type Problem struct {
	// Kind is "catalog", "pack", "blob", "item", "folder", "account" or
	// "history".
	Kind   string `json:"kind"`
	Where  string `json:"where"`
	Detail string `json:"detail"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Deep     bool      `json:"deep"`
	Packs    int       `json:"packs"`
	Records  int64     `json:"records"`
	Blobs    int64     `json:"blobs"`
	Items    int64     `json:"items"`
	Problems []Problem `json:"problems"`
	// Leftovers are harmless remains of an interrupted write: a torn tail
	// or records no catalog entry refers to.
	Leftovers []string `json:"leftovers,omitempty"`
}

// maxProblems bounds how many problems of one kind are listed.
const maxProblems = 1000

// Verify checks the repository: every pack is well framed (no half-written
// record except an unreferenced tail left by a crash), every blob the
// catalog names is intact where the catalog says, every item refers to a
// known blob, and every history is well formed. With Deep, every record is
// decompressed and re-hashed.
func (r *Repo) Verify(ctx context.Context, opts VerifyOptions) (*VerifyReport, error) {
	if opts.Progress == nil {
		opts.Progress = &VerifyProgress{}
	}
	rep := &VerifyReport{Deep: opts.Deep, Problems: []Problem{}}
	add := func(kind, where, format string, args ...any) {
		opts.Progress.Problems.Add(1)
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, Problem{Kind: kind, Where: where, Detail: fmt.Sprintf(format, args...)})
		}
	}
	refs := map[catalog.BlobID]catalog.BlobRef{}
	end := map[uint32]int64{} // end of the last referenced record per pack
	if err := r.Catalog.BlobIDs(func(id catalog.BlobID, ref catalog.BlobRef) {
		refs[id] = ref
		if e := ref.Offset + int64(ref.Length); e > end[ref.Pack] {
			end[ref.Pack] = e
		}
	}); err != nil {
		return nil, err
	}
	rep.Blobs = int64(len(refs))
	opts.Progress.Total.Store(int64(len(refs)))

	packs, err := r.Packs.Packs()
	if err != nil {
		return nil, err
	}
	rep.Packs = len(packs)
	onDisk := map[uint32]bool{}
	var orphans, orphanBytes int64
	found := map[catalog.BlobID]pack.Location{}
	for _, p := range packs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		onDisk[p.ID] = true
		err := r.Packs.Check(p.ID, opts.Deep, func(id pack.ID, loc pack.Location) error {
			rep.Records++
			opts.Progress.Done.Add(1)
			opts.Progress.Bytes.Add(int64(loc.Length))
			if ref, ok := refs[id]; ok && ref.Pack == loc.Pack && ref.Offset == loc.Offset {
				found[id] = loc
			} else {
				orphans++
				orphanBytes += int64(loc.Length)
			}
			return nil
		})
		for _, perr := range pack.Problems(err) {
			var ce *pack.CorruptError
			if errors.As(perr, &ce) && ce.Torn && ce.Offset >= end[p.ID] {
				rep.Leftovers = append(rep.Leftovers, fmt.Sprintf("%s: unreferenced torn tail at offset %d (an interrupted write; harmless)", ce.Path, ce.Offset))
				continue
			}
			add("pack", p.Path, "%v", perr)
		}
	}
	if orphans > 0 {
		rep.Leftovers = append(rep.Leftovers, fmt.Sprintf("%d pack records (%d bytes) that no catalog entry refers to (interrupted writes; purge reclaims them)", orphans, orphanBytes))
	}
	for id, ref := range refs {
		loc, ok := found[id]
		switch {
		case !onDisk[ref.Pack]:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "its pack %08x is missing", ref.Pack)
		case !ok:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "no intact record at pack %08x offset %d", ref.Pack, ref.Offset)
		case loc.Length != ref.Length || loc.Size != ref.Size:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "the catalog says %d/%d bytes, the pack record %d/%d", ref.Length, ref.Size, loc.Length, loc.Size)
		}
	}
	if err := r.verifyCatalog(ctx, rep, add); err != nil {
		return rep, err
	}
	return rep, nil
}

// verifyCatalog runs the catalog's own checks (catalog.CheckHistory).
func (r *Repo) verifyCatalog(ctx context.Context, rep *VerifyReport, add func(kind, where, format string, args ...any)) error {
	if err := r.CheckCatalog(); err != nil {
		add("catalog", r.Catalog.Path(), "%v", err)
	}
	items, err := r.Catalog.CheckHistory(ctx, maxProblems, func(p catalog.HistoryProblem) {
		add(p.Kind, p.Where, "%s", p.What)
	})
	rep.Items = items
	if err != nil {
		return err
	}
	integrity, err := r.Catalog.QuickCheck(ctx)
	if err != nil {
		return err
	}
	if integrity != "ok" {
		add("catalog", r.Catalog.Path(), "SQLite quick_check: %s", integrity)
	}
	return nil
}
