package purge

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// packPlan is the pack work decided from the catalog as purge leaves it.
type packPlan struct {
	remove  []packState // nothing refers to them: deleted whole
	rewrite []packState // past the threshold: live records copied, then deleted
	// bytesFreed and bytesCopied are what the plan gives back and copies.
	bytesFreed, bytesCopied int64
}

// packState is one pack file and how much of it the catalog refers to.
type packState struct {
	id    uint32
	size  int64 // file size
	live  int64 // record bytes the catalog refers to
	blobs int64
}

// unreferenced is the pack's bytes that no catalog entry refers to: records
// of dropped blobs, records of interrupted writes, a torn tail.
func (s packState) unreferenced() int64 {
	return max(0, s.size-pack.FileHeaderSize-s.live)
}

// planPacks decides, from the catalog's usage of each pack, which packs to
// delete (nothing refers to them) and which to rewrite (more than the
// threshold of their bytes unreferenced). Packs this process is still
// writing are left alone.
func (p *purger) planPacks(usage map[uint32]catalog.PackUse) error {
	infos, err := p.r.Packs.Packs()
	if err != nil {
		return err
	}
	for _, info := range infos {
		if p.r.Packs.Writing(info.ID) {
			continue
		}
		u := usage[info.ID]
		st := packState{id: info.ID, size: info.Size, live: u.Bytes, blobs: u.Blobs}
		switch {
		case u.Blobs == 0:
			p.plan.remove = append(p.plan.remove, st)
			p.plan.bytesFreed += st.size
		case st.live > st.size-pack.FileHeaderSize:
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf(
				"pack %08x: the catalog refers to %d bytes but the file has %d: left as it is (run mailkeep verify)", info.ID, st.live, st.size))
		case float64(st.unreferenced()) > p.opts.RepackThreshold*float64(st.size):
			p.plan.rewrite = append(p.plan.rewrite, st)
			p.plan.bytesFreed += st.size - st.live
			p.plan.bytesCopied += st.live
		default:
			p.res.BytesUnreferenced += st.unreferenced()
		}
	}
	// Rewrite the emptiest packs first: the most space back per byte
	// copied, should the space reserve or a cancellation stop the work.
	slices.SortFunc(p.plan.rewrite, func(a, b packState) int {
		if c := cmp.Compare(float64(b.unreferenced())/float64(b.size), float64(a.unreferenced())/float64(a.size)); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return nil
}
