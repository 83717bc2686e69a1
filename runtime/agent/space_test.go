package agent_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/tmpfs"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// TestFullBackupFilesystem fills a small backup filesystem: the SmartScan
// stops at the reserve (the disk never fills up), its result counts only
// what was committed, status says it failed and why, and once space comes
// back the next SmartScan succeeds without a restart.
func TestFullBackupFilesystem(t *testing.T) {
	t.Run("reserve", func(t *testing.T) { fillBackupFilesystem(t, 4) })
	// Without a reserve the filesystem fills up: the same outcome, said as
	// a full disk.
	t.Run("no_reserve", func(t *testing.T) { fillBackupFilesystem(t, 0) })
}

func fillBackupFilesystem(t *testing.T, reserveMB int64) {
	ta := startAgent(t)
	ctx := context.Background()
	root := filepath.Join(ta.dir, "vmail")
	// More mail than fits, with incompressible attachments.
	if _, err := corpus.Generate(root, corpus.Options{Seed: 9, Accounts: 4, Messages: 1200, MaxSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	ta.generated = true
	fs := filepath.Join(ta.dir, "backupfs")
	tmpfs.Mount(t, fs, "12m")
	reserve := reserveMB << 20
	doc := map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": filepath.Join(fs, "backup"), "realtime_scanner": false,
		"reserved_space": map[string]any{"backup_mb": reserve >> 20, "metadata_mb": reserveMB / 4},
	}
	b, _ := json.Marshal(doc)
	if _, err := ta.c.PutConfig(ctx, b, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	done := ta.run(t, api.OperationRequest{Type: "smartscan"})
	if done.State != api.StateFailed || !strings.Contains(done.Error, "reserved_space.") {
		t.Fatalf("SmartScan on a filesystem too small: %+v", done)
	}
	// The packs stop above the backup reserve; the catalog, on the same
	// filesystem here, may write on down to the metadata reserve.
	if free, floor := tmpfs.Free(t, fs), (reserveMB/4)<<20; reserve > 0 && free < floor {
		t.Errorf("the SmartScan left %d bytes free, below the metadata reserve of %d", free, floor)
	}
	// What the result says was found new was committed.
	var res scan.Result
	rb, _ := json.Marshal(done.Result)
	if err := json.Unmarshal(rb, &res); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(filepath.Join(fs, "backup", repo.CatalogFile), catalog.Options{ReadOnly: true})
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
	if st.SmartScan.LastRun == nil || st.SmartScan.LastRun.Outcome != "failed" || !strings.Contains(st.ReservedSpace.Stopped, "writing stopped") {
		t.Fatalf("status after the stop: last run %+v, reserved space %+v", st.SmartScan.LastRun, st.ReservedSpace)
	}

	// Space comes back: the next SmartScan finishes, no restart needed.
	if out, err := exec.Command("mount", "-o", "remount,size=96m", fs).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v: %s", err, out)
	}
	if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan after space came back: %+v", done)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.ReservedSpace.Stopped != "" || st.SmartScan.LastRun.Outcome != "ok" {
		t.Fatalf("status after space came back: %+v %v", st, err)
	}
}
