package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// runBackupSearch is `mailkeep backup search`.
func runBackupSearch(c *cli, args []string) int {
	const cmd = "backup search"
	fs := c.newFlags(cmd, "[-json] TARGET ACCOUNT [-sender ADDR] [-recipient ADDR] [-subject TEXT] [-since DATE] [-before DATE] [-message-id ID] [-folder NAME] [-deleted] [-at TIME] [-limit N]",
		"Searches an account's backup: every message its history holds, current or deleted, each\nonce in its latest version (with -at, the messages present at that instant). Prints each\nmessage's item id (what restore item takes), folder, received date, sender, subject,\nsize, flags and when it was deleted. Text filters are case-insensitive substrings.")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var req api.SearchRequest
	fs.StringVar(&req.Sender, "sender", "", "From contains ADDR (address or display name)")
	fs.StringVar(&req.Recipient, "recipient", "", "To or Cc contains ADDR (address or display name)")
	fs.StringVar(&req.Subject, "subject", "", "Subject contains TEXT")
	fs.StringVar(&req.MessageID, "message-id", "", "Message-ID is ID (angle brackets optional)")
	fs.StringVar(&req.Folder, "folder", "", "only the folder NAME (INBOX, Projects/2026, or b64:BASE64)")
	fs.StringVar(&req.Since, "since", "", "received on or after DATE (YYYY-MM-DD in the agent's zone as IMAP SINCE, or an instant)")
	fs.StringVar(&req.Before, "before", "", "received before DATE (YYYY-MM-DD in the agent's zone as IMAP BEFORE, or an instant)")
	fs.BoolVar(&req.Deleted, "deleted", false, "only messages no longer present (deleted or expunged), with when")
	fs.StringVar(&req.At, "at", "", "the messages present at this instant (last, RFC 3339, YYYY-MM-DD[ HH:MM[:SS]], 90m, 2d) instead of the whole history")
	fs.IntVar(&req.Limit, "limit", 0, "print at most N messages (0: all)")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(c.stderr, "mailkeep %s: expected one ACCOUNT (user@domain or b64:BASE64), got %d arguments\n", cmd, len(pos))
		return exitError
	}
	req.Account = pos[0]
	if !nameArgs(c, cmd, namedArg{"ACCOUNT", &req.Account}, namedArg{"-folder", &req.Folder}) {
		return exitError
	}
	cl, ok := t.connect(c, cmd)
	if !ok {
		return exitError
	}
	res, err := cl.Search(context.Background(), req)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: %v\n", cmd, err)
		return exitError
	}
	if *asJSON {
		return c.printJSON(cmd, res)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFOLDER\tRECEIVED\tFROM\tSUBJECT\tSIZE\tFLAGS\tDELETED")
	for _, m := range res.Messages {
		deleted := "-"
		if m.DeletedAt != nil {
			deleted = m.DeletedAt.Local().Format(time.DateTime)
		}
		from, subject := m.From, m.Subject
		if !m.Indexed {
			from, subject = "(headers not indexed yet)", ""
		}
		flags := m.Flags
		if len(m.Keywords) > 0 {
			flags += " " + strings.Join(m.Keywords, ",")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Folder, m.Received.Local().Format(time.DateTime),
			clip(from, 40), clip(subject, 50), units.Bytes(m.Size), flags, deleted)
	}
	tw.Flush()
	switch {
	case res.Truncated:
		fmt.Fprintf(c.stderr, "%d messages shown; more match (raise -limit)\n", res.Count)
	case res.Count == 0:
		fmt.Fprintf(c.stderr, "no message matches\n")
	}
	if res.Unindexed > 0 {
		fmt.Fprintf(c.stderr, "%d messages not checked: their headers are still being indexed (%d of %d done); search again later\n",
			res.Unindexed, res.HeaderIndex.Done, res.HeaderIndex.Total)
	}
	return exitOK
}

// clip shortens s to at most n runes for a table column.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
