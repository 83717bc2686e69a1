package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// Peak RSS needs care on Linux. Go starts a child with vfork semantics
// (CLONE_VM), and exec records the high-water RSS of the memory the child
// shared until then, the parent's, in the child's ru_maxrss. So every
// command the harness started directly would report at least the
// harness's own peak RSS (which, after generating or walking a large
// corpus, is tens of megabytes). mailbench therefore starts every measured
// command through a fresh copy of itself in wrapper mode: a new small
// process that starts the command, forwards SIGTERM and SIGINT to it,
// waits for it and writes the command's own rusage to a file. The floor
// this leaves is the wrapper's RSS at start, a few megabytes, below every
// tool measured.

const wrapFlag = "-rusage-wrap"

// wrapResult is what the wrapper reports about the command it ran.
type wrapResult struct {
	MaxRSS int64         `json:"max_rss_bytes"`
	CPU    time.Duration `json:"cpu_ns"`
	Wall   time.Duration `json:"wall_ns"`
}

// wrapMain is the wrapper: mailbench -rusage-wrap RESULT -- NAME ARGS...
// It exits with the command's exit status (128+signal when killed).
func wrapMain(args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "mailbench: usage: mailbench -rusage-wrap RESULT -- COMMAND [ARGS...]")
		return 2
	}
	result, name, rest := args[0], args[2], args[3:]
	cmd := exec.Command(name, rest...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "mailbench: starting %s: %v\n", name, err)
		return 127
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	ps := cmd.ProcessState
	if ps == nil {
		fmt.Fprintf(os.Stderr, "mailbench: waiting for %s: %v\n", name, err)
		return 127
	}
	rss, cpu := usage(ps)
	b, _ := json.Marshal(wrapResult{MaxRSS: rss, CPU: cpu, Wall: wall})
	if werr := os.WriteFile(result, b, 0o644); werr != nil {
		fmt.Fprintf(os.Stderr, "mailbench: %v\n", werr)
		return 125
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// readWrapResult reads and removes what a wrapper wrote.
func readWrapResult(path string) (*wrapResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	os.Remove(path)
	var w wrapResult
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &w, nil
}
