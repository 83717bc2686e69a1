package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// TestGranularOperations: restore-undelete, restore-item and restore
// -into-folder through the API: bad input is refused at once (400, nothing
// started); while one writes into an account (held in its post_command),
// a purge and a second restore of that account are refused as busy.
func TestGranularOperations(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ta := startAgentAt(t, now)
	ctx := context.Background()
	release := filepath.Join(ta.dir, "release")
	doc := ta.document(t, "backup", map[string]any{"restore": map[string]any{
		"post_command": []string{"sh", "-c", "while [ ! -e " + release + " ]; do sleep 0.02; done"}}})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	start := func(req api.OperationRequest) (*api.Operation, error) { return ta.c.Start(ctx, req) }
	op, err := start(api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, ta.c, op.ID)
	t0 := clock
	list, err := ta.c.Accounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	account := list[0].Name
	before := countMessages(t, accountRoot(ta, account))
	if _, err := corpus.Delete(filepath.Join(ta.dir, "vmail"), 0.3, 4); err != nil {
		t.Fatal(err)
	}
	n := before - countMessages(t, accountRoot(ta, account))
	if n == 0 {
		t.Fatal("nothing deleted from the account")
	}
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	op, _ = start(api.OperationRequest{Type: "smartscan"})
	waitOp(t, ta.c, op.ID)

	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	undelete := api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{From: rfc(t0.Add(time.Second)), Until: rfc(clock)}}
	for _, c := range []struct {
		req  api.OperationRequest
		want string
	}{
		{api.OperationRequest{Type: "restore-item", RestoreRequest: api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{Items: []int64{424242}}}}, "item 424242 (no such item)"},
		{api.OperationRequest{Type: "restore-undelete", RestoreRequest: api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{From: rfc(clock), Until: rfc(t0)}}}, "is not after its start"},
		{api.OperationRequest{Type: "restore-undelete", RestoreRequest: api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{From: rfc(t0)}}}, `needs "until"`},
		{api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{IntoFolder: "b64:QS5C"}}}, "Maildir++ uses as its separator"},
		{api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: "nobody@example.com", GranularRequest: api.GranularRequest{IntoFolder: "R"}}}, "nobody@example.com"},
	} {
		_, err := start(c.req)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want 400 containing %q", c.req.Type, c.req.GranularRequest, err, c.want)
		}
	}

	op, err = start(api.OperationRequest{Type: "restore-undelete", RestoreRequest: undelete})
	if err != nil {
		t.Fatal(err)
	}
	if op.Type != "restore:"+account || op.Params["strategy"] != "undelete" {
		t.Errorf("operation %s %v", op.Type, op.Params)
	}
	// It is now held in its post_command.
	if _, err := start(api.OperationRequest{Type: "purge"}); !client.Busy(err) {
		t.Errorf("purge during a restore: %v, want busy", err)
	}
	if _, err := start(api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: account, GranularRequest: api.GranularRequest{IntoFolder: "R"}}}); !client.Busy(err) {
		t.Errorf("a second restore of the account: %v, want busy", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done := waitOp(t, ta.c, op.ID)
	var res restore.LiveResult
	b, _ := json.Marshal(done.Result)
	json.Unmarshal(b, &res)
	if done.State != api.StateSucceeded || res.Messages == 0 || res.Messages+res.Skipped != n || res.Keyword != "undelete_"+clock.Local().Format("2006-01-02") ||
		res.PostCommand == nil || res.PostCommand.Outcome() != "ok" {
		t.Fatalf("undelete of %d deleted messages: %+v %+v", n, done, res)
	}
	if done.Progress.ItemsDone != done.Progress.ItemsTotal || done.Progress.ItemsTotal != int64(n) {
		t.Errorf("progress %+v, want %d of %d", done.Progress, n, n)
	}
}

// countMessages counts the message files below a Maildir.
func countMessages(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// accountRoot is the Maildir of an account of the generated store.
func accountRoot(ta *testAgent, account string) string {
	user, domain, _ := strings.Cut(account, "@")
	return filepath.Join(ta.dir, "vmail", domain, user, "Maildir")
}
