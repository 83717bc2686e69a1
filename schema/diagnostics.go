package schema

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Sources resolves file names in diagnostics to their parsed contents, for
// snippets. Files not already parsed are read from disk once.
type Sources struct {
	files map[string]*hcl.File
}

// NewSources returns Sources seeded with already parsed files (may be nil).
func NewSources(files map[string]*hcl.File) *Sources {
	s := &Sources{files: map[string]*hcl.File{}}
	for k, v := range files {
		s.files[k] = v
	}
	return s
}

// File returns the parsed file, or nil when it cannot be read.
func (s *Sources) File(name string) *hcl.File {
	if f, ok := s.files[name]; ok {
		return f
	}
	var f *hcl.File
	if strings.HasPrefix(name, "<") {
		// "<stdin>", "<value for var.x>": not a file on disk.
		return nil
	}
	if src, err := ReadFile(name, MaxFileBytes); err == nil {
		f = parseForSnippets(src, name)
	}
	s.files[name] = f
	return f
}

// SourcesOf returns Sources that show snippets of src, which may have come
// from standard input, under name.
func SourcesOf(name string, src []byte) *Sources {
	return NewSources(map[string]*hcl.File{name: parseForSnippets(src, name)})
}

// parseForSnippets parses src for snippets and their context; a source
// nested too deeply to parse gives snippets without context.
func parseForSnippets(src []byte, name string) *hcl.File {
	var f *hcl.File
	if checkNesting(src, name) == nil {
		f, _ = hclparse.NewParser().ParseHCL(src, name)
	}
	if f == nil {
		f = &hcl.File{Bytes: src}
	}
	return f
}

// Snippet is the source excerpt shown with a diagnostic.
type Snippet struct {
	// Context names the enclosing block, such as `server "mx1"`.
	Context string
	// Code is the source lines covering the subject.
	Code string
	// StartLine is the line number of Code's first line.
	StartLine int
	// HighlightStart and HighlightEnd are byte offsets into Code of the
	// subject range.
	HighlightStart, HighlightEnd int
}

// snippet extracts the lines covering rng.
func (s *Sources) snippet(rng hcl.Range) *Snippet {
	f := s.File(rng.Filename)
	if f == nil || rng.Start.Byte > len(f.Bytes) || rng.End.Byte > len(f.Bytes) {
		return nil
	}
	src := f.Bytes
	start := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	end := len(src)
	if i := bytes.IndexByte(src[rng.End.Byte:], '\n'); i >= 0 {
		end = rng.End.Byte + i
	}
	if rng.End.Byte > rng.Start.Byte && src[rng.End.Byte-1] == '\n' {
		end = rng.End.Byte - 1
	}
	if end < start {
		end = start
	}
	start, end = clipSnippet(src, start, end, rng.Start.Byte)
	code := string(src[start:end])
	sn := &Snippet{Code: code, StartLine: rng.Start.Line,
		HighlightStart: rng.Start.Byte - start, HighlightEnd: rng.End.Byte - start}
	if sn.HighlightEnd > len(code) {
		sn.HighlightEnd = len(code)
	}
	if f.Nav != nil {
		sn.Context = hcled.ContextString(f, rng.Start.Byte)
	}
	return sn
}

// maxSnippetBytes limits how much of the source a snippet shows: a policy
// may hold one line of megabytes.
const maxSnippetBytes = 480

// clipSnippet narrows the snippet src[start:end] to at most about
// maxSnippetBytes around the subject's start at, on whole characters.
func clipSnippet(src []byte, start, end, at int) (int, int) {
	if end-start <= maxSnippetBytes {
		return start, end
	}
	start = max(start, at-maxSnippetBytes/3)
	end = min(end, start+maxSnippetBytes)
	for start < at && !utf8.RuneStart(src[start]) {
		start++
	}
	for end > at && end < len(src) && !utf8.RuneStart(src[end]) {
		end--
	}
	return start, end
}

// maxSnippetLines limits how many source lines a text diagnostic shows.
const maxSnippetLines = 6

// WriteDiagnostics renders diagnostics as text, Terraform-style: severity
// and summary, the file, line and column, the enclosing block, the source
// lines with the subject marked by carets, then the detail. With color,
// severities are coloured and the subject is underlined too.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, src *Sources, color bool) {
	if src == nil {
		src = NewSources(nil)
	}
	for _, d := range diags {
		label, paint := "Error", "\x1b[1;31m"
		if d.Severity == hcl.DiagWarning {
			label, paint = "Warning", "\x1b[1;33m"
		}
		if color {
			fmt.Fprintf(w, "%s%s:\x1b[0m \x1b[1m%s\x1b[0m\n", paint, label, d.Summary)
		} else {
			fmt.Fprintf(w, "%s: %s\n", label, d.Summary)
		}
		if d.Subject != nil {
			writeLocation(w, *d.Subject, src, color)
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "\n%s\n", d.Detail)
		}
		fmt.Fprintln(w)
	}
}

func writeLocation(w io.Writer, rng hcl.Range, src *Sources, color bool) {
	sn := src.snippet(rng)
	where := fmt.Sprintf("on %s line %d, column %d", rng.Filename, rng.Start.Line, rng.Start.Column)
	if sn != nil && sn.Context != "" {
		where += ", in " + sn.Context
	}
	fmt.Fprintf(w, "\n  %s:\n", where)
	if sn == nil {
		return
	}
	lines := strings.Split(sn.Code, "\n")
	numWidth := len(fmt.Sprint(sn.StartLine + len(lines) - 1))
	offset := 0
	for i, line := range lines {
		lineStart, lineEnd := offset, offset+len(line)
		offset = lineEnd + 1
		if i == maxSnippetLines {
			fmt.Fprintf(w, "  %*s  ...\n", numWidth, "")
			break
		}
		hs, he := clamp(sn.HighlightStart-lineStart, len(line)), clamp(sn.HighlightEnd-lineStart, len(line))
		shown := line
		if color && he > hs {
			shown = line[:hs] + "\x1b[4m" + line[hs:he] + "\x1b[0m" + line[he:]
		}
		fmt.Fprintf(w, "  %*d: %s\n", numWidth, sn.StartLine+i, expandTabs(shown))
		if he > hs || (len(lines) == 1 && hs == he) {
			pad := displayWidth(line[:hs])
			marks := displayWidth(line[hs:he])
			if marks == 0 {
				marks = 1
			}
			fmt.Fprintf(w, "  %*s  %s%s\n", numWidth, "", strings.Repeat(" ", pad), strings.Repeat("^", marks))
		}
	}
}

func clamp(n, max int) int {
	if n < 0 {
		return 0
	}
	if n > max {
		return max
	}
	return n
}

const tabWidth = 4

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", strings.Repeat(" ", tabWidth)) }

func displayWidth(s string) int {
	return utf8.RuneCountInString(s) + strings.Count(s, "\t")*(tabWidth-1)
}

// JSONDiagnostic is the machine-readable form of a diagnostic, as printed
// by validate -json.
type JSONDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *JSONRange   `json:"range,omitempty"`
	Snippet  *JSONSnippet `json:"snippet,omitempty"`
}

// JSONRange is a source range; lines and columns start at 1, bytes at 0.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position in a source file.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONSnippet is the source excerpt of a diagnostic.
type JSONSnippet struct {
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
}

// DiagnosticsJSON converts diagnostics to their JSON form.
func DiagnosticsJSON(diags hcl.Diagnostics, src *Sources) []JSONDiagnostic {
	if src == nil {
		src = NewSources(nil)
	}
	out := make([]JSONDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if r := d.Subject; r != nil {
			jd.Range = &JSONRange{Filename: r.Filename,
				Start: JSONPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:   JSONPos{r.End.Line, r.End.Column, r.End.Byte}}
			if sn := src.snippet(*r); sn != nil {
				js := &JSONSnippet{Code: sn.Code, StartLine: sn.StartLine,
					HighlightStartOffset: sn.HighlightStart, HighlightEndOffset: sn.HighlightEnd}
				if sn.Context != "" {
					c := sn.Context
					js.Context = &c
				}
				jd.Snippet = js
			}
		}
		out = append(out, jd)
	}
	return out
}
