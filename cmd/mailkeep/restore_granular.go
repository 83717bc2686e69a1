package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// runRestoreItem is "mailkeep restore item".
func runRestoreItem(c *cli, args []string) int {
	const cmd = "restore item"
	fs := c.newFlags(cmd, "[-to ACCOUNT] [-folder NAME] [-dry-run] [-wait] [-json] TARGET ACCOUNT ID...",
		"Restores single messages of ACCOUNT, by the item ids that backup search lists, with their\nflags, keywords and received date, into their folder (recreated if it is gone) or into\n-folder. A message whose content is still in that folder is left alone.")
	to := fs.String("to", "", "restore into this account instead of ACCOUNT")
	folder := fs.String("folder", "", "restore into this folder (created if missing) instead of each message's own; b64:BASE64 for a non-UTF-8 name")
	dryRun := fs.Bool("dry-run", false, "list what would be restored and write nothing")
	wait := fs.Bool("wait", false, "wait for the restore to finish, showing progress on a terminal")
	asJSON := fs.Bool("json", false, "print the operation as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 2 {
		fmt.Fprintf(c.stderr, "mailkeep %s: expected ACCOUNT and at least one item ID\n", cmd)
		return exitError
	}
	var ids []int64
	for _, s := range pos[1:] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fmt.Fprintf(c.stderr, "mailkeep %s: %q is not an item id (a positive number, as backup search shows)\n", cmd, s)
			return exitError
		}
		ids = append(ids, id)
	}
	account := pos[0]
	if !nameArgs(c, cmd, namedArg{"ACCOUNT", &account}, namedArg{"-to", to}, namedArg{"-folder", folder}) {
		return exitError
	}
	if err := checkNewAccount(*to); err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: -to: %v\n", cmd, err)
		return exitError
	}
	cl, ok := t.connect(c, cmd)
	if !ok {
		return exitError
	}
	req := api.OperationRequest{Type: api.KindRestoreItem, RestoreRequest: api.RestoreRequest{Account: account, To: *to, DryRun: *dryRun,
		GranularRequest: api.GranularRequest{Items: ids, Folder: *folder}}}
	return c.runOperation(cl, opRun{cmd: cmd, req: req, wait: *wait || *dryRun, asJSON: *asJSON, render: renderLive})
}

// runRestoreUndelete is "mailkeep restore undelete".
func runRestoreUndelete(c *cli, args []string) int {
	const cmd = "restore undelete"
	fs := c.newFlags(cmd, "[-folder NAME] [-dry-run] [-wait] [-json] TARGET ACCOUNT -from T1 -to T2",
		"Brings back every message of ACCOUNT deleted (expunged) between T1 and T2 into the folder it\nwas deleted from; a message expunged in the Trash goes back to the folder it was in before.\nThey come back without \\Deleted, tagged with the keyword undelete_YYYY-MM-DD. Messages\nstill present are left alone.")
	from := fs.String("from", "", "start of the range: RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] (agent's zone) or a duration ago (90m, 2d)")
	until := fs.String("to", "", "end of the range, in the same forms as -from")
	folder := fs.String("folder", "", "restore every message into this folder instead; b64:BASE64 for a non-UTF-8 name")
	dryRun := fs.Bool("dry-run", false, "list what would be restored and write nothing")
	wait := fs.Bool("wait", false, "wait for the restore to finish, showing progress on a terminal")
	asJSON := fs.Bool("json", false, "print the operation as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(c.stderr, "mailkeep %s: expected one ACCOUNT (user@domain), got %d arguments\n", cmd, len(pos))
		return exitError
	}
	for _, f := range []struct{ name, v string }{{"-from", *from}, {"-to", *until}} {
		if f.v == "" {
			fmt.Fprintf(c.stderr, "mailkeep %s: %s is required\n", cmd, f.name)
			return exitError
		}
		if _, err := api.ParseInstant(f.v, time.Now(), time.Local); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep %s: %s: %v\n", cmd, f.name, err)
			return exitError
		}
	}
	account := pos[0]
	if !nameArgs(c, cmd, namedArg{"ACCOUNT", &account}, namedArg{"-folder", folder}) {
		return exitError
	}
	cl, ok := t.connect(c, cmd)
	if !ok {
		return exitError
	}
	req := api.OperationRequest{Type: api.KindRestoreUndelete, RestoreRequest: api.RestoreRequest{Account: account, DryRun: *dryRun,
		GranularRequest: api.GranularRequest{From: *from, Until: *until, Folder: *folder}}}
	return c.runOperation(cl, opRun{cmd: cmd, req: req, wait: *wait || *dryRun, asJSON: *asJSON, render: renderLive})
}

// renderLive prints the result of a granular restore.
func renderLive(w io.Writer, op *api.Operation) {
	var res api.LiveRestoreResult
	if !api.DecodeResult(op, &res) {
		return
	}
	verb := "Restored"
	if res.DryRun {
		verb = "Would restore"
	}
	local := func(t *time.Time) string { return t.Local().Format(time.DateTime) }
	what := fmt.Sprintf("%d messages (%s)", res.Messages, units.Bytes(res.Bytes))
	account := displayName(res.Account, res.AccountB64)
	switch res.Strategy {
	case "undelete":
		fmt.Fprintf(w, "%s %s of %s deleted between %s and %s", verb, what, account, local(res.From), local(res.Until))
	case "into-folder":
		fmt.Fprintf(w, "%s %s as of %s under folder %q", verb, account, local(res.At), displayName(res.IntoFolder, res.IntoFolderB64))
		fmt.Fprintf(w, ": %s", what)
	default:
		fmt.Fprintf(w, "%s %s of %s", verb, what, account)
		if res.To != res.Account || res.ToB64 != res.AccountB64 {
			fmt.Fprintf(w, " into %s", displayName(res.To, res.ToB64))
		}
	}
	if res.Keyword != "" {
		fmt.Fprintf(w, ", tagged %s", res.Keyword)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(w, "; %d already present, left alone", res.Skipped)
	}
	if res.Failed > 0 {
		fmt.Fprintf(w, "; %d could not be written", res.Failed)
	}
	fmt.Fprintln(w, ".")
	renderFolders(w, res.Folders)
	for _, it := range res.Items {
		from := ""
		if it.FromFolder != "" {
			from = " (from " + displayName(it.FromFolder, it.FromFolderB64) + ")"
		}
		line := fmt.Sprintf("  item %-8d %s%s: %s", it.ID, displayName(it.Folder, it.FolderB64), from, it.Outcome)
		if it.Error != "" {
			line += ": " + it.Error
		}
		if it.Received != nil {
			date := *it.Received
			if it.Date != nil {
				date = *it.Date
			}
			line += fmt.Sprintf(" (%s from %s %q)", date.Local().Format(time.DateTime), it.From, it.Subject)
		}
		fmt.Fprintln(w, line)
	}
	if len(res.Subscribed) > 0 {
		fmt.Fprintf(w, "Subscribed the new folders: %v\n", res.Subscribed)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  PROBLEM %s\n", p)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if pc := res.PostCommand; pc != nil {
		fmt.Fprintf(w, "post_command %v: %s\n", pc.Command, pc.Outcome())
	}
}
