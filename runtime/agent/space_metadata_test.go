package agent_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/tmpfs"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// TestFullMetadataFilesystem puts the catalog on a filesystem of its own,
// too small for the store's catalog, the packs on a large one: the
// SmartScan stops when the catalog's filesystem reaches
// reserved_space.metadata_mb (or fills up, without a reserve), says so
// naming the catalog, counts only what it committed, status says writing
// stopped, and once the filesystem grows the next SmartScan finishes,
// without a restart.
func TestFullMetadataFilesystem(t *testing.T) {
	// The catalog of the store takes 17 MB. The reserve is checked before
	// each account; what the SmartScan recorded since its last commit (at
	// most 2 s of work: here up to 7 MB of write-ahead log) is committed
	// after the stop, in the reserve, which must leave room to record the
	// outcome.
	t.Run("reserve", func(t *testing.T) { fillMetadataFilesystem(t, "18m", 12, "below the reserved 12 MB") })
	t.Run("no_reserve", func(t *testing.T) { fillMetadataFilesystem(t, "8m", 0, "is full") })
}

func fillMetadataFilesystem(t *testing.T, size string, reserveMB int64, why string) {
	dir := t.TempDir()
	meta := filepath.Join(dir, "metafs")
	backup := filepath.Join(meta, "backup")
	// Both before the agent: unmounted after it closes, the packs first.
	tmpfs.Mount(t, meta, size)
	tmpfs.Mount(t, filepath.Join(backup, repo.PacksDir), "256m")
	ta := startAgentIn(t, dir, nil)
	ctx := context.Background()
	root := filepath.Join(dir, "vmail")
	// Many small messages in many accounts: a catalog of several MB, each
	// account a small part of it; packs of less than 200 MB.
	if _, err := corpus.Generate(root, corpus.Options{Seed: 31, Accounts: 40, Messages: 12000, MaxSize: 16 << 10}); err != nil {
		t.Fatal(err)
	}
	ta.generated = true
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": backup, "realtime_scanner": false,
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": reserveMB},
	})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	done := ta.run(t, api.OperationRequest{Type: "smartscan"})
	if done.State != api.StateFailed || !strings.Contains(done.Error, "reserved_space.metadata_mb") || !strings.Contains(done.Error, repo.CatalogFile) || !strings.Contains(done.Error, why) {
		t.Fatalf("SmartScan with a full catalog filesystem: %s %q, want failed naming the catalog and reserved_space.metadata_mb, saying %q", done.State, done.Error, why)
	}
	t.Logf("SmartScan with a full catalog filesystem: %s", done.Error)
	// What the result says was found new was committed.
	res := scanResult(t, done)
	cat, err := catalog.Open(filepath.Join(backup, repo.CatalogFile), catalog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var items int64
	if err := cat.DB().QueryRow(`SELECT count(*) FROM items`).Scan(&items); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	if res.New != items {
		t.Errorf("the failed SmartScan reports %d new messages; the catalog holds %d", res.New, items)
	}
	st, err := ta.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Without a reserve nothing gives the catalog's filesystem space back
	// (on a shared one the pack cut back does): the outcome may not be
	// recordable, and the run is then shown started and not finished, the
	// reason in reserved_space.stopped. With the reserve it is recorded.
	recorded := st.SmartScan.LastRun != nil && st.SmartScan.LastRun.Outcome == "failed"
	unrecorded := reserveMB == 0 && st.SmartScan.LastRun != nil && st.SmartScan.LastRun.Finished == nil && len(st.Running) == 0
	if !(recorded || unrecorded) || !strings.Contains(st.ReservedSpace.Stopped, "writing stopped") || !strings.Contains(st.ReservedSpace.Stopped, repo.CatalogFile) {
		t.Errorf("status after the stop: last run %+v, running %d, reserved space %+v", st.SmartScan.LastRun, len(st.Running), st.ReservedSpace)
	}

	// The filesystem grows: the next SmartScan finishes.
	tmpfs.Resize(t, meta, "64m")
	done = ta.run(t, api.OperationRequest{Type: "smartscan"})
	if done.State != api.StateSucceeded {
		t.Fatalf("SmartScan after the catalog's filesystem grew: %s %q", done.State, done.Error)
	}
	if res := scanResult(t, done); res.New+items != 12000 {
		t.Errorf("SmartScan after the catalog's filesystem grew: %d new after %d, want 12000 in all", res.New, items)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.ReservedSpace.Stopped != "" || st.SmartScan.LastRun.Outcome != "ok" {
		t.Fatalf("status after space came back: %+v %v", st, err)
	}
	if done := ta.run(t, api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep: %s %q", done.State, done.Error)
	}
}
