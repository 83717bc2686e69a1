package agent_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api/apitest"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// TestConformance: the agent's handler, behind the client, passes the
// conformance cases of the config API, which the planner's fake passes
// too (apitest.TestFake).
func TestConformance(t *testing.T) {
	apitest.Run(t, func(t *testing.T) (apitest.Target, string) {
		dir := t.TempDir()
		a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, "state"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler(token))
		t.Cleanup(func() { srv.Close(); a.Close() })
		c, err := client.New(client.Target{URL: srv.URL, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		return c, dir
	})
}
