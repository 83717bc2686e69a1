// Package rusage measures the peak RSS and CPU time of a command run by a
// benchmark, through a wrapper process.
//
// Peak RSS needs care on Linux. Go starts a child with vfork semantics
// (CLONE_VM), and exec records the high-water RSS of the memory the child
// shared until then, the parent's, in the child's ru_maxrss. So every
// command a harness started directly would report at least the harness's
// own peak RSS (tens of megabytes after generating or walking a corpus). A
// harness therefore starts every measured command through a fresh copy of
// itself in wrapper mode (Flag): a new small process that starts the
// command, forwards SIGTERM and SIGINT to it, waits for it and writes the
// command's own rusage to a file (Main). The floor this leaves is the
// wrapper's RSS at start, a few megabytes, below every tool measured.
package rusage

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

// Flag, as a harness's first argument, runs it as the wrapper:
// HARNESS -rusage-wrap RESULT -- COMMAND [ARGS...].
const Flag = "-rusage-wrap"

// Result is what the wrapper reports about the command it ran.
type Result struct {
	MaxRSS int64         `json:"max_rss_bytes"`
	CPU    time.Duration `json:"cpu_ns"`
	Wall   time.Duration `json:"wall_ns"`
}

// Of reads the peak RSS and CPU time of a finished process.
func Of(ps *os.ProcessState) (maxRSS int64, cpu time.Duration) {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
		maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return maxRSS, ps.UserTime() + ps.SystemTime()
}

// Main is the wrapper; args are what follows Flag: RESULT -- COMMAND
// [ARGS...]. It returns the command's exit status (128+signal when
// killed); prog names the harness in messages.
func Main(prog string, args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintf(os.Stderr, "%s: usage: %s %s RESULT -- COMMAND [ARGS...]\n", prog, prog, Flag)
		return 2
	}
	result, name, rest := args[0], args[2], args[3:]
	cmd := exec.Command(name, rest...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: starting %s: %v\n", prog, name, err)
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
		fmt.Fprintf(os.Stderr, "%s: waiting for %s: %v\n", prog, name, err)
		return 127
	}
	rss, cpu := Of(ps)
	b, _ := json.Marshal(Result{MaxRSS: rss, CPU: cpu, Wall: wall})
	if werr := os.WriteFile(result, b, 0o644); werr != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, werr)
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

// Read reads and removes what a wrapper wrote.
func Read(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	os.Remove(path)
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &r, nil
}
