package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/killtest"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// TestMain lets the test binary act as the mailkeep binary, so that tests
// can run real agent processes (and kill them) without building one.
func TestMain(m *testing.M) {
	if os.Getenv("MAILKEEP_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// agentProc is a mailkeep agent running as a separate process.
type agentProc struct {
	cmd  *exec.Cmd
	sock string
	log  *bytes.Buffer
}

func startAgentProc(t *testing.T, dir string) *agentProc {
	t.Helper()
	p := &agentProc{sock: filepath.Join(dir, "agent.sock"), log: &bytes.Buffer{}}
	p.cmd = exec.Command(os.Args[0], "agent", "-state-dir", filepath.Join(dir, "state"), "-listen", "unix://"+p.sock)
	p.cmd.Env = append(os.Environ(), "MAILKEEP_TEST_AS_MAIN=1")
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	c := p.client(t)
	for i := 0; i < 200; i++ {
		if _, err := c.Status(context.Background()); err == nil {
			return p
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("agent did not come up:\n%s", p.log)
	return nil
}

// manualConfig is the config document of an agent backing up the store
// at root (root/DOMAIN/USER/Maildir) into dir/backup that scans only when
// asked: no schedule, no realtime scanner, no reserve.
func manualConfig(dir, root string) []byte {
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir", "backup_path": filepath.Join(dir, "backup"),
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0}, "smartscan": map[string]any{"enabled": false}, "realtime_scanner": false,
	})
	return doc
}

// startManualAgent starts an agent process in dir configured with
// manualConfig, and waits until it is idle.
func startManualAgent(t *testing.T, dir, root string) *agentProc {
	t.Helper()
	p := startAgentProc(t, dir)
	if _, err := p.client(t).PutConfig(t.Context(), manualConfig(dir, root), "", "test"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, p.client(t))
	return p
}

func (p *agentProc) client(t *testing.T) *client.Client {
	c, err := client.New(client.Target{URL: "unix://" + p.sock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (p *agentProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// killRounds is how many times the kill test kills the agent; make
// campaign raises it.
func killRounds() int { return killtest.Rounds(3) }

// TestAgentKilledDuringSmartScan kills the agent (SIGKILL) at random points
// of SmartScans, restarts it, and checks that the repository verifies, that
// the next SmartScan finishes the job, and that every account restores
// exactly.
func TestAgentKilledDuringSmartScan(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 42, Accounts: 4, Messages: 3000, MaxSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	doc := manualConfig(dir, root)
	seed := killtest.Seed(42)
	r := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	p := startAgentProc(t, dir)
	if _, err := p.client(t).PutConfig(ctx, doc, "", "kill-test"); err != nil {
		t.Fatal(err)
	}
	midScan := 0
	for round := 0; round < killRounds(); round++ {
		c := p.client(t)
		waitIdle(t, c)
		if _, err := corpus.Deliver(root, 200, int64(round)); err != nil {
			t.Fatal(err)
		}
		if _, err := corpus.RenameFlags(root, 0.05, int64(round)); err != nil {
			t.Fatal(err)
		}
		op, err := c.Start(ctx, api.OperationRequest{Type: "smartscan"})
		if err != nil {
			t.Fatal(err)
		}
		// Kill once the scan has read a random share of what it has to
		// read (the first round reads the whole corpus, later ones the
		// deliveries): in its middle, at a different point every round.
		threshold := int64(1+r.IntN(40)) << 20
		if round > 0 {
			threshold = int64(r.IntN(4)) << 20
		}
		for {
			cur, err := c.Operation(ctx, op.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cur.State != api.StateRunning {
				break
			}
			if cur.Progress.Bytes >= threshold {
				midScan++
				break
			}
			time.Sleep(time.Millisecond)
		}
		p.kill()
		p = startAgentProc(t, dir)
		c = p.client(t)
		waitIdle(t, c)
		if rep := verifyRepo(t, c, false); len(rep.Problems) > 0 {
			t.Fatalf("round %d: verify after SIGKILL: %v", round, rep.Problems)
		}
	}
	if midScan == 0 {
		t.Fatal("no kill landed during a SmartScan; the test proves nothing")
	}
	c := p.client(t)
	op := runOp(t, c, api.OperationRequest{Type: "smartscan"})
	if op.State != api.StateSucceeded {
		t.Fatalf("SmartScan after the kills: %+v\n%s", op, p.log)
	}
	if rep := verifyRepo(t, c, true); len(rep.Problems) > 0 {
		t.Fatalf("deep verify: %v", rep.Problems)
	}
	accounts, err := c.Accounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		user, domain, _ := strings.Cut(a.Name, "@")
		to := user + "-restored@" + domain
		op := runOp(t, c, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: a.Name, To: to}})
		if op.State != api.StateSucceeded {
			t.Fatalf("restore %s: %+v", a.Name, op)
		}
		compareTrees(t, filepath.Join(root, domain, user), filepath.Join(root, domain, user+"-restored"))
	}
	if !t.Failed() {
		killtest.Report(t, "smartscan", midScan, killRounds(), seed)
	}
}

func waitIdle(t *testing.T, c *client.Client) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if st, err := c.Status(context.Background()); err == nil && st.State == "idle" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("agent did not become idle")
}

func runOp(t *testing.T, c *client.Client, req api.OperationRequest) *api.Operation {
	t.Helper()
	op, err := c.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for op.State == api.StateRunning {
		if op, err = c.Operation(context.Background(), op.ID, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return op
}

func verifyRepo(t *testing.T, c *client.Client, deep bool) api.VerifyReport {
	t.Helper()
	op := runOp(t, c, api.OperationRequest{Type: "verify", Deep: deep})
	var rep api.VerifyReport
	b, _ := json.Marshal(op.Result)
	if err := json.Unmarshal(b, &rep); err != nil || op.Result == nil {
		t.Fatalf("verify: %+v", op)
	}
	return rep
}

// compareTrees checks that every message file of the source Maildir is in
// the restored one with the same name, content and mtime.
func compareTrees(t *testing.T, src, dst string) {
	t.Helper()
	n := 0
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		sub := filepath.Base(filepath.Dir(p))
		if sub != "cur" && sub != "new" {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil {
			return fmt.Errorf("restored copy lacks %s: %w", rel, err)
		}
		if !bytes.Equal(want, got) {
			return fmt.Errorf("restored %s differs", rel)
		}
		if st, err := os.Stat(filepath.Join(dst, rel)); err != nil || !st.ModTime().Equal(info.ModTime()) {
			return fmt.Errorf("restored %s has another mtime", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no messages under %s", src)
	}
}
