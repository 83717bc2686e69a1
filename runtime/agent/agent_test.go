package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

const token = "s3cret-token-value"

// testAgent is an in-process agent behind an HTTP test server.
type testAgent struct {
	a    *agent.Agent
	srv  *httptest.Server
	c    *client.Client
	dir  string
	logs *strings.Builder
	// generated is set once the test's mail store exists.
	generated bool
}

func startAgent(t *testing.T) *testAgent {
	t.Helper()
	return startAgentAt(t, nil)
}

// startAgentAt starts an agent whose clock is now (time.Now when nil).
func startAgentAt(t *testing.T, now func() time.Time) *testAgent {
	t.Helper()
	return startAgentIn(t, t.TempDir(), now)
}

// startAgentIn starts an agent whose state directory is DIR/state.
func startAgentIn(t *testing.T, dir string, now func() time.Time) *testAgent {
	t.Helper()
	return startAgentWith(t, dir, agent.Config{Now: now})
}

// startAgentWith starts an agent of config cfg whose state directory is
// DIR/state, logging to the test agent's logs.
func startAgentWith(t *testing.T, dir string, cfg agent.Config) *testAgent {
	t.Helper()
	logs := &strings.Builder{}
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Logger = slog.New(slog.NewTextHandler(&syncWriter{b: logs}, nil))
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(token))
	t.Cleanup(func() { srv.Close(); a.Close() })
	c, err := client.New(client.Target{URL: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return &testAgent{a: a, srv: srv, c: c, dir: dir, logs: logs}
}

type syncWriter struct {
	b *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// document returns a config document for a generated store under dir.
func (ta *testAgent) document(t *testing.T, backup string, extra map[string]any) []byte {
	t.Helper()
	root := filepath.Join(ta.dir, "vmail")
	if !ta.generated {
		if _, err := corpus.Generate(root, corpus.Options{Seed: 5, Accounts: 2, Messages: 60, MaxSize: 64 << 10}); err != nil {
			t.Fatal(err)
		}
		ta.generated = true
	}
	doc := map[string]any{
		"format_version": 1,
		"mail_store":     "maildir:" + root + "/%d/%n/Maildir",
		"backup_path":    filepath.Join(ta.dir, backup),
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"description":    "test server",
		// SmartScan tests count what a scan finds: keep the realtime
		// scanner from recording it first.
		"realtime_scanner": false,
	}
	for k, v := range extra {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	return b
}

func TestConfigLifecycle(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	if _, err := ta.c.Config(ctx); !errors.Is(err, client.ErrUnconfigured) {
		t.Fatalf("unconfigured agent: Config() error %v, want ErrUnconfigured", err)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.State != "unconfigured" {
		t.Fatalf("status of an unconfigured agent: %+v %v", st, err)
	}
	doc := ta.document(t, "backup", nil)
	cs, err := ta.c.PutConfig(ctx, doc, "", "test-apply")
	if err != nil {
		t.Fatal(err)
	}
	if cs.Revision != 1 || cs.LastApplied == nil || cs.LastApplied.ETag != cs.ETag || cs.LastApplied.Client != "test-apply" {
		t.Errorf("first config: %+v", cs)
	}
	// The document comes back with every default filled in.
	var stored map[string]any
	json.Unmarshal(cs.Document, &stored)
	if stored["enabled_at_startup"] != true || stored["purge"].(map[string]any)["item_retention_days"] != float64(30) {
		t.Errorf("defaults not filled in: %s", cs.Document)
	}
	// A write with a stale ETag is refused with 409.
	if _, err := ta.c.PutConfig(ctx, doc, "0000", "x"); !client.Conflict(err) {
		t.Errorf("stale If-Match: %v, want a conflict", err)
	}
	// A direct change (no client name) moves the revision but not
	// last_applied: that is drift.
	doc2 := ta.document(t, "backup", map[string]any{"description": "changed by hand"})
	cs2, err := ta.c.PutConfig(ctx, doc2, cs.ETag, "")
	if err != nil {
		t.Fatal(err)
	}
	if cs2.Revision != 2 || cs2.LastApplied.ETag != cs.ETag || cs2.ETag == cs.ETag {
		t.Errorf("direct change: %+v", cs2)
	}
	// The same document again changes nothing.
	cs3, err := ta.c.PutConfig(ctx, doc2, cs2.ETag, "")
	if err != nil || cs3.Revision != 2 {
		t.Errorf("same document: revision %d, %v", cs3.Revision, err)
	}
	// Invalid documents are refused with the setting named.
	bad := strings.Replace(string(doc2), `"description"`, `"purge":{"schedule":"0 99 * * *"},"description"`, 1)
	_, err = ta.c.PutConfig(ctx, []byte(bad), cs2.ETag, "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, "purge.schedule") {
		t.Errorf("invalid document: %v", err)
	}
	// The state survives a restart.
	ta.a.Close()
	a2, err := agent.New(agent.Config{StateDir: filepath.Join(ta.dir, "state"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	got, err := a2.Config()
	if err != nil || got.ETag != cs2.ETag || got.Revision != 2 {
		t.Errorf("after restart: %+v %v", got, err)
	}
}

func TestTokenRequired(t *testing.T) {
	ta := startAgent(t)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token} {
		req, _ := http.NewRequest("GET", ta.srv.URL+"/v1/status", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	if strings.Contains(ta.logs.String(), "Bearer wrong") || strings.Contains(ta.logs.String(), token) {
		t.Errorf("the log shows what the client sent:\n%s", ta.logs.String())
	}
	if !strings.Contains(ta.logs.String(), "missing or wrong token") {
		t.Errorf("refusals are not logged:\n%s", ta.logs.String())
	}
}

// waitOp follows an operation to its end.
func waitOp(t *testing.T, c *client.Client, id string) *api.Operation {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		op, err := c.Operation(context.Background(), id, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if op.State != api.StateRunning {
			return op
		}
	}
	t.Fatalf("operation %s did not finish", id)
	return nil
}

// start starts an operation, asking again while the repository of a
// config just applied is still being opened in the background.
func (ta *testAgent) start(t *testing.T, req api.OperationRequest) *api.Operation {
	t.Helper()
	var op *api.Operation
	var err error
	for i := 0; i < 50; i++ {
		if op, err = ta.c.Start(context.Background(), req); err == nil {
			return op
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}

// run starts an operation and waits for its end.
func (ta *testAgent) run(t *testing.T, req api.OperationRequest) *api.Operation {
	t.Helper()
	return waitOp(t, ta.c, ta.start(t, req).ID)
}

func TestOperations(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	if _, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"}); err == nil || !strings.Contains(err.Error(), "unconfigured") {
		t.Fatalf("SmartScan on an unconfigured agent: %v", err)
	}
	if _, err := ta.c.PutConfig(ctx, ta.document(t, "backup", nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	op := ta.start(t, api.OperationRequest{Type: "smartscan"})
	// A second SmartScan while the first runs is refused and names it.
	if _, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"}); err != nil && !client.Busy(err) {
		t.Errorf("second SmartScan: %v, want busy", err)
	}
	done := waitOp(t, ta.c, op.ID)
	if done.State != api.StateSucceeded {
		t.Fatalf("SmartScan: %+v", done)
	}
	b, _ := json.Marshal(done.Result)
	var res scan.Result
	json.Unmarshal(b, &res)
	if res.New != 60 || res.Accounts != 2 {
		t.Errorf("SmartScan result: %+v", res)
	}
	st, err := ta.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "idle" || st.Description != "test server" || st.SmartScan.LastRun == nil || st.SmartScan.LastRun.Outcome != "ok" ||
		st.SmartScan.LastSuccessAgeSeconds == nil || st.SmartScan.NextRun == nil || st.Space.BackupBytes == 0 || st.Space.MetadataBytes == 0 {
		t.Errorf("status after a SmartScan: %+v", st)
	}
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) != 2 || list[0].Items+list[1].Items != 60 {
		t.Errorf("accounts: %+v %v", list, err)
	}
	// Restore one account into another, then verify.
	op, err = ta.c.Start(ctx, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: list[0].Name, To: "copy@example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("restore: %+v", done)
	}
	op, err = ta.c.Start(ctx, api.OperationRequest{Type: "verify", Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("verify: %+v", done)
	}
	// Account names are validated: no path escapes.
	for _, bad := range []string{"../../etc@x", "a/b@example.com", ".hidden@example.com", "x@../y"} {
		_, err := ta.c.Start(ctx, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: list[0].Name, To: bad}})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("restore into %q: %v, want 400", bad, err)
		}
	}
}

func TestBackupPathChange(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	cs, err := ta.c.PutConfig(ctx, ta.document(t, "backup-a", nil), "", "t")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	if _, err := ta.c.PutConfig(ctx, ta.document(t, "backup-b", nil), cs.ETag, "t"); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta.c, "idle")
	if st.BackupPath != filepath.Join(ta.dir, "backup-b") || len(st.OldRepositories) != 1 ||
		st.OldRepositories[0].Path != filepath.Join(ta.dir, "backup-a") {
		t.Errorf("after a backup_path change: %+v", st)
	}
}

func waitState(t *testing.T, c *client.Client, want string) *api.Status {
	t.Helper()
	for i := 0; i < 200; i++ {
		st, err := c.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.State == want {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("agent never reached state %q", want)
	return nil
}

// TestReservedSpaceStopsWriting: below the reserve, a SmartScan stops
// cleanly, says why, and status reports it; the repository stays valid.
func TestReservedSpaceStopsWriting(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	doc := ta.document(t, "backup", map[string]any{"reserved_space": map[string]any{"backup_mb": 1 << 40, "metadata_mb": 0}})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	op, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	done := waitOp(t, ta.c, op.ID)
	if done.State != api.StateFailed || !strings.Contains(done.Error, "reserved_space.backup_mb") {
		t.Fatalf("SmartScan below the reserve: %+v", done)
	}
	st, err := ta.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.ReservedSpace.Stopped, "below the reserved") {
		t.Errorf("status does not say writing stopped: %+v", st.ReservedSpace)
	}
	op, err = ta.c.Start(ctx, api.OperationRequest{Type: "verify"})
	if err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("verify after the stop: %+v", done)
	}
}

// TestCancelSmartScan cancels a running SmartScan: it ends as cancelled,
// keeps the accounts it finished, and the next one completes the job.
func TestCancelSmartScan(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	root := filepath.Join(ta.dir, "big")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 9, Accounts: 8, Messages: 8000, MaxSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": filepath.Join(ta.dir, "backup"), "reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"realtime_scanner": false})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	op, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.c.Cancel(ctx, op.ID); err != nil {
		t.Fatal(err)
	}
	done := waitOp(t, ta.c, op.ID)
	if done.State != api.StateCancelled {
		t.Fatalf("cancelled SmartScan ended %s", done.State)
	}
	st, _ := ta.c.Status(ctx)
	if st.SmartScan.LastRun == nil || st.SmartScan.LastRun.Outcome != "cancelled" {
		t.Errorf("status after a cancel: %+v", st.SmartScan)
	}
	op, err = ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	done = waitOp(t, ta.c, op.ID)
	var res scan.Result
	b, _ := json.Marshal(done.Result)
	json.Unmarshal(b, &res)
	if done.State != api.StateSucceeded || res.Items != 8000 || res.New+res.Unchanged != 8000 {
		t.Errorf("SmartScan after the cancel: %s %+v", done.State, res)
	}
}

// TestRealtimeToggle turns the realtime scanner on and off through the
// config, without restarting the agent.
func TestRealtimeToggle(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	cs, err := ta.c.PutConfig(ctx, ta.document(t, "backup", map[string]any{"realtime_scanner": true}), "", "t")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	waitRealtime := func(want string) *api.Status {
		t.Helper()
		for i := 0; i < 250; i++ {
			st, err := ta.c.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Realtime.State == want {
				return st
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("realtime never reached %q", want)
		return nil
	}
	st := waitRealtime("running")
	// It records the store without any SmartScan.
	for i := 0; i < 250; i++ {
		list, _ := ta.c.Accounts(ctx, "")
		if len(list) == 2 && list[0].Items+list[1].Items == 60 {
			break
		}
		if i == 249 {
			t.Fatalf("the realtime scanner did not record the store: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Realtime.Detail == nil || st.Realtime.Detail.Watches == 0 {
		t.Errorf("realtime status: %+v", st.Realtime)
	}
	cs, err = ta.c.PutConfig(ctx, ta.document(t, "backup", map[string]any{"realtime_scanner": false}), cs.ETag, "t")
	if err != nil {
		t.Fatal(err)
	}
	waitRealtime("off")
	if _, err = ta.c.PutConfig(ctx, ta.document(t, "backup", map[string]any{"realtime_scanner": true}), cs.ETag, "t"); err != nil {
		t.Fatal(err)
	}
	waitRealtime("running")
}

// TestPurgeOperation purges, through the agent, the messages deleted more
// than item_retention_days ago by its clock, after a dry run that lists the
// same and changes nothing.
func TestPurgeOperation(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	ta := startAgentAt(t, now)
	ctx := context.Background()
	doc := ta.document(t, "backup", map[string]any{"purge": map[string]any{"enabled": false, "item_retention_days": 7}})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	run := func(req api.OperationRequest) *api.Operation {
		t.Helper()
		op, err := ta.c.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		done := waitOp(t, ta.c, op.ID)
		if done.State != api.StateSucceeded {
			t.Fatalf("%s: %+v", req.Type, done)
		}
		return done
	}
	run(api.OperationRequest{Type: "smartscan"})
	n, err := corpus.Delete(filepath.Join(ta.dir, "vmail"), 0.2, 3)
	if err != nil || n == 0 {
		t.Fatalf("deleting: %d %v", n, err)
	}
	advance(time.Hour)
	run(api.OperationRequest{Type: "smartscan"})
	advance(8 * 24 * time.Hour)
	items := func(op *api.Operation) int64 {
		var res struct {
			Items int64 `json:"items"`
		}
		b, _ := json.Marshal(op.Result)
		json.Unmarshal(b, &res)
		return res.Items
	}
	dry := run(api.OperationRequest{Type: "purge", RestoreRequest: api.RestoreRequest{DryRun: true}})
	if items(dry) != int64(n) {
		t.Errorf("dry run lists %d messages, want the %d deleted", items(dry), n)
	}
	real := run(api.OperationRequest{Type: "purge"})
	if items(real) != int64(n) {
		t.Errorf("purge removed %d messages, want %d", items(real), n)
	}
	again := run(api.OperationRequest{Type: "purge"})
	if items(again) != 0 {
		t.Errorf("a second purge removed %d more", items(again))
	}
	st, err := ta.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Purge.LastRun == nil || st.Purge.LastRun.Outcome != "ok" || !st.Purge.Active {
		t.Errorf("purge status: %+v", st.Purge)
	}
	run(api.OperationRequest{Type: "verify", Deep: true})
}
