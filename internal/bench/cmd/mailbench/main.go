// Command mailbench is the harness behind `make bench`: it compares
// mailkeep's backup engine with restic, kopia and borg on one generated
// Maildir corpus and writes the figures to BENCHMARKS.md (issue 3, "Tests
// and benchmarks"; PRODUCT.md §5 and §6).
//
//	go run ./internal/bench/cmd/mailbench -messages 100000 -runs 3 -write
//	go run ./internal/bench/cmd/mailbench -messages 2000 -runs 1      # smoke
//	go run ./internal/bench/cmd/mailbench -messages 20000 -profile /tmp/prof
//
// In one run it:
//
//   - generates the corpus with internal/corpus (seed fixed, about 5,000
//     messages per account), or reuses the identical one cached under
//     ${MAILKEEP_CACHE:-$HOME/.cache/mailkeep}/corpus/<seed>-<messages>
//     (checked by a fingerprint of every file's name, size and mtime, and
//     regenerated when the generator's sources change);
//   - builds mailkeep once (go build ./cmd/mailkeep) and takes restic,
//     kopia and borg from internal/bench/peers.sh -print-dir (borg from
//     PATH);
//   - for every run and tool, each with a new repository: the initial
//     backup, an unchanged re-scan, a re-scan after renaming 10% of the
//     messages as flag changes (corpus.RenameFlags with the same seed for
//     every tool, undone afterwards), a restore of the account closest to
//     5,000 messages into an empty directory (mailkeep: into a new account
//     with restore account -to), the repository's size after the initial
//     backup and every phase's peak RSS and CPU time (mailkeep: the agent
//     process, restarted for every phase, on a unix socket with realtime and
//     scheduled SmartScans off);
//   - the read floor (cat every file once) and the stat floor (find
//     -printf of size, mtime and inode);
//   - drops the page cache before every timed phase when
//     /proc/sys/vm/drop_caches is writable (-cache cold), otherwise leaves
//     caches warm and says so;
//   - on a shared machine, waits before each tool's run (up to -quiet-wait) until
//     other processes use less than 20% of the CPU, and reports how much
//     CPU other processes used during every timed phase, marking the noisy
//     ones;
//   - prints the medians, the ratio of mailkeep to the fastest peer and
//     issue 3's targets, and with -write replaces this corpus size's
//     section of BENCHMARKS.md, keeping everything else in the file.
//
// Every external command runs with a timeout (-timeout) in its own process
// group, through a small copy of mailbench (-rusage-wrap, see internal/bench/rusage) so
// that its peak RSS is its own; its stderr is captured and shown when it
// fails. Temporary directories are removed at the end (-keep keeps them),
// also on Ctrl-C, and the cached corpus is put back as generated (checked
// by its fingerprint; a corpus left changed is generated again next time).
//
// With -profile DIR, mailbench instead runs the engine in-process
// (runtime/scan and runtime/restore directly, no agent) through the same
// phases with runtime/pprof on, writing a CPU and a heap profile per phase
// and the top functions to DIR.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/bench/rusage"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == rusage.Flag {
		os.Exit(rusage.Main("mailbench", os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

// config is the command line.
type config struct {
	messages int
	runs     int
	seed     int64
	write    bool
	out      string
	tools    []string
	peersDir string
	cache    string
	timeout  time.Duration
	keep     bool
	profile  string
	jsonOut  string
	workDir  string
	verbose  bool
	// quietWait is how long to wait, before each tool's run, for other processes
	// to leave the machine (less than quietShare of its CPU busy).
	quietWait time.Duration

	modRoot  string
	cacheDir string
	args     []string
}

var knownTools = []string{"mailkeep", "restic", "kopia", "borg"}

func run(args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "mailbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%7s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(format, args...))
	}
	if cfg.profile != "" {
		if err := profileMode(ctx, cfg, logf); err != nil {
			fmt.Fprintln(os.Stderr, "mailbench:", err)
			return 1
		}
		return 0
	}
	rep, err := bench(ctx, cfg, logf)
	if rep != nil {
		fmt.Println(rep.summary())
		if cfg.jsonOut != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(cfg.jsonOut, b, 0o644); werr != nil {
				fmt.Fprintln(os.Stderr, "mailbench:", werr)
			}
		}
		if cfg.write {
			if werr := writeReport(cfg.out, rep); werr != nil {
				fmt.Fprintln(os.Stderr, "mailbench:", werr)
				return 1
			}
			logf("wrote the %s section of %s", rep.key(), cfg.out)
		} else {
			fmt.Println(rep.render())
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailbench:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (*config, error) {
	def := 100000
	if v := os.Getenv("BENCH_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("BENCH_MESSAGES=%q is not a positive number", v)
		}
		def = n
	}
	cfg := &config{args: args}
	fs := flag.NewFlagSet("mailbench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./internal/bench/cmd/mailbench [flags]\n\nCompares mailkeep with restic, kopia and borg on a generated Maildir corpus\n(see the package documentation). Flags:\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.messages, "messages", def, "messages in the corpus (default $BENCH_MESSAGES, else 100000)")
	fs.IntVar(&cfg.runs, "runs", 3, "runs per tool; every figure is the median")
	fs.Int64Var(&cfg.seed, "seed", 1, "corpus seed (the rename storm uses it too)")
	fs.BoolVar(&cfg.write, "write", false, "write this corpus size's section of BENCHMARKS.md")
	fs.StringVar(&cfg.out, "out", "", "the report to write with -write (default BENCHMARKS.md at the module root)")
	tools := fs.String("tools", strings.Join(knownTools, ","), "comma-separated tools to run")
	fs.StringVar(&cfg.peersDir, "peers", "", "directory holding restic and kopia (default: internal/bench/peers.sh -print-dir)")
	fs.StringVar(&cfg.cache, "cache", "auto", "page cache before timed phases: cold (drop it; needs a writable "+dropCachesPath+"), warm, or auto (cold when possible)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "timeout of every external command")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directories (repositories, restores)")
	fs.StringVar(&cfg.profile, "profile", "", "profile the engine in-process instead: write CPU and heap profiles per phase to this directory")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the raw results as JSON to this file")
	fs.StringVar(&cfg.workDir, "work", "", "parent of the temporary directories (default $TMPDIR or /tmp); put it on the filesystem to measure")
	fs.BoolVar(&cfg.verbose, "v", false, "print every command")
	fs.DurationVar(&cfg.quietWait, "quiet-wait", 3*time.Minute, "before each tool's run and the floors, wait up to this long for other processes to use less than 20% of the CPU (0: do not wait)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.messages < 100 {
		return nil, fmt.Errorf("-messages %d: use at least 100", cfg.messages)
	}
	if cfg.runs < 1 {
		return nil, fmt.Errorf("-runs %d: use at least 1", cfg.runs)
	}
	switch cfg.cache {
	case "auto", "cold", "warm":
	default:
		return nil, fmt.Errorf("-cache %q: use cold, warm or auto", cfg.cache)
	}
	for _, t := range strings.Split(*tools, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		known := false
		for _, k := range knownTools {
			known = known || k == t
		}
		if !known {
			return nil, fmt.Errorf("-tools: unknown tool %q (know %s)", t, strings.Join(knownTools, ", "))
		}
		cfg.tools = append(cfg.tools, t)
	}
	if len(cfg.tools) == 0 {
		return nil, errors.New("-tools: name at least one tool")
	}
	var err error
	if cfg.modRoot, err = moduleRoot(); err != nil {
		return nil, err
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(cfg.modRoot, "BENCHMARKS.md")
	}
	cfg.cacheDir = os.Getenv("MAILKEEP_CACHE")
	if cfg.cacheDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory: set MAILKEEP_CACHE (%v)", err)
		}
		cfg.cacheDir = filepath.Join(home, ".cache", "mailkeep")
	}
	return cfg, nil
}

// moduleRoot finds the mailkeep module from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/mailkeep/mailkeep\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run mailbench inside the mailkeep module (no go.mod for github.com/mailkeep/mailkeep above the working directory)")
		}
		dir = parent
	}
}

// goTool returns the go command of the toolchain that built mailbench,
// else the one on PATH.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// findBinaries locates every selected tool, building mailkeep into work.
func findBinaries(ctx context.Context, cfg *config, r *runner, work string, logf func(string, ...any)) (map[string]string, error) {
	bins := map[string]string{}
	peersDir := cfg.peersDir
	for _, t := range cfg.tools {
		switch t {
		case "mailkeep":
			bin := filepath.Join(work, "mailkeep")
			logf("building mailkeep (go build -o %s ./cmd/mailkeep)", bin)
			if _, err := r.run(ctx, command{Dir: cfg.modRoot, Name: goTool(), Args: []string{"build", "-o", bin, "./cmd/mailkeep"}}); err != nil {
				return nil, fmt.Errorf("building mailkeep: %w", err)
			}
			bins[t] = bin
		case "restic", "kopia":
			if peersDir == "" {
				res, err := r.run(ctx, command{Dir: cfg.modRoot, Name: filepath.Join(cfg.modRoot, "internal", "bench", "peers.sh"), Args: []string{"-print-dir"}})
				if err != nil {
					return nil, fmt.Errorf("finding the peers (pass -peers DIR): %w", err)
				}
				peersDir = strings.TrimSpace(string(res.Stdout))
			}
			bin := filepath.Join(peersDir, t)
			if _, err := os.Stat(bin); err != nil {
				return nil, fmt.Errorf("%s is not built: run internal/bench/peers.sh first (or leave it out with -tools): %w", t, err)
			}
			bins[t] = bin
		case "borg":
			bin, err := exec.LookPath("borg")
			if err != nil {
				return nil, fmt.Errorf("borg is not installed: run internal/bench/peers.sh first (it installs Debian's borgbackup) or leave it out with -tools")
			}
			bins[t] = bin
		}
	}
	return bins, nil
}

// writeReport merges the report's section into the BENCHMARKS.md at path.
func writeReport(path string, rep *report) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := mergeSection(string(old), rep.key(), rep.render())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// commandLine is how the report names the command that produced it.
func commandLine(cfg *config) string {
	return strings.TrimSpace("go run ./internal/bench/cmd/mailbench " + strings.Join(cfg.args, " "))
}
