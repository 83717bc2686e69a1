package purge

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// boundaryHistory is the hand-made history of the retention tests. With
// now = t0 + 100 days and 30 days of retention for items and accounts:
//
//	ann (live):  exact   deleted exactly at the item cutoff       kept
//	             before  deleted 1 ns before it                    removed
//	             after   deleted 1 ns after it                     kept
//	             flagged flag change 1 h before it, still current  old version dropped
//	             moved   moved INBOX -> Sent 2 h before it         INBOX copy removed
//	             Old     folder deleted 3 h before it              folder version dropped
//	bob (deleted exactly at the account cutoff): kept; its clock stopped
//	             at its deletion: early deleted 1 ns before deletion - 30 days: removed,
//	             late deleted exactly at deletion - 30 days: kept
//	carl (deleted 1 ns before the account cutoff): removed whole
func boundaryHistory(t *testing.T) (*hist, time.Time) {
	now := t0.Add(100 * Day)
	cut := now.Add(-30 * Day)
	h := newHist(t)
	h.begin()
	h.account("ann@example.com", t0)
	h.folder("ann@example.com", "Sent", t0, time.Time{})
	h.folder("ann@example.com", "Old", t0, cut.Add(-3*time.Hour))
	h.item("ann@example.com", "INBOX", "exact", "", t0, cut)
	h.item("ann@example.com", "INBOX", "before", "", t0, cut.Add(-1))
	h.item("ann@example.com", "INBOX", "after", "", t0, cut.Add(1))
	h.item("ann@example.com", "INBOX", "flagged", "", t0, cut.Add(-time.Hour))
	h.item("ann@example.com", "INBOX", "flagged", "S", cut.Add(-time.Hour), time.Time{})
	h.item("ann@example.com", "INBOX", "moved", "", t0, cut.Add(-2*time.Hour))
	h.item("ann@example.com", "Sent", "moved2", "", cut.Add(-2*time.Hour), time.Time{})
	h.item("ann@example.com", "INBOX", "current", "", t0, time.Time{})

	bobDel := now.Add(-30 * Day)
	h.account("bob@example.com", t0)
	h.item("bob@example.com", "INBOX", "early", "", t0, bobDel.Add(-30*Day-1))
	h.item("bob@example.com", "INBOX", "late", "", t0, bobDel.Add(-30*Day))
	h.item("bob@example.com", "INBOX", "last", "", t0, time.Time{})
	h.deleteAccount("bob@example.com", bobDel)

	h.account("carl@example.com", t0)
	h.item("carl@example.com", "INBOX", "carl1", "", t0, time.Time{})
	h.item("carl@example.com", "INBOX", "carl2", "", t0, t0.Add(Day))
	h.deleteAccount("carl@example.com", now.Add(-30*Day-1))
	h.commit()
	return h, now
}

func removedNames(items []RemovedItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Account+":"+it.Folder+"/"+it.Name)
	}
	return out
}

// TestRetentionBoundaries pins the retention rules: strictly more than the
// retention ago is purged, exactly the retention ago is kept, for items,
// history versions, folders and accounts.
func TestRetentionBoundaries(t *testing.T) {
	h, now := boundaryHistory(t)
	cut := now.Add(-30 * Day)
	instants := []time.Time{cut, cut.Add(1), cut.Add(time.Hour), now.Add(-Day), now}
	before := map[string]string{}
	for _, name := range []string{"ann@example.com", "bob@example.com"} {
		for _, at := range instants {
			before[fmt.Sprint(name, at)] = describeState(t, h.r, name, at.UnixNano())
		}
	}
	bobLast := describeState(t, h.r, "bob@example.com", now.Add(-30*Day).UnixNano()-1)
	bobWindowStart := describeState(t, h.r, "bob@example.com", now.Add(-60*Day).UnixNano())

	res := h.purge(Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30})
	if got, want := removedNames(res.RemovedItems), []string{
		"ann@example.com:INBOX/before:2,", "ann@example.com:INBOX/moved:2,", "bob@example.com:INBOX/early:2,",
	}; !slices.Equal(got, want) {
		t.Errorf("removed items %v, want %v", got, want)
	}
	if res.Items != 3 || res.Versions != 2 || res.Accounts != 1 {
		t.Errorf("items %d, versions %d (the old flag version and the Old folder), accounts %d; want 3, 2, 1", res.Items, res.Versions, res.Accounts)
	}
	if len(res.RemovedAccounts) != 1 || res.RemovedAccounts[0].Account != "carl@example.com" ||
		!res.RemovedAccounts[0].DeletedAt.Equal(now.Add(-30*Day-1)) || res.RemovedAccounts[0].Reason != "deleted" ||
		res.RemovedAccounts[0].Messages != 1 || res.RemovedAccounts[0].Versions != 2 || res.RemovedAccounts[0].RetentionDays != 30 {
		t.Errorf("removed accounts %+v", res.RemovedAccounts)
	}
	if it := res.RemovedItems[0]; !it.DeletedAt.Equal(cut.Add(-1)) || it.RetentionDays != 30 || it.Versions != 1 {
		t.Errorf("removed item %+v", it)
	}
	wantRows := catalog.Removed{Items: 3 + 1 + 2, FolderVersions: 1 + 1, AccountVersions: 1, Accounts: 1, Blobs: 5}
	if res.Rows != wantRows {
		t.Errorf("rows %+v, want %+v", res.Rows, wantRows)
	}
	if res.BlobsFreed != 5 {
		t.Errorf("blobs freed %d, want 5 (before, moved, early, carl1, carl2; flagged and moved share theirs)", res.BlobsFreed)
	}
	// Every instant inside the window restores as before.
	for _, name := range []string{"ann@example.com", "bob@example.com"} {
		for _, at := range instants {
			if got := describeState(t, h.r, name, at.UnixNano()); got != before[fmt.Sprint(name, at)] {
				t.Errorf("%s at %s changed:\nbefore:\n%s\nafter:\n%s", name, at, before[fmt.Sprint(name, at)], got)
			}
		}
	}
	// The deleted account bob keeps its last state and the 30 days before.
	if got := describeState(t, h.r, "bob@example.com", now.Add(-30*Day).UnixNano()-1); got != bobLast {
		t.Errorf("bob's last state changed:\n%s\nwant\n%s", got, bobLast)
	}
	if got := describeState(t, h.r, "bob@example.com", now.Add(-60*Day).UnixNano()); got != bobWindowStart {
		t.Errorf("bob at deletion - 30 days changed:\n%s\nwant\n%s", got, bobWindowStart)
	}
	if describeState(t, h.r, "carl@example.com", now.Add(-31*Day).UnixNano()) != "" {
		t.Error("carl is still in the catalog")
	}
	verifyClean(t, h.r, true)

	// A second purge at the same instant finds nothing; one nanosecond
	// later, what sat exactly on the limit goes: ann's message, and bob
	// with his whole history.
	again := h.purge(Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30})
	if again.Items != 0 || again.Versions != 0 || again.Accounts != 0 || again.BlobsFreed != 0 {
		t.Errorf("second purge removed %+v", again)
	}
	later := h.purge(Options{Now: now.Add(1), ItemRetentionDays: 30, AccountRetentionDays: 30})
	if got, want := removedNames(later.RemovedItems), []string{"ann@example.com:INBOX/exact:2,"}; !slices.Equal(got, want) {
		t.Errorf("1 ns later removed %v, want %v", got, want)
	}
	if later.Accounts != 1 || later.RemovedAccounts[0].Account != "bob@example.com" {
		t.Errorf("1 ns later removed accounts %+v, want bob", later.RemovedAccounts)
	}
}

// TestZeroDisables: 0 days turns the item purge, or the account purge, off.
func TestZeroDisables(t *testing.T) {
	t.Run("items", func(t *testing.T) {
		h, now := boundaryHistory(t)
		before := describeState(t, h.r, "ann@example.com", t0.UnixNano())
		res := h.purge(Options{Now: now, AccountRetentionDays: 30})
		if res.Items != 0 || res.Versions != 0 || res.Accounts != 1 || res.ItemCutoff != nil {
			t.Errorf("item purge off: %+v", res)
		}
		if got := describeState(t, h.r, "ann@example.com", t0.UnixNano()); got != before {
			t.Errorf("ann's oldest state changed with the item purge off")
		}
	})
	t.Run("accounts", func(t *testing.T) {
		h, now := boundaryHistory(t)
		res := h.purge(Options{Now: now.Add(1000 * Day), ItemRetentionDays: 30})
		if res.Accounts != 0 || res.AccountCutoff != nil {
			t.Errorf("account purge off removed accounts: %+v", res.RemovedAccounts)
		}
		// The deleted accounts keep their last state forever.
		for _, a := range []struct {
			name string
			del  time.Time
		}{{"bob@example.com", now.Add(-30 * Day)}, {"carl@example.com", now.Add(-30*Day - 1)}} {
			if st := describeState(t, h.r, a.name, a.del.UnixNano()-1); !strings.Contains(st, "msg INBOX") {
				t.Errorf("%s lost its last state:\n%s", a.name, st)
			}
		}
	})
	t.Run("both", func(t *testing.T) {
		h, now := boundaryHistory(t)
		dump := dumpCatalog(t, h.r)
		res := h.purge(Options{Now: now.Add(1000 * Day)})
		if res.Items+res.Versions+res.Accounts+res.BlobsFreed != 0 || dumpCatalog(t, h.r) != dump {
			t.Errorf("a purge with both retentions at 0 changed the catalog: %+v", res)
		}
	})
}

// TestLegalHold: nothing of a held account goes, whatever the retention;
// the report says what was held back.
func TestLegalHold(t *testing.T) {
	h, now := boundaryHistory(t)
	ann := describeState(t, h.r, "ann@example.com", t0.UnixNano())
	carl := describeState(t, h.r, "carl@example.com", t0.UnixNano())
	res := h.purge(Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30, LegalHold: []string{"ann@*", "carl@example.com"}})
	if got, want := removedNames(res.RemovedItems), []string{"bob@example.com:INBOX/early:2,"}; !slices.Equal(got, want) || res.Accounts != 0 {
		t.Errorf("with ann and carl held: removed %v and %d accounts", got, res.Accounts)
	}
	if len(res.Held) != 2 || res.Held[0].Account != "ann@example.com" || res.Held[0].KeptVersions != 4 ||
		res.Held[1].Account != "carl@example.com" || !res.Held[1].WholeAccount || res.Held[1].DeletedAt == nil {
		t.Errorf("held %+v", res.Held)
	}
	if describeState(t, h.r, "ann@example.com", t0.UnixNano()) != ann || describeState(t, h.r, "carl@example.com", t0.UnixNano()) != carl {
		t.Error("a held account changed")
	}
}

// TestExcludedAccountReason: an account SmartScan marked deleted because
// the accounts block left it out is purged like a deleted one, and the
// report says why.
func TestExcludedAccountReason(t *testing.T) {
	h, now := boundaryHistory(t)
	res := h.purge(Options{Now: now, AccountRetentionDays: 30, Exclude: []string{"carl@*"}})
	if len(res.RemovedAccounts) != 1 || res.RemovedAccounts[0].Reason != "excluded" {
		t.Errorf("removed accounts %+v", res.RemovedAccounts)
	}
}

// TestDryRun: a dry run reports exactly what the real run then does, and
// changes nothing: neither the catalog nor the pack files.
func TestDryRun(t *testing.T) {
	h := spaceHistory(t)
	opts := Options{Now: t0.Add(100 * Day), ItemRetentionDays: 30, AccountRetentionDays: 30}
	catalogBefore, packsBefore := dumpCatalog(t, h.r), packFiles(t, h.r)
	opts.DryRun = true
	dry := h.purge(opts)
	if dumpCatalog(t, h.r) != catalogBefore || packFiles(t, h.r) != packsBefore {
		t.Fatal("the dry run changed the repository")
	}
	if !dry.DryRun || dry.Items == 0 || dry.PacksDeleted == 0 || dry.PacksRewritten == 0 || dry.BytesFreed == 0 {
		t.Fatalf("the dry run found nothing to do: %+v", dry)
	}
	opts.DryRun = false
	real := h.purge(opts)
	real.DryRun = true
	if !reflect.DeepEqual(dry, real) {
		a, _ := json.MarshalIndent(dry, "", " ")
		b, _ := json.MarshalIndent(real, "", " ")
		t.Errorf("dry run and real run differ:\n%s\n%s", a, b)
	}
}

// TestListLimit: the lists stop at the limit, the totals do not.
func TestListLimit(t *testing.T) {
	h, now := boundaryHistory(t)
	res := h.purge(Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30, ListLimit: 2})
	if res.Items != 3 || len(res.RemovedItems) != 2 || !res.Truncated || len(res.RemovedAccounts) != 1 {
		t.Errorf("limit 2: %d items, %d listed, truncated %v", res.Items, len(res.RemovedItems), res.Truncated)
	}
	h2, _ := boundaryHistory(t)
	res = h2.purge(Options{Now: now, ItemRetentionDays: 30, ListLimit: -1})
	// Without the account purge, carl keeps his last state but loses the
	// message deleted more than 30 days before he was: 4 items.
	if res.Items != 4 || len(res.RemovedItems) != 0 || res.RemovedItems == nil {
		t.Errorf("limit -1: %d items, listed %v", res.Items, res.RemovedItems)
	}
}

// spaceHistory puts contents in four packs: pack 1 (40 messages, 30 of
// them deleted long ago: 75% unreferenced), pack 2 (10 messages, all
// deleted long ago), pack 3 (records of an interrupted write: no catalog
// entry), pack 4 (10 messages, 2 deleted: 20% unreferenced).
func spaceHistory(t *testing.T) *hist {
	h := newHist(t)
	r := rand.New(rand.NewPCG(1, 2))
	body := func() []byte {
		b := make([]byte, 2048)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	old := t0.Add(Day)
	h.begin()
	h.account("ann@example.com", t0)
	for i := range 40 {
		to := time.Time{}
		if i%4 != 0 {
			to = old
		}
		h.itemBlob("ann@example.com", "INBOX", fmt.Sprintf("p1-%02d", i), "", body(), t0, to)
	}
	h.commit()
	h.session()
	h.begin()
	for i := range 10 {
		h.itemBlob("ann@example.com", "INBOX", fmt.Sprintf("p2-%02d", i), "", body(), t0, old)
	}
	h.commit()
	h.session()
	for range 5 {
		raw := body()
		if _, err := h.r.Packs.Put(pack.Hash(raw), raw); err != nil {
			t.Fatal(err)
		}
	}
	h.session()
	h.begin()
	for i := range 10 {
		to := time.Time{}
		if i < 2 {
			to = old
		}
		h.itemBlob("ann@example.com", "INBOX", fmt.Sprintf("p4-%02d", i), "", body(), t0, to)
	}
	h.commit()
	h.session()
	return h
}

// TestSpaceComesBack: unreferenced packs are deleted, packs past the
// threshold rewritten, the others left; the bytes reported are the bytes
// the filesystem gets back; everything kept still reads.
func TestSpaceComesBack(t *testing.T) {
	h := spaceHistory(t)
	now := t0.Add(100 * Day)
	kept := describeState(t, h.r, "ann@example.com", now.UnixNano())
	before, err := repo.DiskUsage(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	res := h.purge(Options{Now: now, ItemRetentionDays: 30})
	if res.Items != 42 || res.BlobsFreed != 42 || res.PacksDeleted != 2 || res.PacksRewritten != 1 {
		t.Errorf("items %d, blobs %d, packs deleted %d, rewritten %d; want 42, 42, 2, 1", res.Items, res.BlobsFreed, res.PacksDeleted, res.PacksRewritten)
	}
	if res.BytesUnreferenced == 0 || res.BytesCopied == 0 {
		t.Errorf("pack 4's unreferenced bytes (%d) or the bytes copied (%d) are not reported", res.BytesUnreferenced, res.BytesCopied)
	}
	h.session() // flush and close the pack written by the rewrite
	after, err := repo.DiskUsage(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	// The rewrite's copies went to a new pack, whose 16-byte header the
	// report does not count.
	if got := before.Blobs - after.Blobs; got != res.BytesFreed-pack.FileHeaderSize {
		t.Errorf("the packs shrank by %d bytes, the report says %d", got, res.BytesFreed)
	}
	if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
		t.Errorf("the current state changed:\n%s\nwant\n%s", got, kept)
	}
	rep := verifyClean(t, h.r, true)
	if rep.Packs != 2 {
		t.Errorf("%d packs left, want 2 (pack 4 and the rewrite's)", rep.Packs)
	}
	// A lower threshold rewrites pack 4 too; then nothing is unreferenced.
	res = h.purge(Options{Now: now, ItemRetentionDays: 30, RepackThreshold: 0.1})
	if res.PacksRewritten != 1 || res.BytesUnreferenced != 0 {
		t.Errorf("threshold 0.1: %+v", res)
	}
	verifyClean(t, h.r, true)
	if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
		t.Errorf("the current state changed after the second rewrite")
	}
}

// TestRewriteBatches: with small batches, each batch commits and deletes
// its packs before the next starts.
func TestRewriteBatches(t *testing.T) {
	defer func(n int64) { rewriteBatchBytes = n }(rewriteBatchBytes)
	rewriteBatchBytes = 1
	h := newHist(t)
	h.begin()
	h.account("ann@example.com", t0)
	h.commit()
	for p := range 4 {
		h.session()
		h.begin()
		for i := range 10 {
			to := time.Time{}
			if i%2 == 0 {
				to = t0.Add(Day)
			}
			h.item("ann@example.com", "INBOX", fmt.Sprintf("p%d-%d", p, i), "", t0, to)
		}
		h.commit()
	}
	h.session()
	var points []string
	testHook = func(p string) { points = append(points, p) }
	defer func() { testHook = nil }()
	res := h.purge(Options{Now: t0.Add(100 * Day), ItemRetentionDays: 30})
	if res.PacksRewritten != 4 {
		t.Fatalf("rewrote %d packs, want 4", res.PacksRewritten)
	}
	if n := strings.Count(strings.Join(points, ","), "rewrite-committed"); n != 4 {
		t.Errorf("%d rewrite commits, want one per pack: %v", n, points)
	}
	verifyClean(t, h.r, true)
}

// TestCancel: a purge cancelled before or during its catalog work changes
// nothing.
func TestCancel(t *testing.T) {
	h, now := boundaryHistory(t)
	dump := dumpCatalog(t, h.r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, h.r, Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30}); err != context.Canceled {
		t.Errorf("cancelled purge: %v", err)
	}
	if dumpCatalog(t, h.r) != dump {
		t.Error("a cancelled purge changed the catalog")
	}
}

// TestBadOptions: nonsense is refused with a message naming the setting.
func TestBadOptions(t *testing.T) {
	h, _ := boundaryHistory(t)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{ItemRetentionDays: -1}, "item_retention_days"},
		{Options{AccountRetentionDays: 1 << 20}, "account_retention_days"},
		{Options{RepackThreshold: 1.5}, "repack threshold"},
		{Options{LegalHold: []string{"[ann"}}, "legal hold pattern"},
	} {
		if _, err := Run(context.Background(), h.r, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", c.opts, err, c.want)
		}
	}
}

// TestCancelBetweenBatches: cancelled during the pack work, a purge stops
// at the next batch, says what it did, and leaves a repository that
// verifies clean and that the next purge finishes.
func TestCancelBetweenBatches(t *testing.T) {
	defer func(n int64) { rewriteBatchBytes = n }(rewriteBatchBytes)
	rewriteBatchBytes = 1
	h := spaceHistory(t)
	now := t0.Add(100 * Day)
	kept := describeState(t, h.r, "ann@example.com", now.UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	testHook = func(p string) {
		if p == "pack-removed" {
			cancel()
		}
	}
	defer func() { testHook = nil }()
	res, err := Run(ctx, h.r, Options{Now: now, ItemRetentionDays: 30, RepackThreshold: 0.1})
	if err != context.Canceled || res == nil || res.Items != 42 || res.PacksDeleted != 1 || res.PacksRewritten != 0 {
		t.Fatalf("cancelled after the first pack deletion: %v, %+v", err, res)
	}
	testHook = nil
	verifyClean(t, h.r, true)
	if got := describeState(t, h.r, "ann@example.com", now.UnixNano()); got != kept {
		t.Error("the current state changed")
	}
	res = h.purge(Options{Now: now, ItemRetentionDays: 30, RepackThreshold: 0.1})
	if res.Items != 0 || res.PacksDeleted != 1 || res.PacksRewritten != 2 {
		t.Errorf("the purge after the cancellation: %+v", res)
	}
	verifyClean(t, h.r, true)
}
