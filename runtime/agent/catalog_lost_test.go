package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// TestCatalogDeletedWhileRunning: a catalog deleted under the running
// agent is noticed: status turns to error naming it, and operations that
// would write into the lost file are refused.
func TestCatalogDeletedWhileRunning(t *testing.T) {
	ta := startAgent(t)
	ctx := context.Background()
	if _, err := ta.c.PutConfig(ctx, ta.document(t, "backup", nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	cat := filepath.Join(ta.dir, "backup", repo.CatalogFile)
	if err := os.Remove(cat); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta.c, "error")
	if !strings.Contains(st.Error, cat) || !strings.Contains(st.Error, "repair -rebuild-catalog") {
		t.Errorf("status error after the catalog was deleted: %q", st.Error)
	}
	if _, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"}); err == nil || !strings.Contains(err.Error(), "was deleted while in use") {
		t.Fatalf("SmartScan without a catalog: %v", err)
	}
}
