package agent

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// TestExportRefusedDuringPurge: while a purge runs (it may rewrite the
// packs an export reads), an export is refused as busy, naming the purge;
// once the purge is over, the refusal is gone.
func TestExportRefusedDuringPurge(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{StateDir: filepath.Join(dir, "state"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + dir + "/vmail/%d/%n/Maildir", "backup_path": filepath.Join(dir, "backup"),
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0}, "smartscan": map[string]any{"enabled": false}, "realtime_scanner": false,
	})
	if _, err := a.PutConfig(doc, "", "test"); err != nil {
		t.Fatal(err)
	}
	// Wait for the repository to open: the switch waits for running
	// operations, and the stand-in purge below never ends by itself.
	if _, err := a.current(); err != nil {
		t.Fatal(err)
	}
	purge, err := a.ops.start("purge", nil, nil, func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	_, busy, err := a.prepareExport(api.ExportRequest{Account: "ann@example.com", Format: "mbox"})
	if !errors.Is(err, ErrBusy) || busy == nil || busy.ID != purge.ID {
		t.Fatalf("export during a purge: %v (running %+v)", err, busy)
	}
	a.ops.cancel(purge.ID)
	a.ops.wait(context.Background(), purge.ID)
	// Now the request gets as far as the catalog, which does not know the
	// account.
	if _, _, err := a.prepareExport(api.ExportRequest{Account: "ann@example.com", Format: "mbox"}); errors.Is(err, ErrBusy) || err == nil {
		t.Fatalf("export after the purge: %v", err)
	}
}
