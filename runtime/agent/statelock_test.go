package agent_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent"
)

// A second agent on the state directory of a running one is refused,
// naming the directory and the holder's pid, and leaves the first
// agent's state alone; once the first closes, the directory is free.
func TestStateDirIsLocked(t *testing.T) {
	ta := startAgent(t)
	state := filepath.Join(ta.dir, "state")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	second, err := agent.New(agent.Config{StateDir: state, Logger: quiet})
	if err == nil {
		second.Close()
		t.Fatal("a second agent started on the state directory of a running one")
	}
	for _, want := range []string{state, fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not name %q", err, want)
		}
	}
	if err := ta.a.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := agent.New(agent.Config{StateDir: state, Logger: quiet})
	if err != nil {
		t.Fatalf("after the first agent closed: %v", err)
	}
	again.Close()
}
