package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// hostileStore writes a small Maildir store in which the mail user planted
// a FIFO as a folder's dovecot-uidlist (an open of it blocks until a
// writer comes), a FIFO and a link among the messages, and a folder whose
// cur/ is a link to /etc (issue 11, findings 1, 13 and 16).
func hostileStore(t *testing.T, root string) {
	t.Helper()
	for u := range 2 {
		md := filepath.Join(root, "example.org", fmt.Sprintf("user%d", u), "Maildir")
		for _, d := range []string{"cur", "new", "tmp", ".Work/cur", ".Work/new", ".Work/tmp", ".X/new", ".X/tmp"} {
			if err := os.MkdirAll(filepath.Join(md, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			for _, dir := range []string{"cur", ".Work/cur"} {
				p := filepath.Join(md, dir, fmt.Sprintf("%d.M%dP1.host:2,S", 1000+i, u))
				if err := os.WriteFile(p, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody %d of user%d\r\n", i, i, u)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		if u == 0 {
			for _, err := range []error{
				syscall.Mkfifo(filepath.Join(md, ".Work", "dovecot-uidlist"), 0o600),
				syscall.Mkfifo(filepath.Join(md, "cur", "2000.M1P1.host:2,S"), 0o600),
				os.Symlink("/etc/shadow", filepath.Join(md, "cur", "2001.M1P1.host:2,S")),
				os.WriteFile(filepath.Join(md, ".X", "maildirfolder"), nil, 0o600),
				os.Symlink("/etc", filepath.Join(md, ".X", "cur")),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestSmartScanOfHostileStore: a SmartScan of that store finishes, backs
// up every regular message, says what it skipped (on the command line and
// in the operation's result), and cancel and SIGTERM stop a running scan
// within seconds. Before the fix the scan blocked forever on the FIFO:
// cancel answered but the scan went on, and SIGTERM did not stop the
// agent.
func TestSmartScanOfHostileStore(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	hostileStore(t, root)
	p := startAgentProc(t, dir)
	c := p.client(t)
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir", "backup_path": filepath.Join(dir, "backup"),
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0}, "smartscan": map[string]any{"enabled": false}, "realtime_scanner": false,
	})
	if _, err := c.PutConfig(t.Context(), doc, "", "test"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, c)
	target := []string{"-agent", "unix://" + p.sock}

	// Cancel: the operation ends within seconds, whatever it was doing.
	op, err := c.Start(t.Context(), api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for op.State == api.StateRunning && time.Now().Before(deadline) {
		if op, err = c.Operation(t.Context(), op.ID, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if op.State == api.StateRunning {
		t.Fatalf("the cancelled SmartScan still runs after 20 s:\n%s", p.log)
	}

	// A whole scan: every regular message, the skips named.
	r := mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "SmartScan succeeded") {
		t.Fatalf("smartscan -wait: %+v", r)
	}
	for _, want := range []string{
		"Skipped 4 files or folders (2 fifo, 2 symlink); their backup is kept as it was:",
		`skipped: user0@example.org ".Work/dovecot-uidlist" (fifo)`,
		`skipped: user0@example.org "cur/2000.M1P1.host:2,S" (fifo)`,
		`skipped: user0@example.org "cur/2001.M1P1.host:2,S" (symlink)`,
		`skipped: user0@example.org ".X/cur" (symlink)`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("smartscan -wait does not say %q:\n%s", want, r.stdout)
		}
	}
	r = mailkeep(t, nil, append([]string{"smartscan", "-wait", "-json"}, target...)...)
	var got struct {
		State  string         `json:"state"`
		Result api.ScanResult `json:"result"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("smartscan -wait -json: %+v", r)
	}
	if res := got.Result; res.Items != 200 || res.Skipped["fifo"] != 2 || res.Skipped["symlink"] != 2 || len(res.SkippedItems) != 4 || res.Deleted != 0 {
		t.Fatalf("result: %d items, %d deleted, skipped %v %+v; want 200 items, 0 deleted, 2 fifo and 2 symlink", res.Items, res.Deleted, res.Skipped, res.SkippedItems)
	}

	// SIGTERM during a scan: the agent stops within seconds.
	if _, err := c.Start(context.Background(), api.OperationRequest{Type: "smartscan", Deep: true}); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not stop within 20 s of SIGTERM during a SmartScan:\n%s", p.log)
	}
}
