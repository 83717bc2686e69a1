package reconcile

import (
	"fmt"
	"io"
	"strings"
)

// ANSI colours of the human rendering.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

// HumanOptions tune the human rendering.
type HumanOptions struct {
	// Color turns on ANSI colours (on a terminal, without -no-color).
	Color bool
}

// human writes one rendering.
type human struct {
	w     io.Writer
	color bool
	// pad aligns the "=" of a created server's settings.
	pad int
}

func (h *human) paint(code, s string) string {
	if !h.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (h *human) printf(format string, args ...any) { fmt.Fprintf(h.w, format, args...) }

// RenderHuman writes a plan for people: the summary line, each server's
// drift and changes, then the summary again.
func RenderHuman(w io.Writer, p *Plan, opts HumanOptions) {
	h := &human{w: w, color: opts.Color}
	sum := p.Summary()
	h.printf("%s\n", h.paint(ansiBold, sum.Line()))
	for _, sp := range p.Servers {
		h.printf("\n")
		h.server(sp)
	}
	h.printf("\n%s\n", h.paint(ansiBold, sum.Line()))
}

// server writes one server's plan.
func (h *human) server(sp *ServerPlan) {
	addr := sp.Target.Shown("address")
	switch sp.Action {
	case ActionNoOp:
		h.printf("  server %q (%s): no changes, revision %d.\n", sp.Name, addr, sp.Live.Revision)
		return
	case ActionUnreachable:
		h.printf("%s %s\n", h.paint(ansiRed, "x"), h.paint(ansiBold, fmt.Sprintf("server %q is unreachable", sp.Name)))
		h.printf("    %s\n", sp.Reason)
		return
	case ActionCreate:
		h.printf("%s %s (%s)\n", h.paint(ansiGreen, "+"), h.paint(ansiBold, fmt.Sprintf("server %q will be configured", sp.Name)), addr)
		h.printf("    The agent is unconfigured: it receives its first config.\n")
	case ActionUpdate:
		h.printf("%s %s (%s, revision %d)\n", h.paint(ansiYellow, "~"), h.paint(ansiBold, fmt.Sprintf("server %q will be updated", sp.Name)), addr, sp.Live.Revision)
	}
	if sp.Drift != nil {
		h.drift(sp.Drift)
	}
	if sp.Action == ActionUpdate && sp.Drift != nil {
		h.printf("  Changes:\n")
	}
	h.pad = 0
	if sp.Action == ActionCreate {
		for _, c := range sp.Changes {
			h.pad = max(h.pad, len(c.Path))
		}
	}
	for _, c := range sp.Changes {
		h.change(c, sp.Action == ActionCreate)
	}
	for _, n := range sp.Notes {
		h.printf("  %s %s\n", h.paint(ansiYellow, "Note:"), n)
	}
	if sp.Target.Protect && len(sp.Destructive()) > 0 {
		h.printf("  %s apply refuses the destructive changes above, even with -allow-destructive.\n", h.paint(ansiRed, "Protected (protect = true):"))
	}
}

// drift writes a server's drift section.
func (h *human) drift(d *Drift) {
	if d.Since != nil {
		h.printf("  %s changed on the agent since the last apply (%s by %s):\n", h.paint(ansiYellow, "Drift:"), formatTime(d.Since.Time), d.Since.Client)
	} else {
		h.printf("  %s\n", h.paint(ansiYellow, "Drift:"))
	}
	for _, c := range d.Changes {
		h.change(c, false)
	}
	if d.Note != "" {
		h.printf("    %s\n", d.Note)
	}
}

// change writes one setting change.
func (h *human) change(c Change, create bool) {
	sign, col := "~", ansiYellow
	if create {
		sign, col = "+", ansiGreen
	}
	if c.Destructive {
		col = ansiRed
	}
	var tags []string
	if c.Destructive {
		tags = append(tags, h.paint(ansiRed, "[destructive]"))
	}
	if c.Inactive {
		tags = append(tags, h.paint(ansiDim, "(not active in this version)"))
	}
	tail := ""
	if len(tags) > 0 {
		tail = "  " + strings.Join(tags, " ")
	}
	switch {
	case create:
		h.printf("    %s %-*s = %s%s\n", h.paint(col, sign), h.pad, c.Path, formatValue(c.After), tail)
	case multiLine(c.Before) || multiLine(c.After):
		h.printf("    %s %s:%s\n", h.paint(col, sign), c.Path, tail)
		for _, l := range lineDiff(c.Before, c.After) {
			lc := ""
			switch l[0] {
			case '-':
				lc = ansiRed
			case '+':
				lc = ansiGreen
			}
			h.printf("        %s\n", h.paint(lc, l))
		}
	default:
		h.printf("    %s %s: %s -> %s%s\n", h.paint(col, sign), c.Path, formatValue(c.Before), formatValue(c.After), tail)
	}
	if c.Reason != "" {
		h.printf("        %s\n", c.Reason)
	}
	if c.Impact != nil && len(c.Impact.Accounts) > 0 {
		h.printf("        Accounts: %s\n", accountList(c.Impact.Accounts, 10))
	}
}
