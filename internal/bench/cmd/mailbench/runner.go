package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/bench/rusage"
)

// cmdResult is what one external command cost.
type cmdResult struct {
	Wall   time.Duration
	MaxRSS int64         // bytes, of the process and the children it waited for
	CPU    time.Duration // user + system
	Stdout []byte
	Stderr []byte
}

// runner starts external commands with a timeout, in their own process
// group (so a timeout kills the whole tree), capturing stdout and stderr.
type runner struct {
	timeout time.Duration
	// wrapper, when set, is mailbench's own executable: commands run
	// through it in -rusage-wrap mode so that their peak RSS is their own
	// (see internal/bench/rusage), with result files in wrapDir.
	wrapper string
	wrapDir string
	seq     atomic.Int64
	// log receives one line per command when verbose is set.
	log     io.Writer
	verbose bool
}

// command describes one external command.
type command struct {
	Dir  string
	Env  []string // added to the harness's environment
	Name string
	Args []string
}

func (c command) String() string {
	var b strings.Builder
	for _, e := range c.Env {
		b.WriteString(e)
		b.WriteByte(' ')
	}
	b.WriteString(shellQuote(c.Name))
	for _, a := range c.Args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	if c.Dir != "" {
		return "(cd " + shellQuote(c.Dir) + " && " + b.String() + ")"
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cmdError is a failed command with the tail of what it printed.
type cmdError struct {
	cmd    string
	err    error
	stderr []byte
	stdout []byte
}

func (e *cmdError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", e.cmd, e.err)
	if s := tail(e.stderr, 4000); s != "" {
		fmt.Fprintf(&b, "\n--- stderr (last lines) ---\n%s", s)
	}
	if s := tail(e.stdout, 2000); s != "" {
		fmt.Fprintf(&b, "\n--- stdout (last lines) ---\n%s", s)
	}
	return b.String()
}

func (e *cmdError) Unwrap() error { return e.err }

// tail returns the last n bytes of b, starting at a line boundary, trimmed.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}

// run runs c to completion and measures it.
func (r *runner) run(ctx context.Context, c command) (*cmdResult, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd, result := r.prepare(ctx, c)
	var stdout, stderr capped
	stdout.limit, stderr.limit = 16<<20, 1<<20
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if r.verbose {
		fmt.Fprintf(r.log, "  $ %s\n", c)
	}
	start := time.Now()
	err := cmd.Run()
	res := &cmdResult{Wall: time.Since(start), Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if result != "" {
		if w, werr := rusage.Read(result); werr == nil {
			res.MaxRSS, res.CPU, res.Wall = w.MaxRSS, w.CPU, w.Wall
		} else if err == nil {
			err = werr
		}
	} else if ps := cmd.ProcessState; ps != nil {
		res.MaxRSS, res.CPU = rusage.Of(ps)
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s (-timeout)", r.timeout)
	}
	if err != nil {
		return res, &cmdError{cmd: c.String(), err: err, stderr: res.Stderr, stdout: res.Stdout}
	}
	return res, nil
}

// prepare builds the exec.Cmd for c: own process group, killed as a group
// when ctx ends; through the wrapper when there is one, in which case
// result names the file the wrapper writes its measurements to.
func (r *runner) prepare(ctx context.Context, c command) (cmd *exec.Cmd, result string) {
	name, args := c.Name, c.Args
	if r.wrapper != "" {
		result = filepath.Join(r.wrapDir, "rusage-"+strconv.FormatInt(r.seq.Add(1), 10)+".json")
		args = append([]string{rusage.Flag, result, "--", name}, args...)
		name = r.wrapper
	}
	cmd = exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 10 * time.Second
	return cmd, result
}

// capped is a goroutine-safe buffer that keeps the first limit bytes and
// then only the most recent ones, so that a chatty command cannot exhaust
// memory and the end of its output (where errors are) is kept.
type capped struct {
	mu    sync.Mutex
	limit int
	head  []byte
	ring  []byte
	lost  int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := c.limit/2 - len(c.head); room > 0 && len(c.ring) == 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	c.ring = append(c.ring, p...)
	if over := len(c.ring) - c.limit/2; over > 0 {
		c.lost += int64(over)
		c.ring = append(c.ring[:0], c.ring[over:]...)
	}
	return n, nil
}

// Bytes returns what was kept.
func (c *capped) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]byte(nil), c.head...)
	if c.lost > 0 {
		out = append(out, fmt.Sprintf("\n[... %d bytes left out ...]\n", c.lost)...)
	}
	return append(out, c.ring...)
}

// daemon is a long-running process (the mailkeep agent) started in its own
// process group.
type daemon struct {
	cmd    *exec.Cmd
	result string
	log    *capped
	done   chan struct{}
	err    error
	desc   string
	cancel context.CancelFunc
}

// start starts c in the background; it is killed when ctx ends.
func (r *runner) start(ctx context.Context, c command) (*daemon, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd, result := r.prepare(ctx, c)
	log := &capped{limit: 1 << 20}
	cmd.Stdout, cmd.Stderr = log, log
	if r.verbose {
		fmt.Fprintf(r.log, "  $ %s &\n", c)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	d := &daemon{cmd: cmd, result: result, log: log, done: make(chan struct{}), desc: c.String(), cancel: cancel}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// exited reports whether the process has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace for a clean exit (then SIGKILL),
// and returns the process's peak RSS and CPU time. An exit other than a
// clean one is an error carrying the process's log.
func (d *daemon) stop(grace time.Duration) (maxRSS int64, cpu time.Duration, err error) {
	defer d.cancel()
	if !d.exited() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(grace):
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.done
			return 0, 0, &cmdError{cmd: d.desc, err: fmt.Errorf("did not stop within %s of SIGTERM", grace), stderr: d.log.Bytes()}
		}
	}
	if d.result != "" {
		w, werr := rusage.Read(d.result)
		if werr != nil {
			return 0, 0, &cmdError{cmd: d.desc, err: werr, stderr: d.log.Bytes()}
		}
		maxRSS, cpu = w.MaxRSS, w.CPU
	} else if ps := d.cmd.ProcessState; ps != nil {
		maxRSS, cpu = rusage.Of(ps)
	}
	if d.err != nil {
		var ee *exec.ExitError
		if !errors.As(d.err, &ee) || ee.ExitCode() != 0 {
			return maxRSS, cpu, &cmdError{cmd: d.desc, err: d.err, stderr: d.log.Bytes()}
		}
	}
	return maxRSS, cpu, nil
}
