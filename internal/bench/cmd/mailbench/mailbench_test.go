package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
)

func TestMedian(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{[]time.Duration{3 * s}, 3 * s, true},
		{[]time.Duration{5 * s, 1 * s, 3 * s}, 3 * s, true},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 2500 * time.Millisecond, true},
	} {
		in := append([]time.Duration(nil), tc.in...)
		got, ok := medianDuration(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("medianDuration(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("medianDuration reordered its input: %v", tc.in)
			}
		}
	}
	if got, _ := medianInt64([]int64{10, 30, 20, 40}); got != 25 {
		t.Errorf("medianInt64 = %d, want 25", got)
	}
	if got := maxInt64([]int64{3, 9, 2}); got != 9 {
		t.Errorf("maxInt64 = %d", got)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtRatio(1, 2), "0.50×"},
		{fmtRatio(2.8, 2.8), "1.00×"},
		{fmtRatio(19, 1), "19.0×"},
		{fmtRatio(250, 1), "250×"},
		{fmtRatio(1, 0), "n/a"},
		{fmtRatio(-1, 1), "n/a"},
		{fmtDuration(62 * time.Millisecond), "0.062 s"},
		{fmtDuration(4810 * time.Millisecond), "4.81 s"},
		{fmtDuration(61300 * time.Millisecond), "61.3 s"},
		{fmtMB(1_234_567), "1.23 MB"},
		{fmtMB(300_000_000), "300.0 MB"},
		{fmtMB(2_800_000_000), "2800 MB"},
		{thousands(100000), "100,000"},
		{thousands(999), "999"},
		{thousands(-1234567), "-1,234,567"},
		{shellQuote("a/b.c"), "a/b.c"},
		{shellQuote("it's"), `'it'\''s'`},
		{shellQuote(""), "''"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// testReport is a small report with fixed figures.
func testReport() *report {
	s := time.Second
	ms := time.Millisecond
	mk := func(name string, times map[phase][]time.Duration, repo int64, rss int64) *toolResult {
		tr := &toolResult{toolInfo: toolInfo{Name: name, Version: name + " 1.0", Settings: "defaults"}}
		for run := 1; run <= 3; run++ {
			rr := &runResult{Run: run, Samples: map[phase]sample{}, RepoBytes: repo}
			for p, ts := range times {
				smp := sample{Wall: ts[run-1], CPU: ts[run-1] / 2, MaxRSS: rss}
				if name == "mailkeep" && p != phaseRestore {
					smp.Scan = &scanFigures{Items: 2000}
				}
				rr.Samples[p] = smp
			}
			tr.Runs = append(tr.Runs, rr)
		}
		return tr
	}
	return &report{
		Date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Command: "go run ./internal/bench/cmd/mailbench -messages 2000 -runs 3",
		Elapsed: 95 * s, Machine: machine{CPUs: 2, MemBytes: 8e9, Kernel: "6.1", Device: "/dev/vda", Filesystem: "ext4", GoVersion: "go1.26"},
		Cold: true, Cache: "cold", Runs: 3,
		Corpus:         corpusSummary{Seed: 1, Messages: 2000, Accounts: 2, Folders: 18, Bytes: 70_000_000, MedianSize: 8200, MaxFile: 4_000_000},
		RestoreAccount: "ann@example.com", RestoreMessages: 1000, RestoreBytes: 35_000_000, Renamed: 200,
		Tools: []*toolResult{
			mk("mailkeep", map[phase][]time.Duration{
				phaseInitial: {2 * s, 1 * s, 3 * s}, phaseUnchanged: {100 * ms, 90 * ms, 110 * ms},
				phaseRenamed: {120 * ms, 100 * ms, 140 * ms}, phaseRestore: {2 * s, 2 * s, 2 * s},
			}, 40_000_000, 350_000_000),
			mk("restic", map[phase][]time.Duration{
				phaseInitial: {4 * s, 4 * s, 4 * s}, phaseUnchanged: {1 * s, 1 * s, 1 * s},
				phaseRenamed: {1 * s, 1 * s, 1 * s}, phaseRestore: {1 * s, 1 * s, 1 * s},
			}, 45_000_000, 100_000_000),
			mk("kopia", map[phase][]time.Duration{
				phaseInitial: {3 * s, 3 * s, 3 * s}, phaseUnchanged: {500 * ms, 500 * ms, 500 * ms},
				phaseRenamed: {600 * ms, 600 * ms, 600 * ms}, phaseRestore: {4 * s, 4 * s, 4 * s},
			}, 70_000_000, 150_000_000),
		},
		Floors: []*floorResult{{Name: "read floor", Command: "cat", Times: []time.Duration{s, 2 * s, 3 * s}}},
	}
}

func TestTargets(t *testing.T) {
	rep := testReport()
	name, d, ok := rep.fastestPeer(phaseInitial)
	if !ok || name != "kopia" || d != 3*time.Second {
		t.Fatalf("fastest initial = %s %v %v", name, d, ok)
	}
	if r, _ := rep.ratio(phaseUnchanged); r < 0.199 || r > 0.201 {
		t.Errorf("unchanged ratio = %v, want 0.2", r)
	}
	got := map[string]string{}
	for _, row := range rep.targets() {
		got[row.Name] = row.Met
	}
	want := map[string]string{
		// 2 s vs 3 s is 0.67× ≤ 0.8×, and 40 MB is below restic's 45 MB.
		"initial backup":                  metYes,
		"unchanged re-scan":               metYes,
		"rename storm (10% flag changes)": metYes,
		"restore one account":             metNo,
		"peak memory":                     metNo,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("target %q: met = %q, want %q", k, got[k], v)
		}
	}

	// Content read during the rename storm fails that target whatever the time.
	rep.Tools[0].Runs[2].Samples[phaseRenamed] = sample{Wall: 100 * time.Millisecond, Scan: &scanFigures{BytesRead: 5_000_000}}
	for _, row := range rep.targets() {
		if row.Name == "rename storm (10% flag changes)" && (row.Met != metNo || !strings.Contains(row.Short, "5.00 MB")) {
			t.Errorf("rename storm with content read: %+v", row)
		}
	}

	// Without peers there is no ratio.
	rep.Tools = rep.Tools[:1]
	for _, row := range rep.targets() {
		if row.Name != "peak memory" && row.Met != metNA {
			t.Errorf("target %q without peers: met = %q", row.Name, row.Met)
		}
	}
}

func TestRender(t *testing.T) {
	rep := testReport()
	out := rep.render()
	for _, want := range []string{
		sectionBegin("2000-cold"), sectionEnd("2000-cold"),
		"## 2,000 messages, cold page cache",
		"| initial backup | 2.00 s | 4.00 s | 3.00 s | kopia 3.00 s | 0.67× | ≤ 0.8× |",
		"| unchanged re-scan | 0.100 s | 1.00 s | 0.500 s | kopia 0.500 s | 0.20× | ≤ 0.5× |",
		"| restore one account | ≤ 1.0× the fastest peer | 2.00× of restic (2.00 s vs 1.00 s) | **no** |",
		"| peak memory | ≤ 300 MB | 350.0 MB (largest of any phase and run) | **no** |",
		"| size | 40.0 MB | 45.0 MB | 70.0 MB |",
		"| read floor | `cat` | 2.00 s |",
		"| mailkeep | initial backup | 2.00 s | 1.00 s | 3.00 s |",
		"restore one account: mailkeep takes 2.00 s, restic 1.00 s: 2.00×",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	// A phase on a busy machine is marked.
	s := rep.Tools[0].Runs[0].Samples[phaseInitial]
	s.Other = 2 * time.Second // 2 of the 2 CPUs × 2 s = 50%
	rep.Tools[0].Runs[0].Samples[phaseInitial] = s
	out = rep.render()
	for _, want := range []string{"| mailkeep | initial backup | 2.00 s † | 1.00 s | 3.00 s |", "largest 50%; phases with 25% or more are marked †"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A failed run shows up.
	rep.Tools[1].Runs[1].Err = "initial backup: restic: exit status 1\nmore"
	if out := rep.render(); !strings.Contains(out, "- restic, run 2: initial backup: restic: exit status 1\n") {
		t.Errorf("failure not listed:\n%s", out)
	}
	if s := rep.summary(); !strings.Contains(s, "mk/fastest") || !strings.Contains(s, "0.20×") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestMergeSection(t *testing.T) {
	a1 := sectionBegin("20000-cold") + "\nA1\n" + sectionEnd("20000-cold")
	a2 := sectionBegin("20000-cold") + "\nA2\n" + sectionEnd("20000-cold")
	b := sectionBegin("100000-cold") + "\nB\n" + sectionEnd("100000-cold")

	doc := mergeSection("", "20000-cold", a1)
	if !strings.HasPrefix(doc, "# Benchmarks") || !strings.Contains(doc, a1) || !strings.Contains(doc, insertMarker) {
		t.Fatalf("new doc:\n%s", doc)
	}
	doc = strings.Replace(doc, insertMarker, insertMarker+"\n\n## Analysis\n\nhand-written\n", 1)
	doc = mergeSection(doc, "100000-cold", b)
	doc = mergeSection(doc, "20000-cold", a2)
	if strings.Contains(doc, "A1") || !strings.Contains(doc, "A2") || !strings.Contains(doc, "hand-written") {
		t.Fatalf("merged doc:\n%s", doc)
	}
	if i, j, k := strings.Index(doc, "A2"), strings.Index(doc, "\nB\n"), strings.Index(doc, "hand-written"); !(i < j && j < k) {
		t.Errorf("sections out of order:\n%s", doc)
	}
	if n := strings.Count(doc, sectionBegin("20000-cold")); n != 1 {
		t.Errorf("%d copies of the 20000 section", n)
	}
	// Without an insert marker new sections are appended.
	if got := mergeSection("# X\nkept\n", "k", "S"); got != "# X\nkept\n\nS\n" {
		t.Errorf("append: %q", got)
	}
}

// TestTreeRestore checks that the rename storm and an added account are
// undone exactly, so that every tool sees the same corpus.
func TestTreeRestore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 3, Accounts: 2, Messages: 200, MaxSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	before, _, _, err := fingerprint(root)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshotTree(root)
	if err != nil {
		t.Fatal(err)
	}
	n, err := corpus.RenameFlags(root, renameFraction, 1)
	if err != nil || n != 20 {
		t.Fatalf("RenameFlags = %d, %v", n, err)
	}
	if err := os.MkdirAll(filepath.Join(root, "example.com", "mailbench-restored", "Maildir", "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	mid, _, _, _ := fingerprint(root)
	if mid == before {
		t.Fatal("renames did not change the fingerprint")
	}
	moved, err := snap.restore()
	if err != nil || moved != n {
		t.Fatalf("restore moved %d (want %d): %v", moved, n, err)
	}
	after, _, _, err := fingerprint(root)
	if err != nil || after != before {
		t.Fatalf("corpus not restored: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "example.com", "mailbench-restored")); !os.IsNotExist(err) {
		t.Errorf("added account not removed: %v", err)
	}
	for rel, mt := range snap.dirs {
		info, err := os.Stat(filepath.Join(root, rel))
		if err != nil || !info.ModTime().Equal(mt) {
			t.Errorf("directory %s: mtime %v, want %v (%v)", rel, info.ModTime(), mt, err)
		}
	}
}

func TestCorpusAccounts(t *testing.T) {
	for n, want := range map[int]int{2000: 2, 20000: 4, 100000: 20} {
		if got := corpusAccounts(n); got != want {
			t.Errorf("corpusAccounts(%d) = %d, want %d", n, got, want)
		}
	}
}
