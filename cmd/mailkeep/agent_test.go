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

// The client refuses a token file its group or others may read, saying
// how to fix its mode, and a token shorter than 16 bytes, from a file or
// from the environment: with -token-file, and in plan through token_file
// and token_env (the server is planned as unreachable, with the reason).
func TestClientTokenRules(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2-env"}, nil)
	pol := f.policy(t)
	if err := os.Chmod(f.tokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	tooOpen := fmt.Sprintf("permissions 0644 for '%s' are too open", f.tokenFile)
	fix := "chmod 600 " + f.tokenFile
	r := f.run(t, "backup", "ls", "-agent", f.agents["mx1"].url, "-token-file", f.tokenFile)
	if r.code == exitOK || !strings.Contains(r.stderr, tooOpen) || !strings.Contains(r.stderr, fix) {
		t.Errorf("backup ls -token-file with mode 0644: %+v", r)
	}
	short := []string{"MK_TEST_TOKEN=short"}
	r = mailkeep(t, short, "plan", pol, "-format", "json")
	p := decodePlan(t, r.stdout)
	if p.Servers[0].Action != "unreachable" || !strings.Contains(p.Servers[0].Reason, tooOpen) || !strings.Contains(p.Servers[0].Reason, fix) {
		t.Errorf("plan, token_file with mode 0644: %+v", p.Servers[0])
	}
	if p.Servers[1].Action != "unreachable" || !strings.Contains(p.Servers[1].Reason, "MK_TEST_TOKEN") || !strings.Contains(p.Servers[1].Reason, "at least 16") {
		t.Errorf("plan, token_env holding 5 bytes: %+v", p.Servers[1])
	}
	if err := os.Chmod(f.tokenFile, 0o600); err != nil {
		t.Fatal(err)
	}
	r = f.run(t, "plan", pol, "-format", "json")
	if p := decodePlan(t, r.stdout); p.Servers[0].Action != "create" || p.Servers[1].Action != "create" {
		t.Errorf("plan with private token files and a long token: %+v", p.Servers)
	}
}

// mailkeep agent refuses options the listener rules refuse before it
// touches its state directory: a group- or world-readable token file,
// and plain TCP on an address that is not loopback.
func TestAgentRefusesUnsafeListenOptions(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "agent.token")
	if err := os.WriteFile(tok, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open.token")
	if err := os.WriteFile(open, []byte(testToken+"\n"), 0o600); err != nil || os.Chmod(open, 0o644) != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "127.0.0.1:0", "-token-file", open}, fmt.Sprintf("permissions 0644 for '%s' are too open", open)},
		{[]string{"-listen", "tcp://0.0.0.0:0", "-token-file", tok}, "plain TCP, without TLS, is refused except on a loopback address"},
	} {
		r := mailkeep(t, nil, append([]string{"agent", "-state-dir", state}, c.args...)...)
		if r.code != exitError || !strings.Contains(r.stderr, c.want) {
			t.Errorf("agent %v: %+v, want exit 1 saying %q", c.args, r, c.want)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Errorf("agent %v touched its state directory (%v)", c.args, err)
		}
	}
}
