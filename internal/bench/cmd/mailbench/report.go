package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// phase is one timed step of a tool's run.
type phase string

const (
	phaseInitial   phase = "initial"
	phaseUnchanged phase = "unchanged"
	phaseRenamed   phase = "renamed"
	phaseRestore   phase = "restore"
)

var allPhases = []phase{phaseInitial, phaseUnchanged, phaseRenamed, phaseRestore}

func (p phase) title() string {
	switch p {
	case phaseInitial:
		return "initial backup"
	case phaseUnchanged:
		return "unchanged re-scan"
	case phaseRenamed:
		return "re-scan after renaming 10%"
	case phaseRestore:
		return "restore one account"
	}
	return string(p)
}

// sample is one measured phase.
type sample struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	MaxRSS int64         `json:"max_rss_bytes"`
	// Other is the CPU time other processes used on the machine during
	// the phase (busy time from /proc/stat minus the tool's own), a
	// measure of how noisy the machine was.
	Other time.Duration `json:"other_cpu_ns"`
	// Scan is mailkeep's own report of a SmartScan.
	Scan *scanFigures `json:"scan,omitempty"`
	// RestoredMessages and RestoredBytes are counted after a restore.
	RestoredMessages int   `json:"restored_messages,omitempty"`
	RestoredBytes    int64 `json:"restored_bytes,omitempty"`
}

// scanFigures are the counters of a mailkeep SmartScan's result.
type scanFigures struct {
	Items       int64 `json:"items"`
	New         int64 `json:"new"`
	Changed     int64 `json:"changed"`
	Moved       int64 `json:"moved"`
	Unchanged   int64 `json:"unchanged"`
	BytesRead   int64 `json:"bytes_read"`
	BytesStored int64 `json:"bytes_stored"`
	NewBlobs    int64 `json:"new_blobs"`
}

// runResult is one tool's run: every phase it completed.
type runResult struct {
	Run       int              `json:"run"`
	Samples   map[phase]sample `json:"samples"`
	RepoBytes int64            `json:"repo_bytes"`
	Err       string           `json:"error,omitempty"`
}

// toolResult is everything measured for one tool.
type toolResult struct {
	toolInfo
	Runs []*runResult `json:"runs"`
}

func (t *toolResult) samples(p phase) []sample {
	var out []sample
	for _, r := range t.Runs {
		if s, ok := r.Samples[p]; ok {
			out = append(out, s)
		}
	}
	return out
}

// median returns the median wall time of a phase.
func (t *toolResult) median(p phase) (time.Duration, bool) {
	var ds []time.Duration
	for _, s := range t.samples(p) {
		ds = append(ds, s.Wall)
	}
	return medianDuration(ds)
}

func (t *toolResult) medianCPU(p phase) (time.Duration, bool) {
	var ds []time.Duration
	for _, s := range t.samples(p) {
		ds = append(ds, s.CPU)
	}
	return medianDuration(ds)
}

func (t *toolResult) medianRSS(p phase) (int64, bool) {
	var vs []int64
	for _, s := range t.samples(p) {
		vs = append(vs, s.MaxRSS)
	}
	return medianInt64(vs)
}

// peakRSS is the largest RSS of any phase of any run.
func (t *toolResult) peakRSS() int64 {
	var vs []int64
	for _, p := range allPhases {
		for _, s := range t.samples(p) {
			vs = append(vs, s.MaxRSS)
		}
	}
	return maxInt64(vs)
}

func (t *toolResult) medianRepo() (int64, bool) {
	var vs []int64
	for _, r := range t.Runs {
		if r.RepoBytes > 0 {
			vs = append(vs, r.RepoBytes)
		}
	}
	return medianInt64(vs)
}

// floorResult is one floor measured in every run.
type floorResult struct {
	Name    string          `json:"name"`
	Command string          `json:"command"`
	Times   []time.Duration `json:"times_ns"`
}

// corpusSummary describes the corpus in the report.
type corpusSummary struct {
	Seed       int64 `json:"seed"`
	Messages   int   `json:"messages"`
	Accounts   int   `json:"accounts"`
	Folders    int   `json:"folders"`
	Bytes      int64 `json:"bytes"`
	MedianSize int64 `json:"median_size"`
	MaxFile    int64 `json:"max_file"`
	Root       string
}

// report is a whole benchmark run.
type report struct {
	Date    time.Time     `json:"date"`
	Command string        `json:"command"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Machine machine       `json:"machine"`
	Cold    bool          `json:"cold"`
	Cache   string        `json:"cache"`
	Runs    int           `json:"runs"`
	Corpus  corpusSummary `json:"corpus"`

	RestoreAccount  string `json:"restore_account"`
	RestoreMessages int    `json:"restore_messages"`
	RestoreBytes    int64  `json:"restore_bytes"`
	Renamed         int    `json:"renamed"`

	// Tools lists mailkeep first, then the peers.
	Tools  []*toolResult  `json:"tools"`
	Floors []*floorResult `json:"floors"`
	// Notes are extra remarks for the report (e.g. tools left out).
	Notes []string `json:"notes,omitempty"`
}

func (r *report) tool(name string) *toolResult {
	for _, t := range r.Tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (r *report) peers() []*toolResult {
	var out []*toolResult
	for _, t := range r.Tools {
		if t.Name != "mailkeep" {
			out = append(out, t)
		}
	}
	return out
}

// fastestPeer returns the peer with the lowest median time for a phase.
func (r *report) fastestPeer(p phase) (string, time.Duration, bool) {
	name, best, found := "", time.Duration(0), false
	for _, t := range r.peers() {
		if d, ok := t.median(p); ok && (!found || d < best) {
			name, best, found = t.Name, d, true
		}
	}
	return name, best, found
}

// ratio returns mailkeep's median over the fastest peer's for a phase.
func (r *report) ratio(p phase) (float64, bool) {
	mk := r.tool("mailkeep")
	if mk == nil {
		return 0, false
	}
	m, ok := mk.median(p)
	_, f, fok := r.fastestPeer(p)
	if !ok || !fok || f <= 0 {
		return 0, false
	}
	return m.Seconds() / f.Seconds(), true
}

// key names the report's section in BENCHMARKS.md.
func (r *report) key() string {
	cache := "warm"
	if r.Cold {
		cache = "cold"
	}
	return fmt.Sprintf("%d-%s", r.Corpus.Messages, cache)
}

// targetRow is one of issue 3's targets.
type targetRow struct {
	Name, Want, Got, Met string
	// Short is a one-line account of a target that is not met.
	Short string
}

const (
	metYes = "yes"
	metNo  = "**no**"
	metNA  = "n/a"
)

// memoryTarget is issue 3's peak-memory bar, in bytes (300 MB).
const memoryTarget = 300_000_000

func verdict(ok bool) string {
	if ok {
		return metYes
	}
	return metNo
}

// targets evaluates issue 3's targets against the fastest peer.
func (r *report) targets() []targetRow {
	var rows []targetRow
	mk := r.tool("mailkeep")
	timeRow := func(p phase, limit float64, name string) targetRow {
		row := targetRow{Name: name, Want: fmt.Sprintf("≤ %.1f× the fastest peer", limit), Met: metNA, Got: "n/a"}
		if ratio, ok := r.ratio(p); ok {
			fname, fd, _ := r.fastestPeer(p)
			m, _ := mk.median(p)
			row.Got = fmt.Sprintf("%s of %s (%s vs %s)", fmtRatio(ratio, 1), fname, fmtDuration(m), fmtDuration(fd))
			row.Met = verdict(ratio <= limit)
			if ratio > limit {
				row.Short = fmt.Sprintf("%s: mailkeep takes %s, %s %s: %s (target ≤ %.1f×).", p.title(), fmtDuration(m), fname, fmtDuration(fd), fmtRatio(ratio, 1), limit)
			}
		}
		return row
	}

	// Initial backup: time and repository size against restic's.
	row := timeRow(phaseInitial, 0.8, "initial backup")
	row.Want += ", repository ≤ restic's"
	if mk != nil {
		rs := r.tool("restic")
		mSize, mok := mk.medianRepo()
		var rSize int64
		rok := false
		if rs != nil {
			rSize, rok = rs.medianRepo()
		}
		if mok && rok && row.Met != metNA {
			row.Got += fmt.Sprintf("; repository %s vs restic %s (%s)", fmtMB(mSize), fmtMB(rSize), fmtRatio(float64(mSize), float64(rSize)))
			if mSize > rSize {
				row.Met = metNo
				row.Short = strings.TrimSpace(row.Short + fmt.Sprintf(" Repository %s, restic's %s.", fmtMB(mSize), fmtMB(rSize)))
			}
		}
	}
	rows = append(rows, row)
	rows = append(rows, timeRow(phaseUnchanged, 0.5, "unchanged re-scan"))

	// Rename storm: time, and no message content read.
	row = timeRow(phaseRenamed, 0.5, "rename storm (10% flag changes)")
	row.Want += ", no message content re-read"
	if mk != nil && row.Met != metNA {
		var read int64
		for _, s := range mk.samples(phaseRenamed) {
			if s.Scan != nil {
				read = max(read, s.Scan.BytesRead)
			}
		}
		row.Got += fmt.Sprintf("; content read: %s", fmtMB(read))
		if read > 0 {
			row.Met = metNo
			row.Short = strings.TrimSpace(row.Short + fmt.Sprintf(" The scan read %s of message content.", fmtMB(read)))
		}
	}
	rows = append(rows, row)
	rows = append(rows, timeRow(phaseRestore, 1.0, "restore one account"))

	mem := targetRow{Name: "peak memory", Want: "≤ 300 MB", Got: "n/a", Met: metNA}
	if mk != nil && mk.peakRSS() > 0 {
		peak := mk.peakRSS()
		mem.Got = fmt.Sprintf("%s (largest of any phase and run)", fmtMB(peak))
		mem.Met = verdict(peak <= memoryTarget)
		if peak > memoryTarget {
			mem.Short = fmt.Sprintf("peak memory: the agent reached %s (target ≤ 300 MB).", fmtMB(peak))
		}
	}
	rows = append(rows, mem)
	return rows
}

// sectionBegin and sectionEnd delimit a generated section in
// BENCHMARKS.md; everything outside them is kept as written.
func sectionBegin(key string) string { return "<!-- mailbench:begin " + key + " -->" }
func sectionEnd(key string) string   { return "<!-- mailbench:end " + key + " -->" }

// insertMarker is where new sections go in BENCHMARKS.md.
const insertMarker = "<!-- mailbench:insert -->"

// mergeSection puts section (with its markers) into doc: in place of the
// section with the same key, else before the insert marker, else at the
// end. An empty doc gets a minimal header.
func mergeSection(doc, key, section string) string {
	begin, end := sectionBegin(key), sectionEnd(key)
	if i := strings.Index(doc, begin); i >= 0 {
		if j := strings.Index(doc[i:], end); j >= 0 {
			return doc[:i] + section + doc[i+j+len(end):]
		}
	}
	if strings.TrimSpace(doc) == "" {
		doc = "# Benchmarks\n\nGenerated by `make bench` (internal/bench/cmd/mailbench).\n\n" + insertMarker + "\n"
	}
	if i := strings.Index(doc, insertMarker); i >= 0 {
		return doc[:i] + section + "\n\n" + doc[i:]
	}
	if !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	return doc + "\n" + section + "\n"
}

// render writes the report's section of BENCHMARKS.md, markers included.
func (r *report) render() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cache := "warm"
	if r.Cold {
		cache = "cold"
	}
	w("%s\n", sectionBegin(r.key()))
	w("## %s messages, %s page cache\n\n", thousands(int64(r.Corpus.Messages)), cache)
	w("Measured %s with `%s` (the whole run took %s; %d run", r.Date.UTC().Format("2006-01-02 15:04 MST"), r.Command, r.Elapsed.Round(time.Second), r.Runs)
	if r.Runs != 1 {
		w("s")
	}
	w(", every figure is the median).\n\n")
	w("- **Machine**: %s.\n", r.Machine)
	w("- **Page cache**: %s.\n", r.Cache)
	if med, top, ok := r.background(); ok {
		w("- **Other work on the machine** during the timed phases (busy CPU from `/proc/stat` minus the tool's own): median %.0f%% of the machine's CPU capacity, largest %.0f%%", 100*med, 100*top)
		if top >= noisyShare {
			w("; phases with %.0f%% or more are marked † under \"Every run\"", 100*noisyShare)
		}
		w(".\n")
	}
	c := r.Corpus
	w("- **Corpus** (`internal/corpus`, seed %d): %s messages in %d accounts and %d folders, %s of message files, median message %s, largest %s; 5%% are mailing-list copies shared by several accounts.\n",
		c.Seed, thousands(int64(c.Messages)), c.Accounts, c.Folders, fmtMB(c.Bytes), fmtKB(c.MedianSize), fmtMB(c.MaxFile))
	w("- **Phases**, per tool and run, each into a new repository: the *initial backup* of the whole corpus; an *unchanged re-scan* (a second backup, nothing changed); a *re-scan after renaming 10%%* of the messages as flag changes (%s renames by `corpus.RenameFlags` with the same seed for every tool and run, undone afterwards); a *restore* of %s (%s messages, %s) from the last backup into an empty directory (mailkeep: `restore account -to mailbench-restored@…`, a new, empty account).\n",
		thousands(int64(r.Renamed)), r.RestoreAccount, thousands(int64(r.RestoreMessages)), fmtMB(r.RestoreBytes))
	w("- **Tools**:\n")
	for _, t := range r.Tools {
		w("  - **%s** (%s): %s.\n", t.Name, t.Version, t.Settings)
	}
	for _, n := range r.Notes {
		w("- %s\n", n)
	}

	// Times.
	w("\n### Times\n\nMedian wall time; the ratio is mailkeep's time over the fastest peer's (lower is better).\n\n")
	w("| phase |")
	for _, t := range r.Tools {
		w(" %s |", t.Name)
	}
	w(" fastest peer | mailkeep / fastest | target |\n|---|")
	for range r.Tools {
		w("---:|")
	}
	w("---|---:|---:|\n")
	limits := map[phase]string{phaseInitial: "≤ 0.8×", phaseUnchanged: "≤ 0.5×", phaseRenamed: "≤ 0.5×", phaseRestore: "≤ 1.0×"}
	for _, p := range allPhases {
		w("| %s |", p.title())
		for _, t := range r.Tools {
			if d, ok := t.median(p); ok {
				w(" %s |", fmtDuration(d))
			} else {
				w(" – |")
			}
		}
		if name, d, ok := r.fastestPeer(p); ok {
			w(" %s %s |", name, fmtDuration(d))
		} else {
			w(" – |")
		}
		if ratio, ok := r.ratio(p); ok {
			w(" %s |", fmtRatio(ratio, 1))
		} else {
			w(" n/a |")
		}
		w(" %s |\n", limits[p])
	}

	// Targets.
	targets := r.targets()
	w("\n### Targets (issue 3)\n\n| target | wanted | measured | met |\n|---|---|---|---|\n")
	for _, t := range targets {
		w("| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, t.Met)
	}
	var unmet []string
	for _, t := range targets {
		if t.Short != "" {
			unmet = append(unmet, t.Short)
		}
	}
	if len(unmet) > 0 {
		w("\nNot met in this run (see \"Where the targets are not met, and why\" below for the causes):\n\n")
		for _, u := range unmet {
			w("- %s\n", u)
		}
	}

	// Repository size.
	w("\n### Repository size after the initial backup\n\n`du` of the repository directory (the tools' local caches not included); the corpus is %s.\n\n", fmtMB(c.Bytes))
	w("| |")
	for _, t := range r.Tools {
		w(" %s |", t.Name)
	}
	w("\n|---|")
	for range r.Tools {
		w("---:|")
	}
	w("\n| size |")
	for _, t := range r.Tools {
		if s, ok := t.medianRepo(); ok {
			w(" %s |", fmtMB(s))
		} else {
			w(" – |")
		}
	}
	w("\n| size / corpus |")
	for _, t := range r.Tools {
		if s, ok := t.medianRepo(); ok && c.Bytes > 0 {
			w(" %s |", fmtRatio(float64(s), float64(c.Bytes)))
		} else {
			w(" – |")
		}
	}
	w("\n")

	// Memory and CPU.
	w("\n### Peak memory (max RSS of the tool's process; median over runs)\n\n")
	r.phaseTable(&b, func(t *toolResult, p phase) string {
		if v, ok := t.medianRSS(p); ok {
			return fmtMB(v)
		}
		return "–"
	})
	w("\n### CPU time (user + system of the tool's process; median over runs)\n\n")
	r.phaseTable(&b, func(t *toolResult, p phase) string {
		if d, ok := t.medianCPU(p); ok {
			return fmtDuration(d)
		}
		return "–"
	})

	// Floors.
	w("\n### Floors\n\nWhat any backup of this corpus must at least do, measured with the same cache state as the tools.\n\n| floor | command | median |\n|---|---|---:|\n")
	for _, f := range r.Floors {
		if d, ok := medianDuration(f.Times); ok {
			w("| %s | `%s` | %s |\n", f.Name, f.Command, fmtDuration(d))
		}
	}

	// mailkeep's own reports.
	if mk := r.tool("mailkeep"); mk != nil {
		w("\n### mailkeep's SmartScan reports (last run)\n\n| phase | items | new | changed | moved | unchanged | content read | stored | new blobs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, p := range []phase{phaseInitial, phaseUnchanged, phaseRenamed} {
			ss := mk.samples(p)
			if len(ss) == 0 || ss[len(ss)-1].Scan == nil {
				continue
			}
			s := ss[len(ss)-1].Scan
			w("| %s | %d | %d | %d | %d | %d | %s | %s | %d |\n", p.title(), s.Items, s.New, s.Changed, s.Moved, s.Unchanged, fmtMB(s.BytesRead), fmtMB(s.BytesStored), s.NewBlobs)
		}
	}

	// Every run.
	w("\n### Every run\n\nWall times; † marks a phase during which other processes used %.0f%% or more of the machine's CPU.\n\n| tool | phase |", 100*noisyShare)
	for i := 1; i <= r.Runs; i++ {
		w(" run %d |", i)
	}
	w("\n|---|---|")
	for i := 1; i <= r.Runs; i++ {
		w("---:|")
	}
	w("\n")
	for _, t := range r.Tools {
		for _, p := range allPhases {
			w("| %s | %s |", t.Name, p.title())
			for i := 1; i <= r.Runs; i++ {
				w(" %s |", t.cell(i, p, r.Machine.CPUs))
			}
			w("\n")
		}
	}
	for _, f := range r.Floors {
		w("| floor | %s |", f.Name)
		for i := 0; i < r.Runs; i++ {
			if i < len(f.Times) {
				w(" %s |", fmtDuration(f.Times[i]))
			} else {
				w(" – |")
			}
		}
		w("\n")
	}
	var failures []string
	for _, t := range r.Tools {
		for _, run := range t.Runs {
			if run.Err != "" {
				failures = append(failures, fmt.Sprintf("%s, run %d: %s", t.Name, run.Run, firstLine(run.Err)))
			}
		}
	}
	if len(failures) > 0 {
		w("\nFailures (the figures above leave these runs out):\n\n")
		for _, f := range failures {
			w("- %s\n", f)
		}
	}
	w("\n%s", sectionEnd(r.key()))
	return b.String()
}

// busyShare is the share of the machine's CPU capacity that other
// processes used during a sample.
func busyShare(s sample, cpus int) float64 {
	if s.Wall <= 0 || cpus <= 0 {
		return 0
	}
	return s.Other.Seconds() / (s.Wall.Seconds() * float64(cpus))
}

// noisyShare is the background share from which the "every run" table
// marks a figure.
const noisyShare = 0.25

// background summarises busyShare over every sample: median and largest.
func (r *report) background() (median, largest float64, ok bool) {
	var vs []int64
	for _, t := range r.Tools {
		for _, p := range allPhases {
			for _, s := range t.samples(p) {
				vs = append(vs, int64(busyShare(s, r.Machine.CPUs)*1e6))
			}
		}
	}
	m, ok := medianInt64(vs)
	return float64(m) / 1e6, float64(maxInt64(vs)) / 1e6, ok
}

// cell is one run's time for a phase in the "every run" table, marked
// when other processes kept the machine busy.
func (t *toolResult) cell(run int, p phase, cpus int) string {
	for _, rr := range t.Runs {
		if rr.Run != run {
			continue
		}
		if s, ok := rr.Samples[p]; ok {
			if busyShare(s, cpus) >= noisyShare {
				return fmtDuration(s.Wall) + " †"
			}
			return fmtDuration(s.Wall)
		}
		if rr.Err != "" {
			return "failed"
		}
	}
	return "–"
}

// phaseTable writes a phase × tool table of cell values.
func (r *report) phaseTable(b *strings.Builder, cell func(*toolResult, phase) string) {
	fmt.Fprintf(b, "| phase |")
	for _, t := range r.Tools {
		fmt.Fprintf(b, " %s |", t.Name)
	}
	fmt.Fprintf(b, "\n|---|")
	for range r.Tools {
		fmt.Fprintf(b, "---:|")
	}
	fmt.Fprintf(b, "\n")
	for _, p := range allPhases {
		fmt.Fprintf(b, "| %s |", p.title())
		for _, t := range r.Tools {
			fmt.Fprintf(b, " %s |", cell(t, p))
		}
		fmt.Fprintf(b, "\n")
	}
}

// summary is the short table printed on the terminal.
func (r *report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s", "")
	for _, t := range r.Tools {
		fmt.Fprintf(&b, "%12s", t.Name)
	}
	fmt.Fprintf(&b, "%12s\n", "mk/fastest")
	for _, p := range allPhases {
		fmt.Fprintf(&b, "%-28s", p.title())
		for _, t := range r.Tools {
			if d, ok := t.median(p); ok {
				fmt.Fprintf(&b, "%12s", fmtDuration(d))
			} else {
				fmt.Fprintf(&b, "%12s", "–")
			}
		}
		ratio := "n/a"
		if x, ok := r.ratio(p); ok {
			ratio = fmtRatio(x, 1)
		}
		fmt.Fprintf(&b, "%12s\n", ratio)
	}
	fmt.Fprintf(&b, "%-28s", "repository size")
	for _, t := range r.Tools {
		if s, ok := t.medianRepo(); ok {
			fmt.Fprintf(&b, "%12s", fmtMB(s))
		} else {
			fmt.Fprintf(&b, "%12s", "–")
		}
	}
	fmt.Fprintf(&b, "\n%-28s", "peak memory (any phase)")
	for _, t := range r.Tools {
		fmt.Fprintf(&b, "%12s", fmtMB(t.peakRSS()))
	}
	fmt.Fprintf(&b, "\n")
	for _, f := range r.Floors {
		if d, ok := medianDuration(f.Times); ok {
			fmt.Fprintf(&b, "%-28s%12s\n", f.Name, fmtDuration(d))
		}
	}
	fmt.Fprintf(&b, "\ntargets:\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "  %-32s %-8s %s\n", t.Name, strings.Trim(t.Met, "*"), t.Got)
	}
	return b.String()
}

// thousands formats n with comma separators: 100,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var parts []string
	for len(s) > 3 {
		parts = append(parts, s[len(s)-3:])
		s = s[:len(s)-3]
	}
	parts = append(parts, s)
	slices.Reverse(parts)
	out := strings.Join(parts, ",")
	if neg {
		out = "-" + out
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
