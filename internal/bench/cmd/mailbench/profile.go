package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// profileMode runs the engine in-process through the benchmark's phases
// (initial SmartScan, unchanged re-scan, rename storm, account restore)
// with a CPU and a heap profile per phase, on the same corpus and with the
// same cache handling as the benchmark. The agent is not involved: this
// shows where the engine's own time goes.
func profileMode(ctx context.Context, cfg *config, logf func(string, ...any)) error {
	if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
		return err
	}
	cache := pageCache{cold: cfg.cache != "warm" && canDropCaches()}
	c, err := prepareCorpus(cfg.cacheDir, cfg.modRoot, cfg.seed, cfg.messages, logf)
	if err != nil {
		return err
	}
	defer c.release()
	work, err := os.MkdirTemp(cfg.workDir, "mailbench-profile-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(work)
	}
	snap, err := snapshotTree(c.Root)
	if err != nil {
		return err
	}
	defer func() {
		if _, err := snap.restore(); err != nil {
			logf("putting the corpus back: %v", err)
		}
		if err := c.check(); err != nil {
			logf("%v", err)
		}
	}()

	ms, err := location.Parse("maildir:" + c.Root + "/%d/%n/Maildir")
	if err != nil {
		return err
	}
	store, err := maildir.Open(ms)
	if err != nil {
		return err
	}
	// Durable as the agent's default (metadata.flush_on_save = true).
	rp, err := repo.Open(filepath.Join(work, "backup"), repo.Options{Purpose: "mailbench -profile", Durable: true, Create: true})
	if err != nil {
		return err
	}
	defer rp.Close()

	acct := c.restoreAccount()
	_, domain, _ := strings.Cut(acct.Address, "@")
	to := "mailbench-restored@" + domain

	var summary strings.Builder
	fmt.Fprintf(&summary, "mailbench -profile: %d messages (%s), %d accounts, seed %d, page cache %s\n\n",
		c.Meta.Stats.Messages, fmtMB(c.Meta.Stats.Bytes), c.Meta.Stats.Accounts, cfg.seed, map[bool]string{true: "cold", false: "warm"}[cache.cold])
	fmt.Fprintf(&summary, "%-28s %10s %10s %10s %10s %12s  %s\n", "phase", "wall", "user", "sys", "go memory", "total alloc", "result")

	scanPhase := func(p phase) func() (string, error) {
		return func() (string, error) {
			res, err := scan.Run(ctx, rp, store, scan.Options{})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("items %d, new %d, changed %d, unchanged %d, read %s, stored %s", res.Items, res.New, res.Changed, res.Unchanged, fmtMB(res.BytesRead), fmtMB(res.BytesStored)), nil
		}
	}
	steps := []struct {
		p      phase
		before func() error
		run    func() (string, error)
	}{
		{phaseInitial, nil, scanPhase(phaseInitial)},
		{phaseUnchanged, nil, scanPhase(phaseUnchanged)},
		{phaseRenamed, func() error {
			n, err := corpus.RenameFlags(c.Root, renameFraction, cfg.seed)
			logf("renamed %d messages", n)
			return err
		}, scanPhase(phaseRenamed)},
		{phaseRestore, nil, func() (string, error) {
			res, err := restore.Run(ctx, rp, store, restore.Options{Account: acct.Address, To: to})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s into %s: %d messages, %s", acct.Address, to, res.Messages, fmtMB(res.Bytes)), nil
		}},
	}
	for _, st := range steps {
		if st.before != nil {
			if err := st.before(); err != nil {
				return err
			}
		}
		if err := cache.settle(); err != nil {
			return err
		}
		runtime.GC()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var ru0 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		f, err := os.Create(filepath.Join(cfg.profile, "cpu-"+string(st.p)+".pprof"))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		peak := watchHeap()
		t0 := time.Now()
		desc, runErr := st.run()
		wall := time.Since(t0)
		peakHeap := peak()
		pprof.StopCPUProfile()
		f.Close()
		if runErr != nil {
			return fmt.Errorf("%s: %w", st.p.title(), runErr)
		}
		var ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		hf, err := os.Create(filepath.Join(cfg.profile, "heap-"+string(st.p)+".pprof"))
		if err != nil {
			return err
		}
		pprof.Lookup("allocs").WriteTo(hf, 0)
		hf.Close()
		user := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano())
		sys := time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano())
		line := fmt.Sprintf("%-28s %10s %10s %10s %10s %12s  %s", st.p.title(), fmtDuration(wall), fmtDuration(user), fmtDuration(sys),
			fmtMB(int64(peakHeap)), fmtMB(int64(ms1.TotalAlloc-ms0.TotalAlloc)), desc)
		logf("%s", line)
		fmt.Fprintln(&summary, line)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(&summary, "\nprocess max RSS over all phases: %s\n", fmtMB(ru.Maxrss*1024))

	// Top functions of each CPU profile, when the go tool is at hand.
	r := &runner{timeout: 5 * time.Minute, log: os.Stderr}
	for _, st := range steps {
		prof := filepath.Join(cfg.profile, "cpu-"+string(st.p)+".pprof")
		for _, mode := range []string{"flat", "cum"} {
			args := []string{"tool", "pprof", "-top", "-nodecount=35"}
			if mode == "cum" {
				args = append(args, "-cum")
			}
			res, err := r.run(ctx, command{Name: goTool(), Args: append(args, prof)})
			if err != nil {
				fmt.Fprintf(&summary, "\n(go tool pprof failed: %v)\n", err)
				break
			}
			fmt.Fprintf(&summary, "\n==== %s: CPU profile, top by %s ====\n%s", st.p.title(), mode, res.Stdout)
		}
	}
	sumPath := filepath.Join(cfg.profile, "summary.txt")
	if err := os.WriteFile(sumPath, []byte(summary.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(summary.String())
	logf("profiles and %s written", sumPath)
	return nil
}

// watchHeap samples the Go runtime's total mapped memory every 20 ms until
// the returned function is called, which returns the peak.
func watchHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
