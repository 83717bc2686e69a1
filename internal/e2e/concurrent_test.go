package e2e

import (
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestSmartScanDuringRealtime: SmartScans run again and again while the
// realtime scanner records a busy history; both write the catalog, neither
// may fail or lose a change, and a restore gives what IMAP showed.
func TestSmartScanDuringRealtime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob, targetUser(1)}, realtime: true})
	w := newWorkload(t, e, 11, alice.Name, bob.Name)
	scans := 0
	for i := 0; i < 8; i++ {
		op, err := e.cl.Start(t.Context(), api.OperationRequest{Type: "smartscan"})
		if err != nil {
			t.Fatal(err)
		}
		w.run(historyOps / 16)
		for op.State == api.StateRunning {
			if op, err = e.cl.Operation(t.Context(), op.ID, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if op.State != api.StateSucceeded {
			t.Fatalf("SmartScan during realtime: %s: %s", op.State, op.Error)
		}
		scans++
	}
	w.logout()
	e.waitRealtime(w.lastWrite)
	want := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	e.smartScan()
	e.restoreAPI(alice.Name, "", targetUser(1).Name)
	compare(t, "restore after SmartScans during realtime", want, e.snapshot(targetUser(1).Name))
}
