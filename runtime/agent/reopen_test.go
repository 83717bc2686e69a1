package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestAgentReopensByItself: a repository that cannot be opened (here its
// disk is "not mounted yet": a file stands where its directory goes) is
// reported in status, and the agent takes it up by itself once it can be
// opened, without a restart or a new config; it then runs SmartScans.
func TestAgentReopensByItself(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.WriteFile(disk, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{ReopenWait: 20 * time.Millisecond}
	ta := startAgentWith(t, dir, cfg)
	ctx := context.Background()
	if _, err := ta.c.PutConfig(ctx, ta.document(t, filepath.Join("disk", "backup"), nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta.c, "error")
	if !strings.Contains(st.Error, disk) {
		t.Errorf("status of an unopenable repository: %q, want the path named", st.Error)
	}
	// Several tries fail meanwhile; none of them writes anything.
	waitFor(t, "a second try", func() bool { return strings.Count(ta.logs.String(), "still cannot start") >= 2 })
	if b, err := os.ReadFile(disk); err != nil || string(b) != "not a directory" {
		t.Fatalf("the file in the way changed: %q %v", b, err)
	}

	if err := os.Remove(disk); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan after the repository opened by itself: %+v", done)
	}
	if !strings.Contains(ta.logs.String(), "started after an earlier failure") {
		t.Errorf("the log does not say the backup module started late:\n%s", ta.logs.String())
	}
}
