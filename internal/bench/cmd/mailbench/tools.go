package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// toolEnv is what a tool needs for one run.
type toolEnv struct {
	r     *runner
	cache pageCache
	// root is the corpus's mail store root.
	root string
	// ws is this tool's scratch directory for this run (repository,
	// caches, restore target).
	ws string
	// prime, when set, runs (untimed) right after the page cache is
	// dropped: the tool's version command, which reads its executable (and
	// for borg the Python interpreter and modules) back into the cache, as
	// the running agent's executable is for mailkeep. So no tool pays for
	// loading its own program, only for its data.
	prime *command
}

// tool is one backup program under test. Backup and Restore settle the
// page cache right before the timed command.
type tool interface {
	Name() string
	Setup(ctx context.Context) error
	Backup(ctx context.Context, ph phase) (sample, error)
	Restore(ctx context.Context, acct corpus.AccountStats) (sample, error)
	// RepoDir is the repository whose size is reported (without the
	// tool's local caches).
	RepoDir() string
	Close() error
}

// toolInfo describes a tool in the report.
type toolInfo struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Settings string `json:"settings"`
	Binary   string `json:"binary"`
}

// fromResult fills a sample from a measured command.
func fromResult(res *cmdResult) sample {
	return sample{Wall: res.Wall, CPU: res.CPU, MaxRSS: res.MaxRSS}
}

// checkRestored counts the messages a restore wrote and compares them
// with the account's.
func checkRestored(s *sample, dir string, acct corpus.AccountStats) error {
	n, b, err := countMessages(dir)
	if err != nil {
		return fmt.Errorf("counting restored messages in %s: %w", dir, err)
	}
	s.RestoredMessages, s.RestoredBytes = n, b
	if n != acct.Messages {
		return fmt.Errorf("restore wrote %d messages into %s; the account has %d", n, dir, acct.Messages)
	}
	return nil
}

// accountPath returns an account's directory relative to the corpus root
// (<domain>/<user>, holding Maildir).
func accountPath(root string, acct corpus.AccountStats) string {
	rel, err := filepath.Rel(root, filepath.Dir(acct.Maildir))
	if err != nil || strings.HasPrefix(rel, "..") {
		user, domain, _ := strings.Cut(acct.Address, "@")
		return filepath.Join(domain, user)
	}
	return rel
}

// ---- mailkeep ----

// mailkeepTool drives `mailkeep agent` through the CLI. The agent runs
// only during a phase, so that its peak RSS is the phase's.
type mailkeepTool struct {
	env    toolEnv
	bin    string
	sock   string
	state  string
	backup string
}

func newMailkeep(env toolEnv, bin string) *mailkeepTool {
	return &mailkeepTool{env: env, bin: bin, sock: filepath.Join(env.ws, "agent.sock"),
		state: filepath.Join(env.ws, "state"), backup: filepath.Join(env.ws, "backup")}
}

func (m *mailkeepTool) Name() string    { return "mailkeep" }
func (m *mailkeepTool) RepoDir() string { return m.backup }
func (m *mailkeepTool) Close() error    { return nil }

// configDocument is the agent's config for the benchmark: the corpus as
// mail store, realtime and scheduled SmartScans off, no reserved space.
func configDocument(root, backup string) []byte {
	doc := map[string]any{
		"format_version":   1,
		"mail_store":       "maildir:" + root + "/%d/%n/Maildir",
		"backup_path":      backup,
		"realtime_scanner": false,
		"smartscan":        map[string]any{"enabled": false},
		"reserved_space":   map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"description":      "mailbench",
	}
	b, _ := json.Marshal(doc)
	return b
}

func (m *mailkeepTool) url() string { return "unix://" + m.sock }

// startAgent starts the agent and waits until it answers.
func (m *mailkeepTool) startAgent(ctx context.Context) (*daemon, *client.Client, error) {
	d, err := m.env.r.start(ctx, command{Name: m.bin, Args: []string{"agent", "-state-dir", m.state, "-listen", m.url(), "-log-level", "warn"}})
	if err != nil {
		return nil, nil, err
	}
	cl, err := client.New(client.Target{URL: m.url()})
	if err != nil {
		d.stop(5 * time.Second)
		return nil, nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := cl.Status(cctx)
		cancel()
		if err == nil {
			return d, cl, nil
		}
		if d.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			_, _, serr := d.stop(5 * time.Second)
			if serr == nil {
				serr = &cmdError{cmd: d.desc, err: errors.New("not answering"), stderr: d.log.Bytes()}
			}
			return nil, nil, fmt.Errorf("mailkeep agent did not come up: %v; %w", err, serr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *mailkeepTool) Setup(ctx context.Context) error {
	d, cl, err := m.startAgent(ctx)
	if err != nil {
		return err
	}
	_, perr := cl.PutConfig(ctx, configDocument(m.env.root, m.backup), "", "mailbench")
	if _, _, err := d.stop(30 * time.Second); err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("configuring the agent: %w", perr)
	}
	return nil
}

// operation runs one CLI operation command against a freshly started
// agent and measures it: wall time of the command, peak RSS and CPU of the
// agent.
// cliOperation is the part of an operation `mailkeep ... -json` prints
// that the harness reads.
type cliOperation struct {
	ID     string          `json:"id"`
	State  string          `json:"state"`
	Error  string          `json:"error"`
	Result json.RawMessage `json:"result"`
}

func (m *mailkeepTool) operation(ctx context.Context, args ...string) (sample, *cliOperation, error) {
	d, _, err := m.startAgent(ctx)
	if err != nil {
		return sample{}, nil, err
	}
	if err := m.env.cache.settle(); err != nil {
		d.stop(30 * time.Second)
		return sample{}, nil, err
	}
	bg := startBackground()
	res, runErr := m.env.r.run(ctx, command{Name: m.bin, Args: args})
	// The agent's CPU time includes its start, before bg began: a little
	// background is hidden, none is invented.
	busy := bg.other(0)
	rss, cpu, stopErr := d.stop(60 * time.Second)
	if runErr != nil {
		return sample{}, nil, fmt.Errorf("%w\n--- agent log ---\n%s", runErr, tail(d.log.Bytes(), 3000))
	}
	if stopErr != nil {
		return sample{}, nil, stopErr
	}
	var op cliOperation
	if err := json.Unmarshal(res.Stdout, &op); err != nil {
		return sample{}, nil, fmt.Errorf("mailkeep %s: reading its -json output: %w\n%s", args[0], err, tail(res.Stdout, 2000))
	}
	if op.State != api.StateSucceeded {
		return sample{}, nil, fmt.Errorf("mailkeep %s: operation %s %s: %s", args[0], op.ID, op.State, op.Error)
	}
	s := fromResult(res)
	s.MaxRSS, s.CPU = rss, cpu
	s.Other = max(0, busy-cpu-res.CPU)
	return s, &op, nil
}

func (m *mailkeepTool) Backup(ctx context.Context, ph phase) (sample, error) {
	s, op, err := m.operation(ctx, "smartscan", "-agent", m.url(), "-wait", "-json")
	if err != nil {
		return s, err
	}
	var r struct {
		Items       int64    `json:"items"`
		New         int64    `json:"new"`
		Changed     int64    `json:"changed"`
		Moved       int64    `json:"moved"`
		Unchanged   int64    `json:"unchanged"`
		BytesRead   int64    `json:"bytes_read"`
		BytesStored int64    `json:"bytes_stored"`
		NewBlobs    int64    `json:"new_blobs"`
		Errors      []string `json:"errors"`
	}
	if err := json.Unmarshal(op.Result, &r); err != nil {
		return s, fmt.Errorf("mailkeep smartscan: reading its result: %w", err)
	}
	s.Scan = &scanFigures{Items: r.Items, New: r.New, Changed: r.Changed, Moved: r.Moved, Unchanged: r.Unchanged,
		BytesRead: r.BytesRead, BytesStored: r.BytesStored, NewBlobs: r.NewBlobs}
	return s, nil
}

// restoreTarget is the account mailkeep restores into: a new account in
// the source's domain (removed again when the run's corpus is restored).
func restoreTarget(acct corpus.AccountStats) string {
	_, domain, _ := strings.Cut(acct.Address, "@")
	return "mailbench-restored@" + domain
}

func (m *mailkeepTool) Restore(ctx context.Context, acct corpus.AccountStats) (sample, error) {
	to := restoreTarget(acct)
	_, domain, _ := strings.Cut(to, "@")
	dir := filepath.Join(m.env.root, domain, "mailbench-restored")
	if _, err := os.Stat(dir); err == nil {
		return sample{}, fmt.Errorf("restore target %s exists already", dir)
	}
	s, _, err := m.operation(ctx, "restore", "account", "-agent", m.url(), "-to", to, "-wait", "-json", acct.Address)
	if err != nil {
		return s, err
	}
	err = checkRestored(&s, dir, acct)
	if rerr := os.RemoveAll(dir); err == nil {
		err = rerr
	}
	return s, err
}

// ---- restic ----

type resticTool struct {
	env  toolEnv
	bin  string
	repo string
	vars []string
}

func newRestic(env toolEnv, bin string) *resticTool {
	env.prime = &command{Name: bin, Args: []string{"version"}}
	return &resticTool{env: env, bin: bin, repo: filepath.Join(env.ws, "repo"),
		vars: []string{"RESTIC_PASSWORD=mailbench", "RESTIC_CACHE_DIR=" + filepath.Join(env.ws, "cache")}}
}

func (t *resticTool) Name() string    { return "restic" }
func (t *resticTool) RepoDir() string { return t.repo }
func (t *resticTool) Close() error    { return nil }

func (t *resticTool) cmd(args ...string) command {
	return command{Env: t.vars, Name: t.bin, Args: append([]string{"-r", t.repo}, args...)}
}

func (t *resticTool) Setup(ctx context.Context) error {
	_, err := t.env.r.run(ctx, t.cmd("init"))
	return err
}

func (t *resticTool) Backup(ctx context.Context, ph phase) (sample, error) {
	return timed(ctx, t.env, t.cmd("backup", "-q", "--host", "mailbench", t.env.root))
}

func (t *resticTool) Restore(ctx context.Context, acct corpus.AccountStats) (sample, error) {
	dst := filepath.Join(t.env.ws, "restore")
	src := filepath.Join(t.env.root, accountPath(t.env.root, acct))
	s, err := timed(ctx, t.env, t.cmd("restore", "-q", "latest:"+src, "--target", dst))
	if err != nil {
		return s, err
	}
	return s, checkRestored(&s, dst, acct)
}

// timed settles the page cache, primes the tool's executable and runs one
// measured command.
func timed(ctx context.Context, env toolEnv, c command) (sample, error) {
	if err := env.cache.settle(); err != nil {
		return sample{}, err
	}
	if env.prime != nil {
		if _, err := env.r.run(ctx, *env.prime); err != nil {
			return sample{}, err
		}
	}
	bg := startBackground()
	res, err := env.r.run(ctx, c)
	if err != nil {
		return sample{}, err
	}
	s := fromResult(res)
	s.Other = bg.other(s.CPU)
	return s, nil
}

// ---- kopia ----

type kopiaTool struct {
	env  toolEnv
	bin  string
	repo string
	vars []string
}

func newKopia(env toolEnv, bin string) *kopiaTool {
	env.prime = &command{Name: bin, Args: []string{"--version"}}
	return &kopiaTool{env: env, bin: bin, repo: filepath.Join(env.ws, "repo"), vars: []string{
		"KOPIA_PASSWORD=mailbench",
		"KOPIA_CONFIG_PATH=" + filepath.Join(env.ws, "kopia.config"),
		"KOPIA_CACHE_DIRECTORY=" + filepath.Join(env.ws, "cache"),
		"KOPIA_LOG_DIR=" + filepath.Join(env.ws, "logs"),
		"KOPIA_CHECK_FOR_UPDATES=false",
	}}
}

func (t *kopiaTool) Name() string    { return "kopia" }
func (t *kopiaTool) RepoDir() string { return t.repo }
func (t *kopiaTool) Close() error    { return nil }

func (t *kopiaTool) cmd(args ...string) command {
	return command{Env: t.vars, Name: t.bin, Args: args}
}

func (t *kopiaTool) Setup(ctx context.Context) error {
	_, err := t.env.r.run(ctx, t.cmd("repository", "create", "filesystem", "--path", t.repo))
	return err
}

func (t *kopiaTool) Backup(ctx context.Context, ph phase) (sample, error) {
	return timed(ctx, t.env, t.cmd("snapshot", "create", t.env.root))
}

func (t *kopiaTool) Restore(ctx context.Context, acct corpus.AccountStats) (sample, error) {
	res, err := t.env.r.run(ctx, t.cmd("snapshot", "list", t.env.root, "--json"))
	if err != nil {
		return sample{}, err
	}
	var snaps []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(res.Stdout, &snaps); err != nil || len(snaps) == 0 {
		return sample{}, fmt.Errorf("kopia snapshot list: no snapshot of %s (%v)\n%s", t.env.root, err, tail(res.Stdout, 2000))
	}
	dst := filepath.Join(t.env.ws, "restore")
	last := snaps[len(snaps)-1].ID
	s, err := timed(ctx, t.env, t.cmd("snapshot", "restore", last+"/"+filepath.ToSlash(accountPath(t.env.root, acct)), dst))
	if err != nil {
		return s, err
	}
	return s, checkRestored(&s, dst, acct)
}

// ---- borg ----

type borgTool struct {
	env  toolEnv
	bin  string
	repo string
	vars []string
	last string // the last archive written
}

func newBorg(env toolEnv, bin string) *borgTool {
	env.prime = &command{Name: bin, Args: []string{"--version"}}
	return &borgTool{env: env, bin: bin, repo: filepath.Join(env.ws, "repo"), vars: []string{
		"BORG_BASE_DIR=" + filepath.Join(env.ws, "base"),
		"BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes",
		"BORG_RELOCATED_REPO_ACCESS_IS_OK=yes",
	}}
}

func (t *borgTool) Name() string    { return "borg" }
func (t *borgTool) RepoDir() string { return t.repo }
func (t *borgTool) Close() error    { return nil }

func (t *borgTool) Setup(ctx context.Context) error {
	_, err := t.env.r.run(ctx, command{Env: t.vars, Name: t.bin, Args: []string{"init", "-e", "none", t.repo}})
	return err
}

func (t *borgTool) Backup(ctx context.Context, ph phase) (sample, error) {
	t.last = string(ph)
	// Archive paths relative to the corpus root, as an administrator
	// would run it from /var/vmail.
	return timed(ctx, t.env, command{Dir: t.env.root, Env: t.vars, Name: t.bin, Args: []string{"create", t.repo + "::" + t.last, "."}})
}

func (t *borgTool) Restore(ctx context.Context, acct corpus.AccountStats) (sample, error) {
	if t.last == "" {
		return sample{}, errors.New("borg: no archive to restore from")
	}
	dst := filepath.Join(t.env.ws, "restore")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return sample{}, err
	}
	s, err := timed(ctx, t.env, command{Dir: dst, Env: t.vars, Name: t.bin,
		Args: []string{"extract", t.repo + "::" + t.last, filepath.ToSlash(accountPath(t.env.root, acct))}})
	if err != nil {
		return s, err
	}
	return s, checkRestored(&s, dst, acct)
}

// ---- versions ----

// describeTools asks each tool for its version and says which settings
// the benchmark uses.
func describeTools(ctx context.Context, r *runner, bins map[string]string, modRoot string) map[string]toolInfo {
	out := map[string]toolInfo{}
	ver := func(name string, args ...string) string {
		res, err := r.run(ctx, command{Name: bins[name], Args: args})
		if err != nil {
			return "unknown"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "\n")
		return line
	}
	for name, bin := range bins {
		info := toolInfo{Name: name, Binary: bin}
		switch name {
		case "mailkeep":
			info.Version = ver(name, "version") + " " + sourceID(ctx, r, modRoot)
			info.Settings = "agent on a unix socket, `realtime_scanner = false`, `smartscan.enabled = false`, `reserved_space` 0, other settings at their defaults (`metadata.flush_on_save = true`); zstd (default level), SHA-256, SQLite catalog; times are those of `mailkeep smartscan -wait` and `mailkeep restore account -to NEW -wait`, peak memory and CPU are the agent's, restarted for every phase"
		case "restic":
			info.Version = ver(name, "version")
			info.Settings = "defaults: encryption (AES-256 + Poly1305, always on), compression `auto` (zstd, repository v2); `--host mailbench` so that the re-scans find their parent snapshot"
		case "kopia":
			info.Version = "kopia " + ver(name, "--version")
			info.Settings = "defaults: encryption AES256-GCM-HMAC-SHA256, no compression (kopia's default policy), splitter DYNAMIC-4M-BUZHASH; `kopia snapshot create` also runs kopia's automatic maintenance when due"
		case "borg":
			info.Version = ver(name, "--version")
			info.Settings = "`borg init -e none` (no encryption, as issue 3 asks), compression lz4 (borg's default), run from the corpus root (`borg create REPO::NAME .`)"
		}
		out[name] = info
	}
	return out
}

// sourceID names the mailkeep sources a benchmark built: the git commit,
// whether the engine's files differ from it, and a hash of the Go files of
// cmd/mailkeep and runtime/ (the working tree changes between commits).
func sourceID(ctx context.Context, r *runner, modRoot string) string {
	commit := "unknown commit"
	if res, err := r.run(ctx, command{Dir: modRoot, Name: "git", Args: []string{"rev-parse", "--short", "HEAD"}}); err == nil {
		commit = "git " + strings.TrimSpace(string(res.Stdout))
		if res, err := r.run(ctx, command{Dir: modRoot, Name: "git", Args: []string{"status", "--porcelain", "--", "cmd/mailkeep", "runtime", "schema", "go.mod", "go.sum"}}); err == nil && len(bytes.TrimSpace(res.Stdout)) > 0 {
			commit += " with uncommitted changes"
		}
	}
	h := sha256.New()
	var files []string
	for _, dir := range []string{"cmd/mailkeep", "runtime", "schema"} {
		filepath.WalkDir(filepath.Join(modRoot, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				files = append(files, p)
			}
			return nil
		})
	}
	files = append(files, filepath.Join(modRoot, "go.sum"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(modRoot, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("(%s; sources sha256 %s)", commit, hex.EncodeToString(h.Sum(nil))[:12])
}
