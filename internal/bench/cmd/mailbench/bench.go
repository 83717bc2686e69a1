package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
)

// renameFraction is the share of messages the rename storm renames.
const renameFraction = 0.10

// quietShare is the CPU share of other processes below which the machine
// counts as quiet enough to start a run.
const quietShare = 0.20

// bench runs the whole comparison. It returns the report even when part
// of it failed, with the error.
func bench(ctx context.Context, cfg *config, logf func(string, ...any)) (*report, error) {
	started := time.Now()
	r := &runner{timeout: cfg.timeout, log: os.Stderr, verbose: cfg.verbose}

	cache := pageCache{cold: cfg.cache == "cold" || cfg.cache == "auto" && canDropCaches()}
	if cfg.cache == "cold" && !canDropCaches() {
		return nil, fmt.Errorf("-cache cold: %s is not writable (run as root outside a restricted container, or use -cache warm)", dropCachesPath)
	}

	c, err := prepareCorpus(cfg.cacheDir, cfg.modRoot, cfg.seed, cfg.messages, logf)
	if err != nil {
		return nil, err
	}
	defer c.release()

	work, err := os.MkdirTemp(cfg.workDir, "mailbench-")
	if err != nil {
		return nil, err
	}
	if cfg.keep {
		logf("keeping temporary files in %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	if exe, err := os.Executable(); err == nil {
		r.wrapper, r.wrapDir = exe, work
	} else {
		logf("cannot find mailbench's own executable (%v): peak RSS figures will include the harness's", err)
	}

	bins, err := findBinaries(ctx, cfg, r, work, logf)
	if err != nil {
		return nil, err
	}
	infos := describeTools(ctx, r, bins, cfg.modRoot)

	acct := c.restoreAccount()
	rep := &report{
		Date:    time.Now(),
		Command: commandLine(cfg),
		Machine: probeMachine(work),
		Cold:    cache.cold,
		Cache:   cache.describe(),
		Runs:    cfg.runs,
		Corpus: corpusSummary{Seed: cfg.seed, Messages: c.Meta.Stats.Messages, Accounts: c.Meta.Stats.Accounts,
			Folders: c.Meta.Stats.Folders, Bytes: c.Meta.Stats.Bytes, MedianSize: c.Meta.MedianSize, MaxFile: c.Meta.MaxFile, Root: c.Root},
		RestoreAccount: acct.Address, RestoreMessages: acct.Messages, RestoreBytes: acct.Bytes,
	}
	if os.Getenv("MAKELEVEL") != "" {
		rep.Notes = append(rep.Notes, "Run by `make bench`, which first runs `internal/bench/peers.sh` to build or find the peers.")
	}
	if work != "" {
		if d1, _ := mountOf(work); d1 != "" {
			if d2, _ := mountOf(c.Root); d2 != d1 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("The corpus (%s) and the repositories (%s) are on different filesystems.", d2, d1))
			}
		}
	}
	for _, name := range cfg.tools {
		rep.Tools = append(rep.Tools, &toolResult{toolInfo: infos[name]})
	}
	floors := []*floorResult{
		{Name: "read floor", Command: "find ROOT -type f -exec cat {} + > /dev/null"},
		{Name: "stat floor", Command: "find ROOT -type f -printf '%s %T@ %i\\n' > /dev/null"},
	}
	rep.Floors = floors

	if !cache.cold {
		logf("warming the page cache: reading the corpus once")
		if _, err := r.run(ctx, floorCommand(floors[0].Command, c.Root)); err != nil {
			return nil, err
		}
	}

	var failed []string
	for run := 1; run <= cfg.runs; run++ {
		quiet := func(what string) {
			if cfg.quietWait <= 0 {
				return
			}
			if share, ok := waitQuiet(ctx, cfg.quietWait, quietShare, rep.Machine.CPUs, logf); !ok && ctx.Err() == nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("Run %d, %s, started while other processes kept the machine %.0f%% busy (mailbench waited %s for it to calm down).", run, what, 100*share, cfg.quietWait))
			}
		}
		quiet("floors")
		for _, f := range floors {
			if err := cache.settle(); err != nil {
				return rep, err
			}
			res, err := r.run(ctx, floorCommand(f.Command, c.Root))
			if err != nil {
				return rep, fmt.Errorf("%s: %w", f.Name, err)
			}
			f.Times = append(f.Times, res.Wall)
			logf("run %d/%d: %s %s", run, cfg.runs, f.Name, fmtDuration(res.Wall))
		}
		// Rotate the order of the tools from run to run, so that none is
		// always the one after the corpus was just written or restored.
		for i := range rep.Tools {
			tr := rep.Tools[(i+run-1)%len(rep.Tools)]
			if ctx.Err() != nil {
				break
			}
			quiet(tr.Name)
			rr, renamed := runTool(ctx, cfg, r, cache, c, acct, tr.Name, bins[tr.Name], work, run, logf)
			tr.Runs = append(tr.Runs, rr)
			if renamed > 0 {
				rep.Renamed = renamed
			}
			if rr.Err != "" {
				failed = append(failed, fmt.Sprintf("%s run %d", tr.Name, run))
				logf("run %d/%d: %s FAILED:\n%s", run, cfg.runs, tr.Name, rr.Err)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, tr := range rep.Tools {
		sortRuns(tr)
	}
	rep.Elapsed = time.Since(started)
	if err := c.check(); err != nil {
		return rep, err
	}
	if ctx.Err() != nil {
		return rep, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("failed: %s (details above)", strings.Join(failed, ", "))
	}
	return rep, nil
}

func sortRuns(tr *toolResult) {
	for i := 1; i < len(tr.Runs); i++ {
		for j := i; j > 0 && tr.Runs[j].Run < tr.Runs[j-1].Run; j-- {
			tr.Runs[j], tr.Runs[j-1] = tr.Runs[j-1], tr.Runs[j]
		}
	}
}

// floorCommand runs a floor's shell command on root.
func floorCommand(cmd, root string) command {
	return command{Name: "sh", Args: []string{"-c", strings.ReplaceAll(cmd, "ROOT", `"$1"`), "sh", root}}
}

// newTool returns the named tool working in ws.
func newTool(name, bin string, env toolEnv) tool {
	switch name {
	case "mailkeep":
		return newMailkeep(env, bin)
	case "restic":
		return newRestic(env, bin)
	case "kopia":
		return newKopia(env, bin)
	case "borg":
		return newBorg(env, bin)
	}
	panic("unknown tool " + name)
}

// runTool runs every phase of one tool once, each into a new repository,
// and puts the corpus back as it was afterwards, whatever happened.
func runTool(ctx context.Context, cfg *config, r *runner, cache pageCache, c *benchCorpus, acct corpus.AccountStats,
	name, bin, work string, run int, logf func(string, ...any)) (rr *runResult, renamed int) {
	rr = &runResult{Run: run, Samples: map[phase]sample{}}
	fail := func(err error) {
		if rr.Err == "" {
			rr.Err = err.Error()
		} else {
			rr.Err += "\n" + err.Error()
		}
	}
	ws := filepath.Join(work, fmt.Sprintf("run%d-%s", run, name))
	if err := os.MkdirAll(ws, 0o700); err != nil {
		fail(err)
		return rr, 0
	}
	if !cfg.keep {
		defer os.RemoveAll(ws)
	}
	snap, err := snapshotTree(c.Root)
	if err != nil {
		fail(fmt.Errorf("reading the corpus: %w", err))
		return rr, 0
	}
	defer func() {
		if _, err := snap.restore(); err != nil {
			fail(fmt.Errorf("putting the corpus back: %w", err))
		}
	}()
	t := newTool(name, bin, toolEnv{r: r, cache: cache, root: c.Root, ws: ws})
	defer t.Close()

	step := func(p phase, f func() (sample, error)) bool {
		s, err := f()
		if err != nil {
			fail(fmt.Errorf("%s: %w", p.title(), err))
			return false
		}
		rr.Samples[p] = s
		extra := ""
		if s.Scan != nil {
			extra = fmt.Sprintf(", read %s, stored %s", fmtMB(s.Scan.BytesRead), fmtMB(s.Scan.BytesStored))
		}
		if s.RestoredMessages > 0 {
			extra = fmt.Sprintf(", %d messages", s.RestoredMessages)
		}
		logf("run %d/%d: %-8s %-28s %9s  cpu %9s  rss %9s%s", run, cfg.runs, name, p.title(), fmtDuration(s.Wall), fmtDuration(s.CPU), fmtMB(s.MaxRSS), extra)
		return true
	}
	if err := t.Setup(ctx); err != nil {
		fail(fmt.Errorf("setting up: %w", err))
		return rr, 0
	}
	if !step(phaseInitial, func() (sample, error) { return t.Backup(ctx, phaseInitial) }) {
		return rr, 0
	}
	if size, err := diskUsage(t.RepoDir()); err != nil {
		fail(fmt.Errorf("repository size: %w", err))
	} else {
		rr.RepoBytes = size
		logf("run %d/%d: %-8s %-28s %9s", run, cfg.runs, name, "repository size", fmtMB(size))
	}
	if !step(phaseUnchanged, func() (sample, error) { return t.Backup(ctx, phaseUnchanged) }) {
		return rr, 0
	}
	renamed, err = corpus.RenameFlags(c.Root, renameFraction, cfg.seed)
	if err != nil {
		fail(fmt.Errorf("renaming messages: %w", err))
		return rr, 0
	}
	if !step(phaseRenamed, func() (sample, error) { return t.Backup(ctx, phaseRenamed) }) {
		return rr, renamed
	}
	step(phaseRestore, func() (sample, error) { return t.Restore(ctx, acct) })
	if ctx.Err() != nil && rr.Err == "" {
		fail(errors.New("interrupted"))
	}
	return rr, renamed
}
