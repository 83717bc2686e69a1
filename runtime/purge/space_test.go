package purge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/tmpfs"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// fullDiskHistory builds, on a 24 MB tmpfs, a repository of four packs of
// 20 incompressible 64 KB messages each, half of them deleted long ago,
// so that a purge at the returned instant rewrites all four packs, one
// batch each. The catalog's write-ahead log is emptied, so that the next
// commit needs new space.
func fullDiskHistory(t *testing.T) (*hist, time.Time) {
	t.Helper()
	fs := filepath.Join(t.TempDir(), "fs")
	tmpfs.Mount(t, fs, "24m")
	h := &hist{t: t, dir: filepath.Join(fs, "backup"), ids: map[string]int64{}}
	h.open()
	t.Cleanup(func() {
		if h.r != nil {
			h.r.Close()
		}
	})
	rng := rand.New(rand.NewChaCha8([32]byte{11}))
	body := func() []byte {
		b := make([]byte, 64<<10)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	h.begin()
	h.account("ann@example.com", t0)
	h.commit()
	for p := range 4 {
		h.session()
		h.begin()
		for i := range 20 {
			to := time.Time{}
			if i%2 == 0 {
				to = t0.Add(Day)
			}
			h.itemBlob("ann@example.com", "INBOX", fmt.Sprintf("p%d-%02d", p, i), "", body(), t0, to)
		}
		h.commit()
	}
	h.session()
	if _, err := h.r.Catalog.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	return h, t0.Add(100 * Day)
}

// fillAt returns a test hook that fills the filesystem of dir completely
// the n-th time the purge reaches point, and the path of the filler file.
func fillAt(t *testing.T, dir, point string, n int) (func(string), string) {
	filler := filepath.Join(filepath.Dir(dir), "filler")
	return func(p string) {
		if p == point {
			if n--; n == 0 {
				tmpfs.Fill(t, filler, 0)
			}
		}
	}, filler
}

// TestFullDiskDuringPurge fills the backup filesystem (catalog and packs
// on it, no reserve) at each phase of a purge: the purge stops cleanly
// with an error (or a warning) that says the disk is full and where, the
// old packs and the catalog are intact (verify -deep clean, every kept
// message reads as before), and once space is back the next purge, in
// the same process, finishes the job.
func TestFullDiskDuringPurge(t *testing.T) {
	defer func(n int64) { rewriteBatchBytes = n }(rewriteBatchBytes)
	rewriteBatchBytes = 1 // a batch per pack
	opts := func(now time.Time) Options { return Options{Now: now, ItemRetentionDays: 30} }

	// The catalog transaction cannot commit: nothing changes.
	t.Run("catalog_commit", func(t *testing.T) {
		h, now := fullDiskHistory(t)
		dump, files := dumpCatalog(t, h.r), packFiles(t, h.r)
		hook, filler := fillAt(t, h.dir, "catalog-before-commit", 1)
		testHook = hook
		defer func() { testHook = nil }()
		_, err := Run(context.Background(), h.r, opts(now))
		if err == nil || !strings.Contains(err.Error(), repo.CatalogFile) || !strings.Contains(err.Error(), "full") {
			t.Fatalf("purge whose catalog commit finds the disk full: %v, want an error naming the catalog and the full disk", err)
		}
		t.Log(err)
		testHook = nil
		if dumpCatalog(t, h.r) != dump || packFiles(t, h.r) != files {
			t.Fatal("a purge that could not commit changed the catalog or the packs")
		}
		verifyClean(t, h.r, true)
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		finish(t, h, opts(now), 40, 4)
	})

	// The copies of the first rewrite batch cannot be written out: the
	// batch is not committed and its pack stays.
	t.Run("rewrite_copy", func(t *testing.T) {
		h, now := fullDiskHistory(t)
		kept := describeState(t, h.r, "ann@example.com", now.UnixNano())
		hook, filler := fillAt(t, h.dir, "rewrite-copied", 1)
		testHook = hook
		defer func() { testHook = nil }()
		res, err := Run(context.Background(), h.r, opts(now))
		if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), filepath.Join(h.r.Path, repo.PacksDir)) {
			t.Fatalf("purge whose rewrite finds the disk full: %v, want ENOSPC naming the pack", err)
		}
		if res == nil || res.Items != 40 || res.PacksRewritten != 0 {
			t.Fatalf("purge stopped in its first rewrite batch: %+v, want 40 items removed, no pack rewritten", res)
		}
		t.Log(err)
		testHook = nil
		if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
			t.Fatal("the kept messages changed after the failed rewrite")
		}
		verifyClean(t, h.r, true)
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		finish(t, h, opts(now), 0, 4)
		if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
			t.Error("the kept messages changed after the rewrite")
		}
	})

	// The disk fills after the first batch: the rewrite stops at the next
	// pack's space check, with a warning, the work done kept.
	t.Run("rewrite_between_batches", func(t *testing.T) {
		h, now := fullDiskHistory(t)
		kept := describeState(t, h.r, "ann@example.com", now.UnixNano())
		hook, filler := fillAt(t, h.dir, "rewrite-removed", 1)
		testHook = hook
		defer func() { testHook = nil }()
		res, err := Run(context.Background(), h.r, opts(now))
		if err != nil || res.PacksRewritten != 1 || len(res.Warnings) != 1 ||
			!strings.Contains(res.Warnings[0], "rewriting packs stopped") || !strings.Contains(res.Warnings[0], filepath.Join(h.r.Path, repo.PacksDir)) {
			t.Fatalf("purge whose disk filled after a batch: %v %+v, want one pack rewritten and a warning naming the packs", err, res)
		}
		t.Log(res.Warnings[0])
		testHook = nil
		verifyClean(t, h.r, true)
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		finish(t, h, opts(now), 0, 3)
		if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
			t.Error("the kept messages changed after the rewrite")
		}
	})
}

// finish runs the purge again once space is back: it removes items and
// rewrites packs as wanted, and leaves nothing unreferenced and a clean
// repository.
func finish(t *testing.T, h *hist, opts Options, items int64, rewritten int) {
	t.Helper()
	res, err := Run(context.Background(), h.r, opts)
	if err != nil {
		t.Fatalf("purge once space is back: %v", err)
	}
	if res.Items != items || res.PacksRewritten != rewritten || res.BytesUnreferenced != 0 || len(res.Warnings) != 0 {
		t.Errorf("purge once space is back: %d items, %d packs rewritten, %d bytes unreferenced, warnings %q; want %d, %d, 0, none",
			res.Items, res.PacksRewritten, res.BytesUnreferenced, res.Warnings, items, rewritten)
	}
	verifyClean(t, h.r, true)
	// A new session: what the purge wrote reads back from its own files.
	h.session()
	verifyClean(t, h.r, true)
}
