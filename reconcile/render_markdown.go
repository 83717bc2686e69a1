package reconcile

import (
	"fmt"
	"io"
	"strings"
)

// MarkdownMarker is the first line of every Markdown plan, so that a bot
// can find (and update) the comment it posted on a pull request.
const MarkdownMarker = "<!-- mailkeep-plan -->"

// RenderMarkdown writes a plan for a pull-request comment: the marker
// line, the summary, a table of servers, and a collapsible section per
// server with changes, drift or a reason.
func RenderMarkdown(w io.Writer, p *Plan) {
	sum := p.Summary()
	fmt.Fprintf(w, "%s\n### mailkeep plan\n\n**%s**\n\n", MarkdownMarker, sum.Line())
	fmt.Fprintf(w, "| Server | Action | Changes | Destructive | Drift |\n|---|---|---:|---:|---|\n")
	for _, sp := range p.Servers {
		changes, destr, drift := "", "", ""
		if sp.Action == ActionCreate || sp.Action == ActionUpdate {
			changes = fmt.Sprint(len(sp.Changes))
			n := len(sp.Destructive())
			destr = fmt.Sprint(n)
			if n > 0 {
				destr = fmt.Sprintf("**%d** :warning:", n)
			}
		}
		if sp.Drift != nil {
			drift = "yes"
		}
		action := string(sp.Action)
		if sp.Action == ActionUnreachable {
			action = "**unreachable**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", code(sp.Name), action, changes, destr, drift)
	}
	for _, sp := range p.Servers {
		if sp.Action == ActionNoOp {
			continue
		}
		markdownServer(w, sp)
	}
}

// markdownServer writes one server's collapsible section.
func markdownServer(w io.Writer, sp *ServerPlan) {
	var what string
	switch sp.Action {
	case ActionUnreachable:
		what = "unreachable"
	case ActionCreate:
		what = "create, " + plural(len(sp.Changes), "setting", "settings")
	default:
		what = "update, " + plural(len(sp.Changes), "change", "changes")
		if n := len(sp.Destructive()); n > 0 {
			what += fmt.Sprintf(", %d destructive", n)
		}
	}
	fmt.Fprintf(w, "\n<details><summary><code>%s</code>: %s</summary>\n\n", esc(sp.Name), esc(what))
	fmt.Fprintf(w, "Agent: %s", code(sp.Target.Shown("address")))
	if sp.Live != nil {
		fmt.Fprintf(w, ", live revision %d", sp.Live.Revision)
	}
	fmt.Fprintf(w, ".\n\n")
	if sp.Action == ActionUnreachable {
		fmt.Fprintf(w, "> %s\n\n</details>\n", esc(sp.Reason))
		return
	}
	if d := sp.Drift; d != nil {
		if d.Since != nil {
			fmt.Fprintf(w, "**Drift**: changed on the agent since the last apply (%s by %s):\n\n", esc(formatTime(d.Since.Time)), esc(d.Since.Client))
		} else {
			fmt.Fprintf(w, "**Drift**:\n\n")
		}
		if len(d.Changes) > 0 {
			markdownChanges(w, d.Changes)
		}
		if d.Note != "" {
			fmt.Fprintf(w, "%s\n\n", esc(d.Note))
		}
		fmt.Fprintf(w, "**Changes**:\n\n")
	}
	markdownChanges(w, sp.Changes)
	for _, n := range sp.Notes {
		fmt.Fprintf(w, "> **Note**: %s\n\n", esc(n))
	}
	if sp.Target.Protect && len(sp.Destructive()) > 0 {
		fmt.Fprintf(w, "> **Protected** (`protect = true`): apply refuses the destructive changes, even with `-allow-destructive`.\n\n")
	}
	fmt.Fprintf(w, "</details>\n")
}

// markdownChanges writes a table of changes, then a diff block for each
// multi-line value.
func markdownChanges(w io.Writer, cs []Change) {
	fmt.Fprintf(w, "| Setting | Before | After | Impact |\n|---|---|---|---|\n")
	var diffs []Change
	for _, c := range cs {
		before, after := code(formatValue(c.Before)), code(formatValue(c.After))
		if c.Before == nil {
			before = ""
		}
		if c.Before != nil && (multiLine(c.Before) || multiLine(c.After)) {
			diffs = append(diffs, c)
			before, after = "see the diff below", ""
		}
		var notes []string
		if c.Destructive {
			notes = append(notes, ":warning: **destructive**")
		}
		if c.Reason != "" {
			notes = append(notes, esc(c.Reason))
		}
		if c.Impact != nil && len(c.Impact.Accounts) > 0 {
			notes = append(notes, "Accounts: "+esc(accountList(c.Impact.Accounts, 10)))
		}
		if c.Inactive {
			notes = append(notes, "_not active in this version_")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", code(c.Path), before, after, strings.Join(notes, " "))
	}
	fmt.Fprintln(w)
	for _, c := range diffs {
		fmt.Fprintf(w, "`%s`:\n\n```diff\n%s\n```\n\n", c.Path, strings.Join(lineDiff(c.Before, c.After), "\n"))
	}
}

// code renders text as inline code safe inside a table cell.
func code(s string) string {
	return "<code>" + esc(s) + "</code>"
}

// mdEscaper escapes text for Markdown table cells and inline HTML.
var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "&#124;", "\n", "<br>", "`", "&#96;")

// esc escapes text for Markdown tables and HTML.
func esc(s string) string { return mdEscaper.Replace(s) }
