package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/tmpfs"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/purge"
)

// TestPurgeOnFullBackupFilesystem runs the retention purge through the
// agent on a backup filesystem below its reserve (SmartScan stopped there):
// the purge still removes what retention lets go (the reserve is what lets
// the catalog record it), stops before rewriting a pack it has no room to
// copy, with a warning naming the reserve, and leaves a repository that
// verifies clean; once space comes back the next purge rewrites the pack,
// the space comes back, and SmartScan goes on, without a restart.
func TestPurgeOnFullBackupFilesystem(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	dir := t.TempDir()
	fs := filepath.Join(dir, "backupfs")
	tmpfs.Mount(t, fs, "32m") // before the agent: unmounted after it closes
	ta := startAgentIn(t, dir, now)
	ctx := context.Background()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 41, Accounts: 4, Messages: 600, MaxSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	ta.generated = true
	const reserveMB = 2
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": filepath.Join(fs, "backup"), "realtime_scanner": false,
		"reserved_space": map[string]any{"backup_mb": reserveMB, "metadata_mb": 0},
		"purge":          map[string]any{"enabled": false, "item_retention_days": 1, "account_retention_days": 1},
	})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	run := func(req api.OperationRequest) *api.Operation {
		t.Helper()
		return ta.run(t, req)
	}
	if done := run(api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan: %+v", done)
	}
	// A new agent process: the pack written so far is closed (a purge
	// leaves alone the pack its own process is still writing).
	ta.srv.Close()
	if err := ta.a.Close(); err != nil {
		t.Fatal(err)
	}
	ta = startAgentIn(t, dir, now)
	ta.generated = true
	waitState(t, ta.c, "idle")
	// Two of the four accounts go: half the pack is theirs.
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) != 4 {
		t.Fatalf("accounts: %+v %v", list, err)
	}
	for _, a := range list[:2] {
		if err := os.RemoveAll(filepath.Dir(accountRoot(ta, a.Name))); err != nil {
			t.Fatal(err)
		}
	}
	advance(time.Hour)
	if done := run(api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan recording the deletions: %+v", done)
	}
	// The disk fills below the reserve: SmartScan stops there.
	filler := tmpfs.Fill(t, filepath.Join(fs, "filler"), reserveMB<<20/2)
	deliver(t, accountRoot(ta, list[2].Name), 4, 64<<10, 2)
	if done := run(api.OperationRequest{Type: "smartscan"}); done.State != api.StateFailed || !strings.Contains(done.Error, "reserved_space.backup_mb") {
		t.Fatalf("SmartScan below the reserve: %s %q", done.State, done.Error)
	}

	advance(3 * 24 * time.Hour)
	purged := func(op *api.Operation) purge.Result {
		t.Helper()
		var res purge.Result
		b, _ := json.Marshal(op.Result)
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	done := run(api.OperationRequest{Type: "purge"})
	res := purged(done)
	if done.State != api.StateSucceeded || len(res.RemovedAccounts) != 2 || res.PacksRewritten != 0 ||
		len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "rewriting packs stopped") || !strings.Contains(res.Warnings[0], "reserved_space.backup_mb") {
		t.Fatalf("purge below the reserve: %s %q: %d accounts removed, %d packs rewritten, warnings %q; want 2 removed, the rewrite stopped by the reserve",
			done.State, done.Error, len(res.RemovedAccounts), res.PacksRewritten, res.Warnings)
	}
	t.Logf("purge below the reserve: %s", res.Warnings[0])
	if done := run(api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep after the purge below the reserve: %s %q", done.State, done.Error)
	}

	// Space comes back: the next purge rewrites the pack and gives back
	// the space of the accounts removed; SmartScan goes on.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	before := tmpfs.Free(t, fs)
	done = run(api.OperationRequest{Type: "purge"})
	if res := purged(done); done.State != api.StateSucceeded || res.PacksRewritten == 0 || len(res.Warnings) != 0 || res.BytesFreed == 0 {
		t.Fatalf("purge once space is back: %s %q %+v", done.State, done.Error, res)
	}
	if after := tmpfs.Free(t, fs); after <= before {
		t.Errorf("the purge once space is back gave no space back: %d bytes free before, %d after", before, after)
	}
	if done := run(api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded || scanResult(t, done).New != 4 {
		t.Fatalf("SmartScan after the purge: %s %q %+v, want the 4 deliveries new", done.State, done.Error, done.Result)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.ReservedSpace.Stopped != "" || st.Purge.LastRun == nil || st.Purge.LastRun.Outcome != "ok" {
		t.Errorf("status after space came back: %+v %v", st, err)
	}
	if done := run(api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep: %s %q", done.State, done.Error)
	}
}
