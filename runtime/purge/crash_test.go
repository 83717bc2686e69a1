package purge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/killtest"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Environment of a purge child process (see TestMain).
const (
	envChild     = "MAILKEEP_PURGE_CHILD"      // repository path
	envChildOpts = "MAILKEEP_PURGE_CHILD_OPTS" // Options as JSON
	envKillAt    = "MAILKEEP_PURGE_KILL_AT"    // "point:n": SIGKILL itself at the n-th time purge reaches point
	envBatch     = "MAILKEEP_PURGE_BATCH"      // rewriteBatchBytes
)

// TestMain lets the test binary run a purge as a separate process, which
// the crash test kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv(envChild); dir != "" {
		os.Exit(childPurge(dir))
	}
	os.Exit(m.Run())
}

func childPurge(dir string) int {
	var opts Options
	if err := json.Unmarshal([]byte(os.Getenv(envChildOpts)), &opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if n, err := strconv.ParseInt(os.Getenv(envBatch), 10, 64); err == nil {
		rewriteBatchBytes = n
	}
	if at := os.Getenv(envKillAt); at != "" {
		point, n, _ := strings.Cut(at, ":")
		left, _ := strconv.Atoi(n)
		testHook = func(p string) {
			if p == point {
				if left--; left <= 0 {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}
	}
	r, err := repo.Open(dir, repo.Options{Purpose: "purge child", Durable: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Tell the parent the purge starts now: its kill timer runs from here.
	started := os.NewFile(3, "started")
	started.Write([]byte{'S'})
	started.Close()
	start := time.Now()
	res, err := Run(context.Background(), r, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	took := time.Since(start)
	if err := r.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(childResult{Result: res, Took: took})
	return 0
}

// childResult is what a purge child prints when it finishes.
type childResult struct {
	*Result
	Took time.Duration `json:"took"` // Run's own duration
}

// crashRun is one purge child, killed or not.
type crashRun struct {
	killed bool
	out    string
}

// runChild purges the repository at dir in a child process; with killAt
// it dies there, with delay > 0 the parent SIGKILLs it after delay.
func runChild(t *testing.T, dir string, opts Options, killAt string, delay time.Duration) crashRun {
	t.Helper()
	b, _ := json.Marshal(opts)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+dir, envChildOpts+"="+string(b), envKillAt+"="+killAt, envBatch+"=150000")
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{pw}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	// Wait until the child starts purging (or dies before).
	pr.Read(make([]byte, 1))
	pr.Close()
	if delay > 0 {
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	err = cmd.Wait()
	run := crashRun{out: out.String() + errs.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		run.killed = true
	default:
		t.Fatalf("purge child: %v\n%s", err, out.String())
	}
	return run
}

// TestCrashSafety kills purge (SIGKILL) at each of its commit points and
// at random moments (fixed seeds), then checks that the repository
// verifies clean, that every instant inside the window restores exactly
// as before the purge, and that the next purge finishes the job: same
// catalog as an uninterrupted purge, nothing left to delete or rewrite.
func TestCrashSafety(t *testing.T) {
	f := buildStoreFixture(t, 7, 9)
	// An interrupted write: records no catalog entry refers to, in a pack
	// of their own.
	{
		r, err := repo.Open(f.backup, repo.Options{Purpose: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			raw := []byte(strings.Repeat(fmt.Sprintf("orphan %d ", i), 500))
			if _, err := r.Packs.Put(pack.Hash(raw), raw); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	now := f.scans[len(f.scans)-1].Add(time.Hour)
	opts := Options{Now: now, ItemRetentionDays: 4, AccountRetentionDays: 5, RepackThreshold: 0.1}

	// What must not change: every account kept, at instants inside its window.
	base := f.openCopy(t)
	type probe struct {
		name string
		at   int64
	}
	var probes []probe
	accounts, err := base.Catalog.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		end := now.UnixNano()
		if a.DeletedAt != 0 {
			if a.DeletedAt < now.Add(-5*Day).UnixNano() {
				continue // purged whole
			}
			end = a.DeletedAt
		}
		start := end - int64(4*Day)
		for _, s := range f.scans {
			if at := s.UnixNano(); at >= start && at < end {
				probes = append(probes, probe{a.Name, at}, probe{a.Name, at - 1})
			}
		}
		probes = append(probes, probe{a.Name, start}, probe{a.Name, end - 1})
	}
	want := map[probe]string{}
	st := newStater(t, base)
	for _, p := range probes {
		want[p] = st.describe(p.name, p.at)
	}
	base.Close()

	// The reference: an uninterrupted purge.
	refDir := filepath.Join(t.TempDir(), "backup")
	copyTree(t, f.backup, refDir)
	full := runChild(t, refDir, opts, "", 0)
	if full.killed {
		t.Fatal("the reference purge was killed")
	}
	var refRes childResult
	if err := json.Unmarshal([]byte(full.out), &refRes); err != nil {
		t.Fatalf("reference purge output: %v\n%s", err, full.out)
	}
	if refRes.PacksDeleted == 0 || refRes.PacksRewritten < 2 || refRes.Items == 0 || refRes.Accounts == 0 {
		t.Fatalf("the reference purge does too little to test: %+v", refRes)
	}
	refRepo, err := repo.Open(refDir, repo.Options{Purpose: "test"})
	if err != nil {
		t.Fatal(err)
	}
	reference := logicalDump(t, refRepo)
	refRepo.Close()

	check := func(t *testing.T, dir, what string) {
		t.Helper()
		r, err := repo.Open(dir, repo.Options{Purpose: "test"})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		defer r.Close()
		verifyClean(t, r, false)
		st := newStater(t, r)
		for _, p := range probes {
			if got := st.describe(p.name, p.at); got != want[p] {
				t.Fatalf("%s: %s at %d differs from before the purge:\n%s\nwant\n%s", what, p.name, p.at, got, want[p])
			}
		}
		// The next purge finishes the job.
		if _, err := Run(context.Background(), r, opts); err != nil {
			t.Fatalf("%s: purge after the crash: %v", what, err)
		}
		verifyClean(t, r, true)
		if got := logicalDump(t, r); got != reference {
			t.Errorf("%s: the catalog after the crash and a second purge differs from an uninterrupted purge's", what)
		}
		left, err := Run(context.Background(), r, Options{Now: now, ItemRetentionDays: 4, AccountRetentionDays: 5, RepackThreshold: 0.1, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if left.Items+left.Versions+left.Accounts+left.BlobsFreed != 0 || left.PacksDeleted+left.PacksRewritten != 0 {
			t.Errorf("%s: work left after the second purge: %+v", what, left)
		}
		st = newStater(t, r)
		for _, p := range probes {
			if got := st.describe(p.name, p.at); got != want[p] {
				t.Fatalf("%s, then purged again: %s at %d differs from before the purge", what, p.name, p.at)
			}
		}
	}

	points := []string{"catalog-before-commit:1", "catalog-committed:1", "pack-removed:1",
		"rewrite-copied:1", "rewrite-synced:1", "rewrite-committed:1", "rewrite-removed:1", "rewrite-copied:2", "rewrite-committed:2"}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			copyTree(t, f.backup, dir)
			if run := runChild(t, dir, opts, point, 0); !run.killed {
				t.Fatalf("the purge was not killed at %s:\n%s", point, run.out)
			}
			check(t, dir, "killed at "+point)
		})
	}
	seed := killtest.Seed(7)
	rnd := rand.New(rand.NewPCG(seed, 11))
	landed := 0
	rounds := killtest.Rounds(8) // make campaign raises it
	for i := range rounds {
		delay := time.Duration(rnd.Int64N(int64(refRes.Took))) + time.Microsecond
		t.Run(fmt.Sprintf("random%d", i), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			copyTree(t, f.backup, dir)
			if run := runChild(t, dir, opts, "", delay); run.killed {
				landed++
			}
			check(t, dir, fmt.Sprintf("killed after %s", delay))
		})
	}
	t.Logf("uninterrupted purge: %s; %d of %d random kills landed before it finished", refRes.Took, landed, rounds)
	if landed == 0 {
		t.Error("no random kill landed during a purge")
	}
	if !t.Failed() {
		killtest.Report(t, "purge", landed+len(points), rounds+len(points), seed)
	}
}
