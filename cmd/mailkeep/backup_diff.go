package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

func runBackupDiff(c *cli, args []string) int {
	fs := c.newFlags("backup diff", "[-json] TARGET ACCOUNT -from TIME [-to TIME]",
		"Shows what an account lost and gained between two instants (-to: now): the messages\nadded, deleted, moved and re-flagged, per folder, with sender, subject and date.")
	from := fs.String("from", "", "start instant (required): RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] (agent's zone) or a duration ago (2d)")
	to := fs.String("to", "", "end instant (default now)")
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	account, ok := oneAccount(c, "backup diff", pos)
	if !ok {
		return exitError
	}
	if *from == "" || *from == "last" {
		fmt.Fprintf(c.stderr, "mailkeep backup diff: -from TIME is required (the instant to compare with)\n")
		return exitError
	}
	if !checkInstant(c, "backup diff", "-from", *from) || !checkInstant(c, "backup diff", "-to", *to) {
		return exitError
	}
	cl, ok := t.connect(c, "backup diff")
	if !ok {
		return exitError
	}
	d, err := cl.Diff(context.Background(), account, *from, *to)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep backup diff: %v\n", err)
		return exitError
	}
	if *asJSON {
		return c.printJSON("backup diff", d)
	}
	renderDiff(c.stdout, d)
	return exitOK
}

func renderDiff(w io.Writer, d *api.Diff) {
	fmt.Fprintf(w, "%s from %s to %s: %d added, %d deleted, %d moved, %d re-flagged.\n", d.Account,
		d.From.Local().Format(time.DateTime), d.To.Local().Format(time.DateTime), d.Added, d.Deleted, d.Moved, d.Reflagged)
	for _, f := range d.Folders {
		fmt.Fprintf(w, "\n%s\n", displayName(f.Folder, f.FolderB64))
		line := func(mark string, m api.DiffMessage, note string) {
			subject := m.Subject
			if subject == "" {
				subject = "(no subject)"
			}
			fmt.Fprintf(w, "  %s %-8d %s  %-30s %q %s%s\n", mark, m.ID, m.Received.Local().Format("2006-01-02 15:04"),
				clip(m.Sender, 30), clip(subject, 60), units.Bytes(m.Size), note)
		}
		for _, m := range f.Deleted {
			line("-", m, "")
		}
		for _, m := range f.Added {
			line("+", m, "")
		}
		for _, m := range f.MovedOut {
			line(">", m, "  moved to "+displayName(m.Other, m.OtherB64))
		}
		for _, m := range f.MovedIn {
			line("<", m, "  moved from "+displayName(m.Other, m.OtherB64))
		}
		for _, m := range f.Reflagged {
			line("~", m, fmt.Sprintf("  flags %s -> %s", flagText(*m.OldFlags, m.OldKeywords), flagText(m.Flags, m.Keywords)))
		}
	}
}

// flagText shows Maildir flags and keywords, "-" for none.
func flagText(flags string, keywords []string) string {
	parts := []string{}
	if flags != "" {
		parts = append(parts, flags)
	}
	parts = append(parts, keywords...)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
