package agent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/tmpfs"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// deliver writes n messages of size bytes (incompressible bodies) into
// the new/ of a Maildir as an MDA does: written in tmp/, renamed.
func deliver(t *testing.T, maildir string, n, size int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		body := make([]byte, size)
		for j := range body {
			body[j] = 'A' + byte(rng.IntN(26))
		}
		msg := fmt.Appendf(nil, "From: a@example.com\r\nSubject: delivery %d-%d\r\n\r\n%s\r\n", seed, i, body)
		name := fmt.Sprintf("%d.M%dP%d.test", time.Now().Unix(), seed*1000+uint64(i), os.Getpid())
		tmp := filepath.Join(maildir, "tmp", name)
		if err := os.WriteFile(tmp, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(maildir, "new", name)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond every 20ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRealtimeOnFullBackupFilesystem fills the backup filesystem while the
// realtime scanner records deliveries: its status reports the failure and
// why, nothing of the deliveries is recorded as if it were stored (nor
// lost), with a reserve the reserve holds though the disk filled long
// after the space was last measured, and once space comes back the scanner records them by itself,
// without a restart or a SmartScan.
func TestRealtimeOnFullBackupFilesystem(t *testing.T) {
	t.Run("reserve", func(t *testing.T) { realtimeOnFullDisk(t, 4, "below the reserved") })
	t.Run("no_reserve", func(t *testing.T) { realtimeOnFullDisk(t, 0, "full") })
}

func realtimeOnFullDisk(t *testing.T, reserveMB int64, why string) {
	dir := t.TempDir()
	fs := filepath.Join(dir, "backupfs")
	// Large enough that the space measured when the store was first
	// recorded would let the deliveries fill the disk, were it trusted.
	tmpfs.Mount(t, fs, "48m") // before the agent: unmounted after it closes
	ta := startAgentIn(t, dir, nil)
	ctx := context.Background()
	doc := ta.document(t, "backupfs/backup", map[string]any{"realtime_scanner": true,
		"reserved_space": map[string]any{"backup_mb": reserveMB, "metadata_mb": 0}})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	const initial = 60
	waitFor(t, "the realtime scanner records the store", func() bool {
		n, err := listedItems(ta)
		return err == nil && n == initial
	})
	status := func() *api.Status {
		st, err := ta.c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Realtime.Detail == nil {
			t.Fatalf("realtime status without detail: %+v", st.Realtime)
		}
		return st
	}
	errorsBefore := status().Realtime.Detail.Errors

	// The backup filesystem fills (with the reserve, to just above it),
	// then mail arrives.
	filler := tmpfs.Fill(t, filepath.Join(fs, "filler"), reserveMB<<20+(512<<10))
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) == 0 {
		t.Fatalf("accounts: %+v %v", list, err)
	}
	maildir := accountRoot(ta, list[0].Name)
	const delivered = 24
	deliver(t, maildir, delivered, 256<<10, 1)
	var st *api.Status
	waitFor(t, "realtime reports the full disk", func() bool {
		st = status()
		return st.Realtime.Detail.Errors > errorsBefore
	})
	if !strings.Contains(st.Realtime.Detail.LastErr, why) || !strings.Contains(st.Realtime.Detail.LastErr, "writing stopped") {
		t.Errorf("realtime's last error on a full disk: %q, want it to say %q and that writing stopped", st.Realtime.Detail.LastErr, why)
	}
	if st.Realtime.State != "running" || st.Realtime.Detail.Pending == 0 {
		t.Errorf("realtime on a full disk: state %q, %d accounts pending; want running with the deliveries pending", st.Realtime.State, st.Realtime.Detail.Pending)
	}
	t.Logf("realtime on a full disk: %s", st.Realtime.Detail.LastErr)

	if n, err := listedItems(ta); err != nil || n != initial {
		t.Errorf("on a full disk the agent lists %d messages (%v), want the %d recorded before", n, err, initial)
	}

	// Space comes back: the scanner records the deliveries by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "realtime records the deliveries once space is back", func() bool {
		n, err := listedItems(ta)
		return err == nil && n == initial+delivered
	})
	waitFor(t, "realtime has nothing pending", func() bool { return status().Realtime.Detail.Pending == 0 })
	if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded || scanResult(t, done).New != 0 {
		t.Errorf("SmartScan after realtime recovered: %s %q %+v, want nothing new", done.State, done.Error, done.Result)
	}
	if done := ta.run(t, api.OperationRequest{Type: "verify", Deep: true}); done.State != api.StateSucceeded {
		t.Fatalf("verify -deep: %s %q", done.State, done.Error)
	}
}
