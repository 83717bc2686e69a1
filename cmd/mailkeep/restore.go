package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

func runRestore(c *cli, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "item":
			return runRestoreItem(c, args[1:])
		case "undelete":
			return runRestoreUndelete(c, args[1:])
		}
	}
	if len(args) == 0 || args[0] != "account" {
		fmt.Fprintf(c.stderr, "Usage: mailkeep restore account [-at TIME|last] [-to NEW_ACCOUNT | -into-folder NAME] [-dry-run] [-wait] TARGET ACCOUNT\n"+
			"       mailkeep restore item [-to ACCOUNT] [-folder NAME] [-dry-run] [-wait] TARGET ACCOUNT ID...\n"+
			"       mailkeep restore undelete [-folder NAME] [-dry-run] [-wait] TARGET ACCOUNT -from T1 -to T2\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help") {
			return exitOK
		}
		return exitError
	}
	fs := c.newFlags("restore account", "[-at TIME|last] [-to NEW_ACCOUNT | -into-folder NAME] [-dry-run] [-wait] [-json] TARGET ACCOUNT",
		"Restores an account (user@domain) as it was at an instant: folders, messages, flags,\nkeywords, received dates, subscriptions, ownership and, into an empty account,\nits UIDs and UIDVALIDITY.")
	at := fs.String("at", "last", "instant: last, RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] (agent's zone) or a duration ago (90m, 2d)")
	to := fs.String("to", "", "restore into this account instead; the source is left untouched")
	into := fs.String("into-folder", "", "write the account's folder tree under this new folder of the live account (NAME/INBOX, ...), leaving its folders untouched; b64:BASE64 for a non-UTF-8 name")
	dryRun := fs.Bool("dry-run", false, "list what would be restored and write nothing")
	wait := fs.Bool("wait", false, "wait for the restore to finish, showing progress on a terminal")
	asJSON := fs.Bool("json", false, "print the operation as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(c.stderr, "mailkeep restore account: expected one ACCOUNT (user@domain), got %d arguments\n", len(pos))
		return exitError
	}
	if _, err := api.ParseInstant(*at, time.Now(), time.Local); err != nil {
		fmt.Fprintf(c.stderr, "mailkeep restore account: -at: %v\n", err)
		return exitError
	}
	account := pos[0]
	if !nameArgs(c, "restore account", namedArg{"ACCOUNT", &account}, namedArg{"-to", to}, namedArg{"-into-folder", into}) {
		return exitError
	}
	if err := checkNewAccount(*to); err != nil {
		fmt.Fprintf(c.stderr, "mailkeep restore account: -to: %v\n", err)
		return exitError
	}
	if *into != "" && *to != "" {
		fmt.Fprintf(c.stderr, "mailkeep restore account: -into-folder writes into ACCOUNT itself; it does not go with -to\n")
		return exitError
	}
	cl, ok := t.connect(c, "restore account")
	if !ok {
		return exitError
	}
	req := api.OperationRequest{Type: api.KindRestore, RestoreRequest: api.RestoreRequest{Account: account, At: *at, To: *to, DryRun: *dryRun,
		GranularRequest: api.GranularRequest{IntoFolder: *into}}}
	render := renderRestore
	if *into != "" {
		render = renderLive
	}
	return c.runOperation(cl, opRun{cmd: "restore account", req: req, wait: *wait || *dryRun, asJSON: *asJSON, render: render})
}

func renderRestore(w io.Writer, op *api.Operation) {
	var res api.RestoreResult
	if !api.DecodeResult(op, &res) {
		return
	}
	verb := "Restored"
	if res.DryRun {
		verb = "Would restore"
	}
	target := displayName(res.Account, res.AccountB64)
	if res.To != res.Account || res.ToB64 != res.AccountB64 {
		target += " into " + displayName(res.To, res.ToB64)
	}
	mode := res.Mode
	if res.Resumed {
		mode += ", carrying on one that was cut short"
	}
	fmt.Fprintf(w, "%s %s as of %s (%s restore): %d messages, %s in %d folders",
		verb, target, res.At.Local().Format(time.DateTime), mode, res.Messages, units.Bytes(res.Bytes), len(res.Folders))
	if res.Skipped > 0 {
		fmt.Fprintf(w, "; %d already present, left alone", res.Skipped)
	}
	if res.Failed > 0 {
		fmt.Fprintf(w, "; %d could not be written", res.Failed)
	}
	fmt.Fprintln(w, ".")
	renderFolders(w, res.Folders)
	renderFailed(w, res.FailedItems, res.Problems)
	if pc := res.PostCommand; pc != nil {
		fmt.Fprintf(w, "post_command %v: %s\n", pc.Command, pc.Outcome())
	}
}

// maxFailedLines bounds the failed messages a restore's summary lists;
// -json lists them all.
const maxFailedLines = 50

// renderFailed prints the messages a restore could not write (folder,
// date, sender, subject and why) and its other problems.
func renderFailed(w io.Writer, failed []api.FailedMessage, problems []string) {
	for i, f := range failed {
		if i == maxFailedLines {
			fmt.Fprintf(w, "  ... and %d more messages not written (-json lists them all)\n", len(failed)-i)
			break
		}
		date := f.Received
		if f.Date != nil {
			date = *f.Date
		}
		from, subject := f.From, f.Subject
		if from == "" && subject == "" {
			from, subject = "?", f.Name
		}
		fmt.Fprintf(w, "  NOT WRITTEN %s  %s  from %s  %q: %s\n", f.Folder, date.Local().Format(time.DateTime), from, subject, f.Error)
	}
	for _, p := range problems {
		fmt.Fprintf(w, "  PROBLEM %s\n", p)
	}
}

// renderFolders prints the per-folder lines of a restore's result.
func renderFolders(w io.Writer, folders []api.FolderResult) {
	for _, f := range folders {
		note := ""
		if f.Created {
			note = " (created)"
		}
		if f.Failed > 0 {
			note += fmt.Sprintf(" (%d not written)", f.Failed)
		}
		fmt.Fprintf(w, "  %-30s %6d messages %10s%s\n", displayName(f.Name, f.NameB64), f.Messages, units.Bytes(f.Bytes), note)
	}
}
