package textdiff

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Line operations, as they prefix lines in a unified diff.
const (
	opEqual  = ' '
	opDelete = '-'
	opInsert = '+'
)

// noNewline marks a last line that has no trailing newline.
const noNewline = "\\ No newline at end of file\n"

// line is one line of the edit script: an operation and the line's text,
// including its '\n' when it has one.
type line struct {
	op   byte
	text string
}

// hunk is a run of the edit script shown together: the script's lines
// [start, end), which begin at line aStart of a and bStart of b (0-based).
type hunk struct {
	start, end     int
	aStart, bStart int
}

// Unified returns the unified diff that turns a into b, with headers
// "--- aName" and "+++ bName" and context unchanged lines around each
// change. It returns "" when a and b are equal. A negative context counts
// as 0.
func Unified(aName, bName string, a, b []byte, context int) string {
	if string(a) == string(b) {
		return ""
	}
	if context < 0 {
		context = 0
	}
	script := editScript(string(a), string(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(script, context) {
		writeHunk(&out, script, h)
	}
	return out.String()
}

// editScript diffs a and b line by line and returns every line of both,
// in order, each marked equal, deleted or inserted. Within a run of changes
// deletions come before insertions.
func editScript(a, b string) []line {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // no deadline: the same inputs always give the same diff
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)

	var script, inserts []line
	for _, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			script = appendLines(script, opDelete, d.Text)
		case diffmatchpatch.DiffInsert:
			inserts = appendLines(inserts, opInsert, d.Text)
		case diffmatchpatch.DiffEqual:
			script = append(script, inserts...)
			inserts = inserts[:0]
			script = appendLines(script, opEqual, d.Text)
		}
	}
	return append(script, inserts...)
}

// appendLines splits text after each '\n' and appends the lines with op.
func appendLines(script []line, op byte, text string) []line {
	for text != "" {
		n := strings.IndexByte(text, '\n') + 1
		if n == 0 {
			n = len(text)
		}
		script = append(script, line{op, text[:n]})
		text = text[n:]
	}
	return script
}

// hunks groups the changes of script into hunks with context lines on
// each side. Changes separated by at most 2*context equal lines share a
// hunk, so that hunks never overlap.
func hunks(script []line, context int) []hunk {
	var out []hunk
	aLine, bLine := 0, 0 // lines of a and b before script[i]
	for i := 0; i < len(script); {
		if script[i].op == opEqual {
			aLine, bLine = aLine+1, bLine+1
			i++
			continue
		}
		lead := min(context, countEqualBefore(script, i))
		last := lastChange(script, i, context)
		end := min(last+1+context, len(script))
		out = append(out, hunk{start: i - lead, end: end, aStart: aLine - lead, bStart: bLine - lead})
		for ; i < end; i++ {
			aLine, bLine = advance(script[i].op, aLine, bLine)
		}
	}
	return out
}

// countEqualBefore returns how many equal lines directly precede
// script[i].
func countEqualBefore(script []line, i int) int {
	n := 0
	for i-n-1 >= 0 && script[i-n-1].op == opEqual {
		n++
	}
	return n
}

// lastChange returns the index of the last change in the hunk that starts
// with the change at script[first]: it extends over runs of at most
// 2*context equal lines that are followed by another change.
func lastChange(script []line, first, context int) int {
	last := first
	for j := first + 1; j < len(script); {
		if script[j].op != opEqual {
			last = j
			j++
			continue
		}
		k := j
		for k < len(script) && script[k].op == opEqual {
			k++
		}
		if k == len(script) || k-j > 2*context {
			break
		}
		j = k
	}
	return last
}

// advance moves the line counters of a and b past one line with op.
func advance(op byte, aLine, bLine int) (int, int) {
	switch op {
	case opDelete:
		return aLine + 1, bLine
	case opInsert:
		return aLine, bLine + 1
	}
	return aLine + 1, bLine + 1
}

// writeHunk writes the header and lines of h.
func writeHunk(out *strings.Builder, script []line, h hunk) {
	aLen, bLen := 0, 0
	for _, l := range script[h.start:h.end] {
		if l.op != opInsert {
			aLen++
		}
		if l.op != opDelete {
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(h.aStart, aLen), hunkRange(h.bStart, bLen))
	for _, l := range script[h.start:h.end] {
		out.WriteByte(l.op)
		out.WriteString(l.text)
		if !strings.HasSuffix(l.text, "\n") {
			out.WriteString("\n" + noNewline)
		}
	}
}

// hunkRange formats a hunk header's range "l,n" from a 0-based start: 1-based
// for a non-empty range, the line before it for an empty one.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
