package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second agent process on the state directory of a running one exits
// non-zero, naming the directory and the first agent's pid, and the first
// agent goes on serving.
func TestSecondAgentOnStateDirRefused(t *testing.T) {
	dir := t.TempDir()
	first := startAgentProc(t, dir)
	state := filepath.Join(dir, "state")
	var stderr bytes.Buffer
	// Bounded: an agent that is not refused serves until it is killed.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	second := exec.CommandContext(ctx, os.Args[0], "agent", "-state-dir", state, "-listen", "unix://"+filepath.Join(dir, "second.sock"))
	second.Env = append(os.Environ(), "MAILKEEP_TEST_AS_MAIN=1")
	second.Stderr = &stderr
	err := second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
		t.Fatalf("the second agent: %v, want it to exit with a non-zero status\n%s", err, stderr.String())
	}
	for _, want := range []string{state, fmt.Sprintf("pid %d", first.cmd.Process.Pid)} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the second agent's message does not name %q:\n%s", want, stderr.String())
		}
	}
	if _, err := first.client(t).Status(context.Background()); err != nil {
		t.Errorf("the first agent after the second was refused: %v", err)
	}
}
