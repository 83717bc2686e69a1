package reconcile

import (
	"fmt"
	"io"
	"strings"
)

// Line summarises an apply report in one sentence.
func (r *Report) Line() string {
	var parts []string
	for _, o := range []Outcome{OutcomeApplied, OutcomeUnchanged, OutcomeStale, OutcomeDestructive, OutcomeFailed, OutcomeUnreachable} {
		if n := r.Count(o); n > 0 || o == OutcomeApplied {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	return "Apply: " + strings.Join(parts, ", ") + "."
}

// RenderReport writes an apply report for people: one line per server,
// with what changed on the agent for servers refused as stale and the
// refused changes for servers refused as destructive, then the summary.
func RenderReport(w io.Writer, r *Report, opts HumanOptions) {
	h := &human{w: w, color: opts.Color}
	width := 0
	for _, s := range r.Servers {
		width = max(width, len(s.Name))
	}
	for _, s := range r.Servers {
		col := ""
		switch s.Outcome {
		case OutcomeApplied:
			col = ansiGreen
		case OutcomeStale, OutcomeDestructive:
			col = ansiYellow
		case OutcomeFailed, OutcomeUnreachable:
			col = ansiRed
		}
		h.printf("  %-*s  %s  %s\n", width, s.Name, h.paint(col, fmt.Sprintf("%-21s", s.Outcome)), s.Detail)
		if len(s.Since) > 0 {
			h.printf("    Changed on the agent since the plan:\n")
			for _, c := range s.Since {
				h.change(c, false)
			}
		}
		for _, c := range s.Refused {
			h.change(c, false)
		}
	}
	h.printf("\n%s\n", h.paint(ansiBold, r.Line()))
}

// jsonReport is the JSON form of an apply report.
type jsonReport struct {
	Summary map[string]int     `json:"summary"`
	Servers []jsonServerResult `json:"servers"`
}

type jsonServerResult struct {
	Name     string       `json:"name"`
	Outcome  string       `json:"outcome"`
	Detail   string       `json:"detail"`
	Revision int64        `json:"revision,omitempty"`
	Since    []jsonChange `json:"changed_since_plan"`
	Refused  []jsonChange `json:"refused_changes"`
}

// RenderApplyJSON writes a plan and its apply report as one JSON object:
// {"format_version", "plan", "apply"} (docs/PLAN.md).
func RenderApplyJSON(w io.Writer, p *Plan, r *Report) error {
	jr := jsonReport{Summary: map[string]int{}, Servers: []jsonServerResult{}}
	for _, o := range []Outcome{OutcomeApplied, OutcomeUnchanged, OutcomeStale, OutcomeDestructive, OutcomeFailed, OutcomeUnreachable} {
		jr.Summary[string(o)] = r.Count(o)
	}
	for _, s := range r.Servers {
		jr.Servers = append(jr.Servers, jsonServerResult{Name: s.Name, Outcome: string(s.Outcome), Detail: s.Detail, Revision: s.Revision,
			Since: changesToJSON(s.Since, false), Refused: changesToJSON(s.Refused, false)})
	}
	return writeJSON(w, struct {
		FormatVersion string      `json:"format_version"`
		Plan          *jsonPlan   `json:"plan"`
		Apply         *jsonReport `json:"apply"`
	}{JSONFormatVersion, toJSON(p), &jr})
}
