package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit"
	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// storeBytes sums the sizes of the message files under a store root.
func storeBytes(t *testing.T, root string) int64 {
	t.Helper()
	n, err := corpus.MessageBytes(root)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEvaluateImpacts builds a repository with a history (a SmartScan,
// deletions, a deleted account, another SmartScan an hour later), then
// evaluates candidates ten days later and checks the numbers against
// what was deleted.
func TestEvaluateImpacts(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	stats, err := corpus.Generate(root, corpus.Options{Seed: 11, Accounts: 4, Messages: 400, MaxSize: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // a Monday
	a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, "state"), Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(""))
	t.Cleanup(func() { srv.Close(); a.Close() })
	c, err := client.New(client.Target{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	live := map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir", "backup_path": filepath.Join(dir, "backup"),
		"realtime_scanner": false, "reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"smartscan": map[string]any{"enabled": false},
		"purge":     map[string]any{"schedule": "0 4 * * 6", "timezone": "UTC", "item_retention_days": 30, "account_retention_days": 30},
	}
	doc := func(edits map[string]map[string]any, top map[string]any) []byte {
		m := map[string]any{}
		b, _ := json.Marshal(live)
		json.Unmarshal(b, &m)
		for block, kv := range edits {
			sub, _ := m[block].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				m[block] = sub
			}
			for k, v := range kv {
				sub[k] = v
			}
		}
		for k, v := range top {
			m[k] = v
		}
		out, _ := json.Marshal(m)
		return out
	}

	// Unconfigured: everything is created, nothing is lost.
	ev, err := c.Evaluate(ctx, doc(nil, nil))
	if err != nil || ev.LiveETag != "" || len(ev.Impacts) != 0 {
		t.Fatalf("unconfigured: %+v %v", ev, err)
	}
	if _, err := c.PutConfig(ctx, doc(nil, nil), "", "test"); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "idle")
	if op := runScan(t, c); op.State != api.StateSucceeded {
		t.Fatalf("first SmartScan: %+v", op)
	}

	// Delete an account, then a tenth of the other accounts' messages.
	gone := stats.PerAccount[3]
	if err := os.RemoveAll(filepath.Dir(gone.Maildir)); err != nil {
		t.Fatal(err)
	}
	before := storeBytes(t, root)
	deleted, err := corpus.Delete(root, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	deletedBytes := before - storeBytes(t, root)
	clk.Set(clk.Now().Add(time.Hour))
	if op := runScan(t, c); op.State != api.StateSucceeded {
		t.Fatalf("second SmartScan: %+v", op)
	}
	clk.Set(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)) // ten days later
	nextPurge := time.Date(2026, 3, 14, 4, 0, 0, 0, time.UTC)

	impact := func(ev *api.Evaluation, path string) api.Impact {
		t.Helper()
		for _, imp := range ev.Impacts {
			if imp.Path == path {
				return imp
			}
		}
		t.Fatalf("no impact on %s in %+v", path, ev)
		return api.Impact{}
	}

	// Lower item retention to 5 days: the messages deleted (in the accounts
	// that remain) become purgeable at Saturday's purge.
	ev, err = c.Evaluate(ctx, doc(map[string]map[string]any{"purge": {"item_retention_days": 5}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	imp := impact(ev, "purge.item_retention_days")
	if imp.Items != int64(deleted) || imp.Bytes != deletedBytes || !imp.Destructive || !imp.Counted || imp.NextPurge == nil || !imp.NextPurge.Equal(nextPurge) {
		t.Errorf("item retention 5: %+v (deleted %d messages, %d bytes)", imp, deleted, deletedBytes)
	}
	for _, n := range imp.Accounts {
		if n == gone.Address {
			t.Errorf("the deleted account %s counts under item retention", n)
		}
	}
	if !strings.Contains(imp.Reason, "become purgeable at the next purge (2026-03-14 04:00 UTC)") {
		t.Errorf("reason %q", imp.Reason)
	}

	// Lower account retention to 5 days: the deleted account.
	ev, err = c.Evaluate(ctx, doc(map[string]map[string]any{"purge": {"account_retention_days": 5}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	imp = impact(ev, "purge.account_retention_days")
	if !imp.Destructive || len(imp.Accounts) != 1 || imp.Accounts[0] != gone.Address || imp.Items != int64(gone.Messages) || imp.Bytes != gone.Bytes {
		t.Errorf("account retention 5: %+v (gone %s, %d messages)", imp, gone.Address, gone.Messages)
	}

	// 20 days: the deletions are only 10 days old at the purge; nothing
	// is purged earlier, but the change is still destructive.
	ev, _ = c.Evaluate(ctx, doc(map[string]map[string]any{"purge": {"item_retention_days": 20}}, nil))
	if imp = impact(ev, "purge.item_retention_days"); imp.Items != 0 || !imp.Destructive || !strings.Contains(imp.Reason, "No message deleted so far") {
		t.Errorf("item retention 20: %+v", imp)
	}
	// Raising retention is not an impact.
	ev, _ = c.Evaluate(ctx, doc(map[string]map[string]any{"purge": {"item_retention_days": 90}}, nil))
	if len(ev.Impacts) != 0 {
		t.Errorf("raising retention: %+v", ev.Impacts)
	}

	// Excluding an account: it stops being backed up.
	victim := stats.PerAccount[0]
	ev, _ = c.Evaluate(ctx, doc(map[string]map[string]any{"accounts": {"exclude": []string{victim.Address}}}, nil))
	imp = impact(ev, "accounts.exclude")
	if !imp.Destructive || len(imp.Accounts) != 1 || imp.Accounts[0] != victim.Address || imp.Items == 0 || !strings.Contains(imp.Reason, "stop being backed up") {
		t.Errorf("exclude: %+v", imp)
	}
	// Widening include only: nobody is lost.
	ev, _ = c.Evaluate(ctx, doc(map[string]map[string]any{"accounts": {"include": []string{"*", "extra@*"}}}, nil))
	if imp = impact(ev, "accounts.include"); imp.Destructive {
		t.Errorf("widening include: %+v", imp)
	}

	// Switches and paths.
	ev, _ = c.Evaluate(ctx, doc(map[string]map[string]any{"purge": {"enabled": false}, "smartscan": {"enabled": false}},
		map[string]any{"backup_path": filepath.Join(dir, "elsewhere")}))
	if imp = impact(ev, "backup_path"); !imp.Destructive || !strings.Contains(imp.Reason, "stays where it is") {
		t.Errorf("backup_path: %+v", imp)
	}
	if imp = impact(ev, "purge.enabled"); !imp.Destructive {
		t.Errorf("purge.enabled: %+v", imp)
	}
	// A mail store without the accounts: they would count as deleted.
	ev, _ = c.Evaluate(ctx, doc(nil, map[string]any{"mail_store": "maildir:" + filepath.Join(dir, "empty") + "/%d/%n/Maildir"}))
	if imp = impact(ev, "mail_store"); !imp.Destructive || len(imp.Accounts) != 3 {
		t.Errorf("mail_store: %+v", imp)
	}

	if _, err := c.Evaluate(ctx, []byte(`{"format_version": 1}`)); !strings.Contains(errString(err), "mail_store is required") {
		t.Errorf("bad candidate: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// runScan runs a SmartScan to its end.
func runScan(t *testing.T, c *client.Client) *api.Operation {
	t.Helper()
	op, err := c.Start(context.Background(), api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	return waitOp(t, c, op.ID)
}
