package purge

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// faulty reopens the repository with its packs behind a fault-injecting
// backend.
func (h *hist) faulty() *faultbackend.Backend {
	h.t.Helper()
	var fb *faultbackend.Backend
	h.r, fb = mailrepo.Faulty(h.t, h.r, 1, repo.Options{Purpose: "test"})
	return fb
}

// A purge whose pack rewrite meets EIO (reading the records to copy,
// writing or fsyncing the copies) fails with an error naming the pack,
// commits no catalog that points at the copies, keeps the old packs, and
// loses nothing: every state reads as before and verify -deep is clean.
// EIO removing an emptied pack after the commit leaves it as a harmless
// leftover. The next purge, the disk healed, finishes the job.
func TestPurgeRewriteGivenEIO(t *testing.T) {
	for _, rule := range []faultbackend.Rule{
		{Op: faultbackend.ReadAt, Times: 1},
		{Op: faultbackend.Write, Times: 1},
		{Op: faultbackend.Sync, Times: 1},
		{Op: faultbackend.Create, Times: 1},
		{Op: faultbackend.Remove, After: 2, Times: 1}, // the rewritten pack, after the two unreferenced ones
	} {
		t.Run(string(rule.Op), func(t *testing.T) {
			h := spaceHistory(t)
			now := t0.Add(100 * Day)
			kept := describeState(t, h.r, "ann@example.com", now.UnixNano())
			fb := h.faulty()
			packsBefore, err := h.r.Packs.Packs()
			if err != nil {
				t.Fatal(err)
			}
			fb.Fail(rule)
			_, err = Run(context.Background(), h.r, Options{Now: now, ItemRetentionDays: 30})
			if fb.Injected() != 1 {
				t.Fatalf("%d faults injected, want 1", fb.Injected())
			}
			if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), ".pack") {
				t.Fatalf("purge given EIO on %s: %v; want EIO naming the pack", rule.Op, err)
			}
			t.Logf("purge stopped with: %v", err)
			if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
				t.Fatalf("the current state changed after the failed purge:\n%s\nwant\n%s", got, kept)
			}
			rep := verifyClean(t, h.r, true)
			if rule.Op != faultbackend.Remove {
				// Every pack that had live blobs is still there.
				refs := map[uint32]bool{}
				for _, p := range packsBefore {
					if n, err := h.r.Catalog.PackRefs(p.ID); err != nil {
						t.Fatal(err)
					} else if n > 0 {
						refs[p.ID] = true
					}
				}
				after, _ := h.r.Packs.Packs()
				for _, p := range after {
					delete(refs, p.ID)
				}
				if len(refs) != 0 {
					t.Fatalf("packs the catalog refers to are gone: %v", refs)
				}
			} else if len(rep.Leftovers) == 0 {
				t.Errorf("the pack whose removal failed is not reported as a leftover")
			}

			fb.Heal()
			res, err := Run(context.Background(), h.r, Options{Now: now, ItemRetentionDays: 30})
			if err != nil {
				t.Fatalf("purge once the disk is healed: %v", err)
			}
			if res.PacksRewritten+res.PacksDeleted == 0 {
				t.Errorf("the healed purge rewrote and deleted nothing: %+v", res)
			}
			h.session()
			verifyClean(t, h.r, true)
			if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
				t.Fatalf("the current state changed after the healed purge")
			}
		})
	}
}
