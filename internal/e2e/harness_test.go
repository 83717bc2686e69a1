package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// binDir holds the mailkeep binary built for the tests that run it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// mailkeepBinary builds cmd/mailkeep once per test run and returns its
// path: the tests run the real binary for the CLI and for an agent they
// kill.
func mailkeepBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailkeep-e2e-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		binDir = dir
		// go test puts its own GOROOT/bin first on the PATH of tests.
		path := filepath.Join(dir, "mailkeep")
		out, err := exec.Command("go", "build", "-o", path, "github.com/mailkeep/mailkeep/cmd/mailkeep").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("building cmd/mailkeep: %v\n%s", err, out)
			return
		}
		buildOnce.path = path
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// Accounts of the test servers. The sources are driven by the workload;
// the targets receive restores (-to) and are empty until then.
var (
	alice = dovecot.User{Name: "alice@example.com", Password: "alice-secret"}
	bob   = dovecot.User{Name: "bob@example.com", Password: "bob-secret"}
	carol = dovecot.User{Name: "carol@example.org", Password: "carol-secret"}
)

func targetUser(i int) dovecot.User {
	return dovecot.User{Name: fmt.Sprintf("restored%d@example.com", i), Password: fmt.Sprintf("restored%d-secret", i)}
}

// env is one test's Dovecot and mailkeep agent.
type env struct {
	t     *testing.T
	dc    *dovecot.Server
	dir   string // agent state, socket, repository, logs
	sock  string
	cl    *client.Client
	users map[string]string // account → password
	// agent is the in-process agent, nil when the agent is a process.
	agent *agent.Agent
	// proc is the agent process, nil when the agent runs in-process.
	proc *agentProc
	// logPath is the agent's log.
	logPath string
}

type envOptions struct {
	users    []dovecot.User
	realtime bool
	// process runs the agent as a separate process (the real binary) that
	// the test may kill; otherwise it runs in the test process.
	process bool
}

// newEnv starts Dovecot and an agent, and configures the agent for
// Dovecot's mail store. Both stop when the test ends.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	return newEnvWith(t, dovecot.Options{Users: o.users}, o)
}

// newEnvDovecot is newEnv with Dovecot options (layouts).
func newEnvDovecot(t *testing.T, dopts dovecot.Options, realtime bool) *env {
	t.Helper()
	return newEnvWith(t, dopts, envOptions{users: dopts.Users, realtime: realtime})
}

func newEnvWith(t *testing.T, dopts dovecot.Options, o envOptions) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("the end-to-end tests run as root, as the mailkeep agent does on a mail server (it restores files owned by the mail user); running as uid %d", os.Geteuid())
	}
	e := &env{t: t, users: map[string]string{}}
	e.dc = dovecot.Start(t, dopts)
	for _, u := range o.users {
		e.users[u.Name] = u.Password
	}
	// A short directory: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "mke2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e.dir = dir
	e.sock = filepath.Join(dir, "agent.sock")
	e.logPath = filepath.Join(dir, "agent.log")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log (%s):\n%s", e.logPath, tail(e.logPath, 150))
		}
	})
	if o.process {
		e.proc = e.startProcess()
	} else {
		e.startInProcess()
	}
	e.configure(o.realtime)
	return e
}

// startInProcess runs the agent in the test process, serving its API on a
// unix socket as `mailkeep agent` does.
func (e *env) startInProcess() {
	t := e.t
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{StateDir: filepath.Join(e.dir, "state"), Logger: slog.New(slog.NewTextHandler(logf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, agent.ServeOptions{Listen: "unix://" + e.sock}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("agent did not stop within 30s")
		}
		logf.Close()
	})
	e.connect()
}

// agentProc is an agent running as a separate process (the real binary).
type agentProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts `mailkeep agent` on the env's state directory and
// socket; its log is appended to the env's log.
func (e *env) startProcess() *agentProc {
	t := e.t
	bin := mailkeepBinary(t)
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p := &agentProc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, "agent", "-state-dir", filepath.Join(e.dir, "state"), "-listen", "unix://"+e.sock)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	e.connect()
	return p
}

// kill kills the agent process with SIGKILL and waits for it.
func (p *agentProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the agent to stop (SIGTERM) and kills it after 30 seconds.
func (p *agentProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

// connect makes the API client and waits until the agent answers.
func (e *env) connect() {
	t := e.t
	cl, err := client.New(client.Target{URL: "unix://" + e.sock})
	if err != nil {
		t.Fatal(err)
	}
	e.cl = cl
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cl.Status(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent does not answer on %s: %v", e.sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// document is the agent's config document: Dovecot's mail_location as the
// mail store, a repository in the env's directory, no schedules (the tests
// start every SmartScan), and a post_command that resyncs the restored
// account in this Dovecot.
func (e *env) document(realtime bool) []byte {
	doc, err := json.Marshal(map[string]any{
		"format_version":   1,
		"description":      "end-to-end test against a real Dovecot",
		"mail_store":       e.dc.MailLocation(),
		"backup_path":      filepath.Join(e.dir, "backup"),
		"realtime_scanner": realtime,
		"reserved_space":   map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"smartscan":        map[string]any{"enabled": false},
		"purge":            map[string]any{"enabled": false},
		"restore":          map[string]any{"post_command": []string{"doveadm", "-c", e.dc.ConfigPath(), "force-resync", "-u", "%u", "*"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return doc
}

// configure puts the config document and waits until the backup module
// runs (and, with realtime, until the scanner's first pass is recorded).
func (e *env) configure(realtime bool) {
	t := e.t
	if _, err := e.cl.PutConfig(context.Background(), e.document(realtime), "", "mailkeep e2e"); err != nil {
		t.Fatal(err)
	}
	e.waitModule(realtime)
	if realtime {
		e.waitRealtime(time.Time{})
	}
}

// waitModule waits until the agent is idle with its repository open and,
// when wanted, the realtime scanner running.
func (e *env) waitModule(realtime bool) {
	t := e.t
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := e.cl.Status(context.Background())
		if err == nil && (st.State == "idle" || st.State == "running") && (!realtime || st.Realtime.State == "running") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's backup module did not start: %+v, %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quietPeriod is how long the realtime scanner must show nothing pending
// and record nothing before waitRealtime trusts it: longer than its
// settling time (100ms) plus the time an event takes to reach it.
const quietPeriod = 500 * time.Millisecond

// noChangePeriod is how long waitRealtime waits for a batch recorded after
// the last write before it concludes that the write changed nothing on
// disk (an IMAP STORE of a flag already set, a SUBSCRIBE of a subscribed
// folder).
const noChangePeriod = 2 * time.Second

// waitRealtime waits until the realtime scanner's status shows that every
// change made before the call is recorded: nothing pending, no batch
// recorded for quietPeriod and, when lastWrite is set, a batch recorded
// after it (or none for noChangePeriod). (Pending does not count a batch being recorded; see
// TestRealtimePendingCountsBatchInFlight.)
func (e *env) waitRealtime(lastWrite time.Time) {
	t := e.t
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var quietSince time.Time
	var recorded int64 = -1
	for {
		st, err := e.cl.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		d := st.Realtime.Detail
		if st.Realtime.State == "failed" || (d != nil && d.Errors > 0) {
			t.Fatalf("realtime scanner: %+v %+v", st.Realtime, d)
		}
		now := time.Now()
		ok := st.Realtime.State == "running" && d != nil && d.Pending == 0
		switch {
		case !ok || d.Recorded != recorded:
			quietSince = time.Time{}
			if ok {
				recorded = d.Recorded
				quietSince = now
			}
		case now.Sub(quietSince) >= quietPeriod && (lastWrite.IsZero() || (d.LastChange != nil && d.LastChange.After(lastWrite))):
			return
		case now.Sub(quietSince) >= noChangePeriod:
			return // the last write changed nothing on disk (a flag already set)
		}
		if now.After(deadline) {
			t.Fatalf("the realtime scanner did not settle within 2 minutes: %+v %+v", st.Realtime, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDeleted waits until the backup records the account as deleted.
func (e *env) waitDeleted(account string) time.Time {
	t := e.t
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ls, err := e.cl.Accounts(context.Background(), account)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 1 && ls[0].DeletedAt != nil {
			return *ls[0].DeletedAt
		}
		if time.Now().After(deadline) {
			st, _ := e.cl.Status(context.Background())
			var rt any
			if st != nil {
				rt = st.Realtime
			}
			t.Fatalf("the deletion of %s was not recorded within a minute: %+v\nrealtime: %+v\n%s", account, ls, rt, e.steps(account))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runOp starts an operation through the API and waits for its end.
func (e *env) runOp(req api.OperationRequest) *api.Operation {
	t := e.t
	t.Helper()
	ctx := context.Background()
	op, err := e.cl.Start(ctx, req)
	if err != nil {
		t.Fatalf("starting %s: %v", req.Type, err)
	}
	for op.State == api.StateRunning {
		if op, err = e.cl.Operation(ctx, op.ID, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return op
}

// smartScan runs a SmartScan to the end and fails the test unless it
// succeeded.
func (e *env) smartScan() *api.Operation {
	e.t.Helper()
	op := e.runOp(api.OperationRequest{Type: "smartscan"})
	if op.State != api.StateSucceeded {
		e.t.Fatalf("SmartScan %s: %s", op.State, op.Error)
	}
	return op
}

// restoreAPI restores account at an instant ("" for last) into to ("" for
// itself) through the API, and fails the test unless it succeeded with its
// post_command.
func (e *env) restoreAPI(account, at, to string) *api.Operation {
	e.t.Helper()
	op := e.runOp(api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: account, At: at, To: to}})
	if op.State != api.StateSucceeded {
		e.t.Fatalf("restore %s at %q into %q: %s: %s (result %+v)", account, at, to, op.State, op.Error, op.Result)
	}
	return op
}

// restoreSummary renders a restore operation's result in one line.
func restoreSummary(op *api.Operation) string {
	var res api.RestoreResult
	b, _ := json.Marshal(op.Result)
	if json.Unmarshal(b, &res) != nil {
		return fmt.Sprintf("%+v", op.Result)
	}
	pc := "none"
	if res.PostCommand != nil {
		pc = res.PostCommand.Outcome()
	}
	return fmt.Sprintf("%s into %s as of %s: %s restore, %d messages in %d folders, %d skipped, post_command %s",
		res.Account, res.To, res.At.Format(time.RFC3339Nano), res.Mode, res.Messages, len(res.Folders), res.Skipped, pc)
}

// mailkeep runs the mailkeep binary and returns its output; it fails the
// test when the exit code is not 0.
func (e *env) mailkeep(args ...string) string {
	t := e.t
	t.Helper()
	cmd := exec.Command(mailkeepBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Fatalf("mailkeep %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// restoreCLI runs `mailkeep restore account -agent unix://... -wait` with
// the given flags, as an administrator would.
func (e *env) restoreCLI(account string, flags ...string) string {
	e.t.Helper()
	args := append([]string{"restore", "account", "-agent", "unix://" + e.sock, "-wait"}, flags...)
	return e.mailkeep(append(args, account)...)
}

// maildir is an account's Maildir root.
func (e *env) maildir(account string) string {
	return filepath.Join(e.dc.Home(account), "Maildir")
}

// snapshot takes an IMAP snapshot of an account.
func (e *env) snapshot(account string) *Snapshot {
	e.t.Helper()
	s, err := TakeSnapshot(e.dc.IMAPAddr(), account, e.users[account])
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// compare fails the test when got differs from want.
func compare(t *testing.T, what string, want, got *Snapshot) {
	t.Helper()
	if d := Diff(want, got); len(d) > 0 {
		t.Errorf("%s: %s (%d messages in %d folders) differs from %s (%d messages in %d folders):\n  %s",
			what, got.Account, got.Messages(), len(got.Folders), want.Account, want.Messages(), len(want.Folders), strings.Join(d, "\n  "))
	}
}

// checkOwnership checks that every file and directory of an account's
// Maildir belongs to the mail user, so that Dovecot (which never runs as
// root) can use it.
func (e *env) checkOwnership(account string) {
	t := e.t
	t.Helper()
	uid, gid := e.dc.MailOwner()
	var bad []string
	n := 0
	err := filepath.WalkDir(e.maildir(account), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // Dovecot removed it meanwhile
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		n++
		st := info.Sys().(*syscall.Stat_t)
		if (st.Uid != uid || st.Gid != gid) && len(bad) < 10 {
			bad = append(bad, fmt.Sprintf("%s owned by %d:%d", p, st.Uid, st.Gid))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s has no files", e.maildir(account))
	}
	if len(bad) > 0 {
		t.Errorf("restored files are not owned by the mail user %s (%d:%d):\n  %s", dovecot.MailUser, uid, gid, strings.Join(bad, "\n  "))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
