package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// TestSmartScanLeavesAccountBeingRestored: while a restore writes into an
// account (here it waits in its post_command until the test lets it go),
// a SmartScan neither records that account nor takes it for deleted, and
// says so; once the restore is over the next SmartScan records it (issue
// 11, finding 16: a scan during a restore recorded its half-written
// state).
func TestSmartScanLeavesAccountBeingRestored(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	release := filepath.Join(ta.dir, "release")
	doc := ta.document(t, "backup", map[string]any{
		"restore": map[string]any{"post_command": []string{"sh", "-c", "while [ ! -e " + release + " ]; do sleep 0.05; done"}},
	})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	scanRes := func() scan.Result {
		t.Helper()
		done := ta.run(t, api.OperationRequest{Type: "smartscan"})
		if done.State != api.StateSucceeded {
			t.Fatalf("SmartScan: %+v", done)
		}
		b, _ := json.Marshal(done.Result)
		var res scan.Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	scanRes()
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("accounts: %+v %v", list, err)
	}
	const to = "copy@example.net"
	op, err := ta.c.Start(ctx, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: list[0].Name, To: to}})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until every message is written: the restore is then in its
	// post_command, still running.
	for op.State == api.StateRunning && (op.Progress.ItemsTotal == 0 || op.Progress.ItemsDone < op.Progress.ItemsTotal) {
		if op, err = ta.c.Operation(ctx, op.ID, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if op.State != api.StateRunning {
		t.Fatalf("the restore ended before its post_command was released: %+v", op)
	}
	if res := scanRes(); !reflect.DeepEqual(res.Busy, []string{to}) || res.DeletedAccounts != 0 || res.Accounts != 2 {
		t.Fatalf("SmartScan during the restore: busy %q, %d accounts, %d deleted; want %s left alone", res.Busy, res.Accounts, res.DeletedAccounts, to)
	}
	if list, _ := ta.c.Accounts(ctx, ""); len(list) != 2 {
		t.Fatalf("accounts after the SmartScan during the restore: %+v; want the 2 sources only", list)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("restore: %+v", done)
	}
	if res := scanRes(); len(res.Busy) != 0 || res.New != int64(list[0].Items) {
		t.Fatalf("SmartScan after the restore: busy %q, %d new; want %s recorded with %d messages", res.Busy, res.New, to, list[0].Items)
	}
}
