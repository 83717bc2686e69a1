package scan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// TestScanAfterCrashAdoptsStoredContents: a SmartScan killed before its
// commit leaves the contents it stored in the packs with no catalog row
// (what a SIGKILL leaves: the packs written, the transaction lost). The
// first scan after the restart adopts them instead of storing everything
// again (issue 11, finding 16); a content stored twice before the crash is
// adopted once, and the repository verifies with no leftovers but the
// ones purge reclaims.
func TestScanAfterCrashAdoptsStoredContents(t *testing.T) {
	f := newFixture(t)
	const n = 40
	var contents [][]byte
	for i := range n {
		body := fmt.Sprintf("Subject: message %d\r\n\r\n%s\r\n", i, string(make([]byte, 200+i)))
		f.deliver(fmt.Sprintf("u%d@example.org", i%4), fmt.Sprintf("%d.M1P1.host", 1000+i), body)
		contents = append(contents, []byte(body))
		if i == n/2-1 {
			// The first half is backed up and committed: the orphans
			// follow committed blobs in the same pack.
			if _, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The crashed scan stored every new content (one of them twice),
	// synced the packs and died before its commit.
	for i, c := range append(contents[n/2:], contents[n-3]) {
		if _, err := f.repo.Packs.Put(pack.Hash(c), c); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if err := f.repo.Packs.Sync(); err != nil {
		t.Fatal(err)
	}
	path := f.repo.Path
	if err := f.repo.Close(); err != nil {
		t.Fatal(err)
	}
	packsBefore := packBytes(t, path)
	r, err := repo.Open(path, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.repo = r
	res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{})
	if err != nil || len(res.Errors) != 0 {
		t.Fatalf("scan after the crash: %v, %q", err, res.Errors)
	}
	if res.New != n/2 || res.NewBlobs != 0 || res.BytesStored != 0 {
		t.Fatalf("scan after the crash: %d new items, %d new blobs, %d bytes stored; want %d items and nothing stored again", res.New, res.NewBlobs, res.BytesStored, n/2)
	}
	if got := packBytes(t, path); got != packsBefore {
		t.Fatalf("the packs grew from %d to %d bytes: contents were stored again", packsBefore, got)
	}
	for i := range 4 {
		if got := f.items(fmt.Sprintf("u%d@example.org", i)); len(got) != n/4 { // each blob read back
			t.Fatalf("u%d has %d items, want %d", i, len(got), n/4)
		}
	}
	f.verify()
	// A second scan, and a realtime batch, find nothing to do.
	if res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{}); err != nil || res.New != 0 || res.NewBlobs != 0 {
		t.Fatalf("second scan: %v, %d new, %d new blobs", err, res.New, res.NewBlobs)
	}
	var blobs int
	if err := f.repo.Catalog.BlobIDs(func(catalog.BlobID, catalog.BlobRef) { blobs++ }); err != nil || blobs != n {
		t.Fatalf("%d blob rows (%v), want %d", blobs, err, n)
	}
}

// packBytes sums the sizes of a repository's pack files.
func packBytes(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(path, repo.PacksDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
