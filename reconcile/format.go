package reconcile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/internal/textdiff"
)

// formatValue renders a JSON value on one line: strings quoted, lists in
// brackets, the redaction marker bare.
func formatValue(v any) string {
	if s, ok := v.(string); ok && s == Redacted {
		return Redacted
	}
	if v == nil {
		return "null"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.Replace(strings.TrimSuffix(buf.String(), "\n"), `","`, `", "`, -1)
}

// multiLine reports whether a value is shown one element (or line) per
// line and diffed: lists, and strings holding newlines.
func multiLine(v any) bool {
	switch t := v.(type) {
	case []any:
		return true
	case []string:
		return true
	case string:
		return t != Redacted && strings.Contains(t, "\n")
	}
	return false
}

// valueLines renders a multi-line value one element per line, each ending
// in a newline.
func valueLines(v any) string {
	var b strings.Builder
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			b.WriteString(formatValue(e) + "\n")
		}
	case []string:
		for _, e := range t {
			b.WriteString(formatValue(e) + "\n")
		}
	case string:
		b.WriteString(strings.TrimSuffix(t, "\n") + "\n")
	case nil:
	default:
		b.WriteString(formatValue(v) + "\n")
	}
	return b.String()
}

// lineDiff returns the lines of a line-by-line diff of two multi-line
// values, each prefixed with ' ', '-' or '+'.
func lineDiff(before, after any) []string {
	d := textdiff.Unified("before", "after", []byte(valueLines(before)), []byte(valueLines(after)), 1<<20)
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		if strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ ") || strings.HasPrefix(l, "@@") || strings.HasPrefix(l, `\ `) || l == "" {
			continue
		}
		out = append(out, l[:1]+" "+l[1:])
	}
	return out
}

// formatTime renders an instant for people, in its own zone.
func formatTime(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

// accountList names at most max accounts.
func accountList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Line renders a plan summary in one sentence.
func (s Summary) Line() string {
	if s.Create+s.Update == 0 {
		line := fmt.Sprintf("No changes: %s up to date", plural(s.NoOp, "server is", "servers are"))
		if s.Unreachable > 0 {
			line += fmt.Sprintf(", %s", plural(s.Unreachable, "server unreachable", "servers unreachable"))
		}
		return line + "."
	}
	parts := []string{fmt.Sprintf("%d to create", s.Create), fmt.Sprintf("%d to update", s.Update), fmt.Sprintf("%d unchanged", s.NoOp)}
	if s.Unreachable > 0 {
		parts = append(parts, fmt.Sprintf("%d unreachable", s.Unreachable))
	}
	line := "Plan: " + strings.Join(parts, ", ") + "."
	if s.Destructive > 0 {
		line += " " + plural(s.Destructive, "destructive change", "destructive changes") + "."
	}
	if s.Drifted > 0 {
		line += " " + plural(s.Drifted, "server drifted", "servers drifted") + " since the last apply."
	}
	return line
}
