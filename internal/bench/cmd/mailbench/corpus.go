package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
)

// corpusMeta is what the cache keeps beside a generated corpus, so that a
// later run can reuse it only when it is exactly what would be generated
// now.
type corpusMeta struct {
	// Generator is a hash of internal/corpus's sources: a changed
	// generator means a new corpus.
	Generator string       `json:"generator"`
	Seed      int64        `json:"seed"`
	Messages  int          `json:"messages"`
	Accounts  int          `json:"accounts"`
	Stats     corpus.Stats `json:"stats"`
	// MedianSize and MaxFile are over the message files.
	MedianSize int64 `json:"median_size"`
	MaxFile    int64 `json:"max_file"`
	// Fingerprint hashes every file's path, size and mtime.
	Fingerprint string        `json:"fingerprint"`
	GenTime     time.Duration `json:"gen_time_ns"`
}

// benchCorpus is a ready corpus.
type benchCorpus struct {
	Dir  string // the cache entry
	Root string // the mail store root: Root/<domain>/<user>/Maildir
	Meta corpusMeta
	// Reused is set when the cached corpus was used as it was.
	Reused bool
	lock   *os.File
}

// corpusAccounts is how many accounts a corpus of n messages gets: about
// 5,000 messages each, so that one account is the size of the restore
// figure, and at least two, so that shared copies exist.
func corpusAccounts(n int) int { return max(2, n/5000) }

// prepareCorpus returns the corpus of n messages for seed, generating it
// under cacheDir/corpus/<seed>-<n> unless an identical one is there. The
// corpus stays locked (flock) until release, so that two harnesses never
// mutate it at once.
func prepareCorpus(cacheDir, modRoot string, seed int64, n int, logf func(string, ...any)) (*benchCorpus, error) {
	dir := filepath.Join(cacheDir, "corpus", fmt.Sprintf("%d-%d", seed, n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lk, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lk.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lk.Close()
		return nil, fmt.Errorf("corpus %s is in use by another mailbench (lock %s): %w", dir, lk.Name(), err)
	}
	c := &benchCorpus{Dir: dir, Root: filepath.Join(dir, "vmail"), lock: lk}
	gen := generatorHash(modRoot)
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil && json.Unmarshal(b, &c.Meta) == nil &&
		c.Meta.Generator == gen && c.Meta.Seed == seed && c.Meta.Messages == n {
		start := time.Now()
		fp, _, _, err := fingerprint(c.Root)
		if err == nil && fp == c.Meta.Fingerprint {
			logf("corpus: reusing %s (checked in %s)", c.Root, time.Since(start).Round(time.Millisecond))
			c.Reused = true
			return c, nil
		}
		logf("corpus: %s differs from what was generated (%v); generating it again", c.Root, err)
	}
	os.Remove(filepath.Join(dir, "meta.json"))
	if err := os.RemoveAll(c.Root); err != nil {
		c.release()
		return nil, err
	}
	opts := corpus.Options{Seed: seed, Messages: n, Accounts: corpusAccounts(n)}
	logf("corpus: generating %d messages in %d accounts (seed %d) in %s", n, opts.Accounts, seed, c.Root)
	start := time.Now()
	st, err := corpus.Generate(c.Root, opts)
	if err != nil {
		c.release()
		return nil, fmt.Errorf("generating the corpus: %w", err)
	}
	fp, median, maxFile, err := fingerprint(c.Root)
	if err != nil {
		c.release()
		return nil, err
	}
	c.Meta = corpusMeta{Generator: gen, Seed: seed, Messages: n, Accounts: opts.Accounts, Stats: st,
		MedianSize: median, MaxFile: maxFile, Fingerprint: fp, GenTime: time.Since(start)}
	b, _ := json.MarshalIndent(c.Meta, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o644); err != nil {
		c.release()
		return nil, err
	}
	logf("corpus: %d messages, %s in %s", st.Messages, fmtMB(st.Bytes), c.Meta.GenTime.Round(time.Millisecond))
	return c, nil
}

// release unlocks the corpus.
func (c *benchCorpus) release() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// check verifies that the corpus is as generated (after a benchmark run
// mutated and restored it).
func (c *benchCorpus) check() error {
	fp, _, _, err := fingerprint(c.Root)
	if err != nil {
		return err
	}
	if fp != c.Meta.Fingerprint {
		os.Remove(filepath.Join(c.Dir, "meta.json")) // the next run regenerates it
		return fmt.Errorf("corpus %s was not restored to its generated state; it will be generated again next time", c.Root)
	}
	return nil
}

// restoreAccount picks the account whose message count is closest to 5,000.
func (c *benchCorpus) restoreAccount() corpus.AccountStats {
	best := c.Meta.Stats.PerAccount[0]
	for _, a := range c.Meta.Stats.PerAccount[1:] {
		if abs(a.Messages-5000) < abs(best.Messages-5000) {
			best = a
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// generatorHash hashes the corpus generator's sources, when found.
func generatorHash(modRoot string) string {
	dir := filepath.Join(modRoot, "internal", "corpus")
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	sort.Strings(files)
	h := sha256.New()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
		n++
	}
	if n == 0 {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// isMessage reports whether rel names a message file (in cur/ or new/).
func isMessage(rel string) bool {
	d := filepath.Base(filepath.Dir(rel))
	return d == "cur" || d == "new"
}

// fingerprint hashes the path, size and mtime of every regular file under
// root, in sorted order, and returns the median and largest message size.
func fingerprint(root string) (fp string, median, maxFile int64, err error) {
	type entry struct {
		rel   string
		size  int64
		mtime int64
	}
	var all []entry
	var sizes []int64
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		all = append(all, entry{rel, info.Size(), info.ModTime().UnixNano()})
		if isMessage(rel) {
			sizes = append(sizes, info.Size())
			maxFile = max(maxFile, info.Size())
		}
		return nil
	})
	if err != nil {
		return "", 0, 0, err
	}
	slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })
	h := sha256.New()
	for _, e := range all {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.rel, e.size, e.mtime)
	}
	median, _ = medianInt64(sizes)
	return hex.EncodeToString(h.Sum(nil)), median, maxFile, nil
}

// treeState remembers where every message file of a corpus is and the
// mtime of every directory, so that a benchmark step that renames messages
// (the rename storm) or adds an account (mailkeep's restore -to) can put
// the corpus back exactly: same names, same inodes, same directory mtimes.
type treeState struct {
	root string
	// where maps a message's folder directory and base name (the name
	// without ":2,flags") to its path relative to root.
	where map[string]string
	dirs  map[string]time.Time
	// accounts are the root/<domain>/<user> directories.
	accounts map[string]bool
}

// messageKey identifies a message across flag changes (renames within
// cur/, new/ → cur/).
func messageKey(rel string) string {
	folder := filepath.Dir(filepath.Dir(rel))
	base, _, _ := strings.Cut(filepath.Base(rel), ":2,")
	return folder + "\x00" + base
}

func snapshotTree(root string) (*treeState, error) {
	ts := &treeState{root: root, where: map[string]string{}, dirs: map[string]time.Time{}, accounts: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			ts.dirs[rel] = info.ModTime()
			if strings.Count(rel, string(filepath.Separator)) == 1 {
				ts.accounts[rel] = true
			}
		case d.Type().IsRegular() && isMessage(rel):
			ts.where[messageKey(rel)] = rel
		}
		return nil
	})
	return ts, err
}

// restore undoes renames and added accounts since the snapshot and resets
// directory mtimes. It returns how many messages it moved back.
func (ts *treeState) restore() (int, error) {
	// Accounts that were not there (restore targets) go first.
	domains, err := os.ReadDir(ts.root)
	if err != nil {
		return 0, err
	}
	for _, d := range domains {
		if !d.IsDir() {
			continue
		}
		users, err := os.ReadDir(filepath.Join(ts.root, d.Name()))
		if err != nil {
			return 0, err
		}
		for _, u := range users {
			rel := filepath.Join(d.Name(), u.Name())
			if !ts.accounts[rel] {
				if err := os.RemoveAll(filepath.Join(ts.root, rel)); err != nil {
					return 0, err
				}
			}
		}
	}
	moved := 0
	var moves [][2]string
	err = filepath.WalkDir(ts.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(ts.root, p)
		if !isMessage(rel) {
			return nil
		}
		orig, ok := ts.where[messageKey(rel)]
		if !ok {
			return fmt.Errorf("restoring the corpus: %s was not there before", rel)
		}
		if orig != rel {
			moves = append(moves, [2]string{rel, orig})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, m := range moves {
		if err := os.Rename(filepath.Join(ts.root, m[0]), filepath.Join(ts.root, m[1])); err != nil {
			return moved, fmt.Errorf("restoring the corpus: %w", err)
		}
		moved++
	}
	rels := make([]string, 0, len(ts.dirs))
	for rel := range ts.dirs {
		rels = append(rels, rel)
	}
	slices.SortFunc(rels, func(a, b string) int { return len(b) - len(a) })
	for _, rel := range rels {
		t := ts.dirs[rel]
		if err := os.Chtimes(filepath.Join(ts.root, rel), t, t); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return moved, err
		}
	}
	return moved, nil
}

// countMessages counts the message files under dir (a restored account).
func countMessages(dir string) (n int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && isMessage(p) {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n++
			bytes += info.Size()
		}
		return nil
	})
	return n, bytes, err
}
