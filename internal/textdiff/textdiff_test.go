package textdiff

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cases are known diffs, checked against `diff -u` (which differs only by
// omitting ",1" from hunk ranges).
var cases = []struct {
	name    string
	a, b    string
	context int
	want    string
}{
	{name: "equal", a: "x\ny\n", b: "x\ny\n", context: 3, want: ""},
	{name: "both empty", a: "", b: "", context: 3, want: ""},
	{
		name: "from empty", a: "", b: "a\nb\nc\n", context: 3,
		want: "@@ -0,0 +1,3 @@\n+a\n+b\n+c\n",
	},
	{
		name: "to empty", a: "a\nb\nc\n", b: "", context: 3,
		want: "@@ -1,3 +0,0 @@\n-a\n-b\n-c\n",
	},
	{
		name: "add final newline", a: "a\nb", b: "a\nb\n", context: 3,
		want: "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
	},
	{
		name: "drop final newline", a: "a\nb\n", b: "a\nb", context: 3,
		want: "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
	},
	{
		name: "unchanged last line without newline", a: "x\nlast", b: "y\nlast", context: 3,
		want: "@@ -1,2 +1,2 @@\n-x\n+y\n last\n\\ No newline at end of file\n",
	},
	{
		name: "empty to no newline", a: "", b: "z", context: 3,
		want: "@@ -0,0 +1,1 @@\n+z\n\\ No newline at end of file\n",
	},
	{
		name: "start middle end", a: seq(1, 20), b: replace(seq(1, 20), "1", "X", "10", "T", "20", "Y"), context: 3,
		want: "@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n" +
			"@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+T\n 11\n 12\n 13\n" +
			"@@ -17,4 +17,4 @@\n 17\n 18\n 19\n-20\n+Y\n",
	},
	{
		name: "close changes share a hunk", a: seq(1, 20), b: replace(seq(1, 20), "5", "X", "11", "Y"), context: 3,
		want: "@@ -2,13 +2,13 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n 9\n 10\n-11\n+Y\n 12\n 13\n 14\n",
	},
	{
		name: "seven equal lines split hunks", a: seq(1, 20), b: replace(seq(1, 20), "5", "X", "13", "Y"), context: 3,
		want: "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n" +
			"@@ -10,7 +10,7 @@\n 10\n 11\n 12\n-13\n+Y\n 14\n 15\n 16\n",
	},
	{
		name: "insert at start", a: "b\nc\n", b: "a\nb\nc\n", context: 3,
		want: "@@ -1,2 +1,3 @@\n+a\n b\n c\n",
	},
	{
		name: "append at end", a: "a\nb\n", b: "a\nb\nc\n", context: 3,
		want: "@@ -1,2 +1,3 @@\n a\n b\n+c\n",
	},
	{
		name: "pure insertion without context", a: "a\nc\n", b: "a\nb\nc\n", context: 0,
		want: "@@ -1,0 +2,1 @@\n+b\n",
	},
	{
		name: "pure deletion without context", a: "a\nb\nc\n", b: "a\nc\n", context: 0,
		want: "@@ -2,1 +1,0 @@\n-b\n",
	},
	{
		name: "deletions before insertions", a: "k\nold1\nold2\nk2\n", b: "k\nnew1\nnew2\nk2\n", context: 1,
		want: "@@ -1,4 +1,4 @@\n k\n-old1\n-old2\n+new1\n+new2\n k2\n",
	},
}

func TestUnifiedKnownOutputs(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Unified("a/f", "b/f", []byte(tc.a), []byte(tc.b), tc.context)
			want := ""
			if tc.want != "" {
				want = "--- a/f\n+++ b/f\n" + tc.want
			}
			if got != want {
				t.Errorf("Unified:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestUnifiedNegativeContextIsZero(t *testing.T) {
	a, b := []byte("a\nb\nc\n"), []byte("a\nB\nc\n")
	if got, want := Unified("x", "y", a, b, -2), Unified("x", "y", a, b, 0); got != want {
		t.Errorf("context -2 gave %q, context 0 gave %q", got, want)
	}
}

// TestUnifiedRoundTrip applies random diffs with a small patcher and checks
// that they turn a into b. The seed is fixed, so the cases never change.
func TestUnifiedRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		a := randomText(rng)
		b := mutate(rng, a)
		for _, ctx := range []int{0, 1, 3} {
			d := Unified("a/f", "b/f", []byte(a), []byte(b), ctx)
			got, err := apply(a, d)
			if err != nil {
				t.Fatalf("case %d, context %d: %v\na=%q\nb=%q\ndiff:\n%s", i, ctx, err, a, b, d)
			}
			if got != b {
				t.Fatalf("case %d, context %d: patched text is %q, want %q\ndiff:\n%s", i, ctx, got, b, d)
			}
		}
	}
}

// TestUnifiedGitApply checks that git accepts the diffs of the known cases.
// It needs git, which every checkout of this repository has.
func TestUnifiedGitApply(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed to check the diffs: %v", err)
	}
	for _, tc := range cases {
		if tc.a == tc.b {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "f")
			if err := os.WriteFile(f, []byte(tc.a), 0o644); err != nil {
				t.Fatal(err)
			}
			d := Unified("a/f", "b/f", []byte(tc.a), []byte(tc.b), tc.context)
			cmd := exec.Command(git, "apply", "--unidiff-zero", "-")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
			cmd.Stdin = strings.NewReader(d)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git apply: %v\n%s\ndiff:\n%s", err, out, d)
			}
			got, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.b {
				t.Errorf("git apply gave %q, want %q", got, tc.b)
			}
		})
	}
}

// seq returns the lines from..to, one number a line.
func seq(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

// replace replaces whole lines: old, new pairs.
func replace(text string, pairs ...string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		for p := 0; p < len(pairs); p += 2 {
			if l == pairs[p]+"\n" {
				lines[i] = pairs[p+1] + "\n"
			}
		}
	}
	return strings.Join(lines, "")
}

// randomText returns up to 30 lines drawn from a small alphabet, so that
// lines repeat, sometimes without a final newline.
func randomText(rng *rand.Rand) string {
	var b strings.Builder
	n := rng.Intn(30)
	for i := 0; i < n; i++ {
		b.WriteString(string(rune('a' + rng.Intn(5))))
		b.WriteByte('\n')
	}
	s := b.String()
	if s != "" && rng.Intn(4) == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// mutate deletes, inserts and replaces random lines of text and sometimes
// toggles its final newline.
func mutate(rng *rand.Rand, text string) string {
	var out strings.Builder
	for _, l := range splitLines(text) {
		l = strings.TrimSuffix(l, "\n") + "\n"
		switch rng.Intn(8) {
		case 0: // delete
		case 1:
			out.WriteString("new" + strconv.Itoa(rng.Intn(3)) + "\n" + l)
		case 2:
			out.WriteString("changed\n")
		default:
			out.WriteString(l)
		}
	}
	if rng.Intn(4) == 0 {
		out.WriteString("tail\n")
	}
	s := out.String()
	if s != "" && rng.Intn(3) == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// apply applies a unified diff made by Unified to text, checking that
// every context and deleted line matches and that the hunk counts agree
// with the hunk bodies.
func apply(text, diff string) (string, error) {
	if diff == "" {
		return text, nil
	}
	src := splitLines(text)
	lines := splitLines(diff)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return "", fmt.Errorf("missing headers")
	}
	var out []string
	pos := 0 // next line of src to copy
	for i := 2; i < len(lines); {
		var aStart, aLen, bStart, bLen int
		if _, err := fmt.Sscanf(lines[i], "@@ -%d,%d +%d,%d @@\n", &aStart, &aLen, &bStart, &bLen); err != nil {
			return "", fmt.Errorf("line %d: bad hunk header %q: %v", i+1, lines[i], err)
		}
		first := aStart - 1
		if aLen == 0 {
			first = aStart
		}
		if first < pos {
			return "", fmt.Errorf("line %d: hunk overlaps the previous one", i+1)
		}
		out = append(out, src[pos:first]...)
		if len(out) != bStartIndex(bStart, bLen) {
			return "", fmt.Errorf("line %d: hunk starts at line %d of b, want %d", i+1, bStart, len(out)+1)
		}
		pos = first
		i++
		gotA, gotB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			body := l[1:]
			if i+1 < len(lines) && lines[i+1] == noNewline {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos] != body {
					return "", fmt.Errorf("line %d: %q does not match the text", i+1, l)
				}
				pos++
				gotA++
				if l[0] == ' ' {
					out = append(out, body)
					gotB++
				}
			case '+':
				out = append(out, body)
				gotB++
			default:
				return "", fmt.Errorf("line %d: unexpected %q", i+1, l)
			}
			i++
		}
		if gotA != aLen || gotB != bLen {
			return "", fmt.Errorf("hunk -%d,%d +%d,%d has %d and %d lines", aStart, aLen, bStart, bLen, gotA, gotB)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, ""), nil
}

// bStartIndex is the number of lines of b before a hunk.
func bStartIndex(bStart, bLen int) int {
	if bLen == 0 {
		return bStart
	}
	return bStart - 1
}

// splitLines splits text after each '\n', without an empty last element.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
