package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// fixtureVersion changes whenever the fixture's recipe does, so that a
// cached fixture of an older recipe is rebuilt.
const fixtureVersion = 1

// Day 0 of the history, and the fixture's shape.
var day0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

const (
	days           = 10    // daily SmartScans and restic snapshots: day 0 to day 9
	deliverShare   = 0.02  // churn per day: new messages,
	deleteShare    = 0.02  // expunged ones,
	moveShare      = 0.005 // moved to another folder,
	renameShare    = 0.005 // flag changes: 5% in all
	resticPassword = "purgebench"
)

// fixture is the cached pair of repositories holding the same ten daily
// states of one generated store.
type fixture struct {
	Version  int    `json:"version"`
	Dir      string `json:"-"`
	Messages int    `json:"messages"`
	Accounts int    `json:"accounts"`
	// Items is the number of messages in the store at each scan.
	Items []int64 `json:"items"`
	// Scan and Restic are the cost of each day's mailkeep SmartScan and
	// restic backup.
	Scan   []measured `json:"scan"`
	Restic []measured `json:"restic"`
	// MailkeepBytes and ResticBytes are the repositories' sizes.
	MailkeepBytes int64         `json:"mailkeep_bytes"`
	ResticBytes   int64         `json:"restic_bytes"`
	BuildTook     time.Duration `json:"build_took_ns"`
}

func (f *fixture) mailkeepRepo() string { return filepath.Join(f.Dir, "mailkeep") }
func (f *fixture) resticRepo() string   { return filepath.Join(f.Dir, "restic") }
func (f *fixture) resticCache() string  { return filepath.Join(f.Dir, "restic-cache") }

// loadFixture returns the cached fixture for this size, building it first
// when there is none (or an incomplete or outdated one).
func loadFixture(cache string, messages int, restic string, logf func(string, ...any)) (*fixture, error) {
	dir := filepath.Join(cache, "purgebench", fmt.Sprintf("%d-v%d", messages, fixtureVersion))
	if b, err := os.ReadFile(filepath.Join(dir, "fixture.json")); err == nil {
		f := &fixture{Dir: dir}
		if json.Unmarshal(b, f) == nil && f.Version == fixtureVersion && f.Messages == messages {
			logf("using the cached fixture %s (built in %s)", dir, f.BuildTook.Round(time.Second))
			return f, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := &fixture{Version: fixtureVersion, Dir: dir, Messages: messages, Accounts: max(2, messages/2000)}
	start := time.Now()
	if err := f.build(restic, logf); err != nil {
		return nil, fmt.Errorf("building the fixture in %s: %w", dir, err)
	}
	f.BuildTook = time.Since(start)
	f.MailkeepBytes, f.ResticBytes = duBytes(f.mailkeepRepo()), duBytes(f.resticRepo())
	b, _ := json.MarshalIndent(f, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "fixture.json"), b, 0o600); err != nil {
		return nil, err
	}
	logf("fixture built in %s", f.BuildTook.Round(time.Second))
	return f, nil
}

// build generates the store, then for each day mutates it (5% churn) and
// backs the same state up with a mailkeep SmartScan at that day's 04:00
// and a restic snapshot dated the same with --time.
func (f *fixture) build(restic string, logf func(string, ...any)) error {
	store := filepath.Join(f.Dir, "vmail")
	logf("generating %d messages in %d accounts (seed 1, at most 16 KiB each)", f.Messages, f.Accounts)
	if _, err := corpus.Generate(store, corpus.Options{Seed: 1, Accounts: f.Accounts, Messages: f.Messages, MaxSize: 16 << 10}); err != nil {
		return err
	}
	env := resticEnv(f.resticCache())
	if _, err := run(env, restic, "-r", f.resticRepo(), "init"); err != nil {
		return err
	}
	items := int64(f.Messages)
	for day := 0; day < days; day++ {
		at := day0.Add(time.Duration(day) * 24 * time.Hour)
		if day > 0 {
			seed := int64(day)
			n, err := corpus.Deliver(store, int(float64(items)*deliverShare), seed)
			if err != nil {
				return err
			}
			d, err := corpus.Delete(store, deleteShare, seed)
			if err != nil {
				return err
			}
			m, err := corpus.Move(store, moveShare, seed)
			if err != nil {
				return err
			}
			r, err := corpus.RenameFlags(store, renameShare, seed)
			if err != nil {
				return err
			}
			logf("day %d: %d delivered, %d deleted, %d moved, %d renamed", day, n, d, m, r)
		}
		sc, err := run(nil, selfPath(), "-child-scan", f.mailkeepRepo(), store, at.Format(time.RFC3339Nano))
		if err != nil {
			return err
		}
		var res scan.Result
		if err := json.Unmarshal(sc.Stdout, &res); err != nil {
			return fmt.Errorf("SmartScan output: %v", err)
		}
		items = res.Items
		f.Items = append(f.Items, items)
		f.Scan = append(f.Scan, *sc)
		rs, err := run(env, restic, "-r", f.resticRepo(), "backup", "-q", "--host", "purgebench",
			"--time", at.Format("2006-01-02 15:04:05"), store)
		if err != nil {
			return err
		}
		f.Restic = append(f.Restic, *rs)
		logf("day %d: %d messages; mailkeep SmartScan %s (peak %s), restic backup %s (peak %s)",
			day, items, sc.Wall.Round(time.Millisecond), mb(sc.MaxRSS), rs.Wall.Round(time.Millisecond), mb(rs.MaxRSS))
	}
	// The store is not needed any more: the repositories hold its states.
	return os.RemoveAll(store)
}

func resticEnv(cache string) []string {
	return []string{"RESTIC_PASSWORD=" + resticPassword, "RESTIC_CACHE_DIR=" + cache, "TZ=UTC"}
}

func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return p
}
