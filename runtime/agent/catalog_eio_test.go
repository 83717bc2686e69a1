package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/faultfs"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// catalogFiles are the files whose I/O the EIO tests fail: the database
// and its write-ahead log (the -shm index is memory-mapped, not read or
// written through the file system, and is left alone).
var catalogFiles = []string{repo.CatalogFile, repo.CatalogFile + "-wal"}

// startAgentOnFaultFS starts an agent whose backup_path lies on a
// fault-injecting FUSE pass-through, with a generated mail store.
func startAgentOnFaultFS(t *testing.T, opts corpus.Options) (*testAgent, *faultfs.FS) {
	t.Helper()
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "disk")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	disk, err := faultfs.Mount(backing, mnt, faultfs.Options{Direct: catalogFiles})
	if err != nil {
		t.Fatalf("mounting the FUSE pass-through (the test needs root and /dev/fuse): %v", err)
	}
	// Registered before the agent's: runs after the agent is closed.
	t.Cleanup(func() {
		disk.Clear()
		if err := disk.Unmount(); err != nil {
			t.Error(err)
		}
	})
	ta := startAgentIn(t, dir, nil)
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, opts); err != nil {
		t.Fatal(err)
	}
	ta.generated = true
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": filepath.Join(mnt, "backup"), "realtime_scanner": false,
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0},
	})
	if _, err := ta.c.PutConfig(context.Background(), doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	return ta, disk
}

// listedItems is the number of messages the agent's account listing
// gives, and its error.
func listedItems(ta *testAgent) (int64, error) {
	list, err := ta.c.Accounts(context.Background(), "")
	var n int64
	for _, a := range list {
		n += a.Items
	}
	return n, err
}

func scanResult(t *testing.T, op *api.Operation) scan.Result {
	t.Helper()
	var res scan.Result
	b, _ := json.Marshal(op.Result)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// onlyCatalogProblems reports whether a verify operation's report lists
// problems, all of them of the catalog.
func onlyCatalogProblems(t *testing.T, op *api.Operation) bool {
	t.Helper()
	var rep api.VerifyReport
	b, _ := json.Marshal(op.Result)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if p.Kind != "catalog" || !strings.Contains(p.Where, repo.CatalogFile) {
			return false
		}
	}
	return len(rep.Problems) > 0
}

// moveAccounts moves every other account directory of a generated
// store (root/DOMAIN/USER) from one root to another, and returns them.
func moveAccounts(t *testing.T, from, to string, which []string) []string {
	t.Helper()
	if which == nil {
		all, err := filepath.Glob(filepath.Join(from, "*", "*"))
		if err != nil || len(all) < 2 {
			t.Fatalf("accounts under %s: %v %v", from, all, err)
		}
		for i, p := range all {
			if i%2 == 1 {
				rel, _ := filepath.Rel(from, p)
				which = append(which, rel)
			}
		}
	}
	for _, rel := range which {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(from, rel), filepath.Join(to, rel)); err != nil {
			t.Fatal(err)
		}
	}
	return which
}

// TestCatalogWriteEIO fails the catalog's writes and fsyncs under a
// running SmartScan: the scan stops with an error naming the catalog and
// the I/O error, what was committed before stays listed, the agent
// answers meanwhile, and once the disk heals the next SmartScan records
// everything, without a restart; verify -deep finds nothing wrong.
func TestCatalogWriteEIO(t *testing.T) {
	t.Run("write", func(t *testing.T) { catalogWriteEIO(t, faultfs.Write|faultfs.Fsync) })
	// Only the fsync fails (metadata.flush_on_save, the default, fsyncs
	// every commit): the commit's frames are in the log but not durable.
	t.Run("fsync", func(t *testing.T) { catalogWriteEIO(t, faultfs.Fsync) })
}

func catalogWriteEIO(t *testing.T, ops faultfs.Op) {
	const messages = 3000
	ta, disk := startAgentOnFaultFS(t, corpus.Options{Seed: 21, Accounts: 12, Messages: messages, MaxSize: 16 << 10})
	ctx := context.Background()
	// Half the accounts are backed up first.
	root, hold := filepath.Join(ta.dir, "vmail"), filepath.Join(ta.dir, "held")
	moved := moveAccounts(t, root, hold, nil)
	if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("first SmartScan: %+v", done)
	}
	before, err := listedItems(ta)
	if err != nil || before == 0 || before >= messages {
		t.Fatalf("after the first SmartScan the agent lists %d messages (%v)", before, err)
	}
	// The others come back, and the disk breaks under the SmartScan that
	// records them, once it has listed the accounts.
	moveAccounts(t, hold, root, moved)
	op := ta.start(t, api.OperationRequest{Type: "smartscan"})
	for deadline := time.Now().Add(time.Minute); ; {
		cur, err := ta.c.Operation(ctx, op.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State != api.StateRunning {
			t.Fatalf("the SmartScan ended (%s) before the fault was set", cur.State)
		}
		if !strings.HasSuffix(cur.Progress.Phase, " of 0 accounts") && cur.Progress.Phase != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the SmartScan listed no accounts within a minute")
		}
		time.Sleep(time.Millisecond)
	}
	for _, f := range catalogFiles {
		disk.Fail(f, ops)
	}
	done := waitOp(t, ta.c, op.ID)
	if disk.Injected() == 0 {
		t.Fatalf("the SmartScan finished (%s) without writing to the catalog", done.State)
	}
	if done.State != api.StateFailed || !strings.Contains(done.Error, repo.CatalogFile) || !strings.Contains(done.Error, "I/O error") {
		t.Fatalf("SmartScan whose catalog commit hit EIO: %s %q, want failed naming the catalog and the I/O error", done.State, done.Error)
	}
	t.Logf("SmartScan under a write fault: %s", done.Error)
	res := scanResult(t, done)
	// The agent still answers, and what was committed is still there;
	// the failed scan counts only what it committed.
	if _, err := ta.c.Status(ctx); err != nil {
		t.Fatalf("status while the catalog cannot be written: %v", err)
	}
	if n, err := listedItems(ta); err != nil || n != before+res.New {
		t.Errorf("listing while the catalog cannot be written: %d messages (%v); %d before the failed SmartScan, which reports %d new", n, err, before, res.New)
	}

	// The disk heals: the next SmartScan records everything.
	disk.Clear()
	done = ta.run(t, api.OperationRequest{Type: "smartscan"})
	if done.State != api.StateSucceeded {
		t.Fatalf("SmartScan after the disk healed: %s %q", done.State, done.Error)
	}
	if n, err := listedItems(ta); err != nil || n != messages {
		t.Errorf("after the disk healed the agent lists %d messages (%v), want %d", n, err, messages)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.State != "idle" || st.SmartScan.LastRun.Outcome != "ok" {
		t.Errorf("status after the disk healed: %+v %v", st, err)
	}
	if done := ta.run(t, api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep after the disk healed: %s %q %+v", done.State, done.Error, done.Result)
	}
}

// TestCatalogReadEIO fails the catalog's reads: a SmartScan stops with an
// error naming the catalog, the listings that need the catalog fail the
// same way instead of hanging or giving wrong counts, status still
// answers, and once the disk heals every answer is right again and the
// next SmartScan succeeds, without a restart; nothing committed is lost.
//
// SQLite reports a read that fails with EIO as "database disk image is
// malformed" (SQLITE_IOERR_CORRUPTFS, returned as SQLITE_CORRUPT, the
// errno not kept): the message overstates the damage, but nothing is
// written on it and the catalog works again once the disk does.
func TestCatalogReadEIO(t *testing.T) {
	const messages = 1500
	ta, disk := startAgentOnFaultFS(t, corpus.Options{Seed: 22, Accounts: 6, Messages: messages, MaxSize: 16 << 10})
	ctx := context.Background()
	// Two SmartScans: after the second one's commit, the connections
	// that did not write it hold no valid page, and read the disk.
	for i := 0; i < 2; i++ {
		if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
			t.Fatalf("SmartScan: %+v", done)
		}
	}
	for _, f := range catalogFiles {
		disk.Fail(f, faultfs.Read)
	}
	// Each listing is either right or an error naming the catalog;
	// concurrent ones use several connections, until one reads the disk.
	var failures atomic.Int64
	for round := 0; round < 50 && failures.Load() == 0; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := listedItems(ta)
				switch {
				case err != nil && !strings.Contains(err.Error(), repo.CatalogFile):
					t.Errorf("listing under a read fault: %v, want an error naming the catalog", err)
				case err != nil:
					failures.Add(1)
				case n != messages:
					t.Errorf("listing under a read fault: %d messages, want %d or an error", n, messages)
				}
			}()
		}
		wg.Wait()
		if _, err := ta.c.Status(ctx); err != nil {
			t.Fatalf("status under a read fault: %v", err)
		}
	}
	if failures.Load() == 0 {
		t.Errorf("no listing read the faulty disk (%d reads failed)", disk.Injected())
	}
	// A SmartScan and a verify are either right or stop naming the catalog.
	done := ta.run(t, api.OperationRequest{Type: "smartscan"})
	if !(done.State == api.StateFailed && strings.Contains(done.Error, repo.CatalogFile)) &&
		!(done.State == api.StateSucceeded && scanResult(t, done).Unchanged == messages) {
		t.Errorf("SmartScan under a read fault: %s %q %+v, want failed naming the catalog, or right", done.State, done.Error, done.Result)
	}
	t.Logf("SmartScan under a read fault: %s %s", done.State, done.Error)
	// Verify may also finish and report what it could not read as
	// problems of the catalog (its integrity check reads every page).
	if done := ta.run(t, api.OperationRequest{Type: "verify"}); done.State != api.StateSucceeded &&
		!(done.State == api.StateFailed && strings.Contains(done.Error, repo.CatalogFile)) &&
		!(done.State == api.StateFailed && onlyCatalogProblems(t, done)) {
		t.Errorf("verify under a read fault: %s %q %+v, want failed naming the catalog, or right", done.State, done.Error, done.Result)
	}

	disk.Clear()
	if n, err := listedItems(ta); err != nil || n != messages {
		t.Fatalf("listing after the disk healed: %d messages (%v), want %d", n, err, messages)
	}
	done = ta.run(t, api.OperationRequest{Type: "smartscan"})
	if done.State != api.StateSucceeded {
		t.Fatalf("SmartScan after the disk healed: %s %q", done.State, done.Error)
	}
	if res := scanResult(t, done); res.New != 0 || res.Unchanged != messages {
		t.Errorf("SmartScan after the disk healed: %+v, want all %d unchanged", res, messages)
	}
	if done := ta.run(t, api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep after the disk healed: %s %q", done.State, done.Error)
	}
}
