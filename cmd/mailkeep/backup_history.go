package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/names"
)

func runBackupHistory(c *cli, args []string) int {
	fs := c.newFlags("backup history", "[-json] [-since TIME] TARGET ACCOUNT",
		"Lists an account's significant events with their times, to choose the instant of a\nrestore: created, deleted (with when the removal began), folders created, renamed\nand deleted, bulk deletions (at least 20 messages gone within a minute) and the\nrestores made into it.")
	since := fs.String("since", "", "only events from this instant on: RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] or a duration ago (2d)")
	asJSON := fs.Bool("json", false, "print the events as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	account, ok := oneAccount(c, "backup history", pos)
	if !ok {
		return exitError
	}
	if !checkInstant(c, "backup history", "-since", *since) {
		return exitError
	}
	cl, ok := t.connect(c, "backup history")
	if !ok {
		return exitError
	}
	events, err := cl.History(context.Background(), account, *since)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep backup history: %v\n", err)
		return exitError
	}
	if *asJSON {
		return c.printJSON("backup history", map[string]any{"account": account, "events": events})
	}
	if len(events) == 0 {
		fmt.Fprintf(c.stdout, "No events for %s.\n", names.Display(mustDecode(account)))
		return exitOK
	}
	for _, e := range events {
		fmt.Fprintf(c.stdout, "%s  %s\n", e.At.Local().Format(time.DateTime), describeEvent(e))
	}
	return exitOK
}

// describeEvent is one line of backup history.
func describeEvent(e api.Event) string {
	switch e.Kind {
	case api.EventAccountCreated:
		return fmt.Sprintf("account created: %d messages in %d folders", e.Messages, e.Folders)
	case api.EventAccountDeleted:
		return fmt.Sprintf("account deleted: it held %d messages in %d folders%s", e.Messages, e.Folders, beganHint(e.Began, e.At))
	case api.EventFolderCreated:
		return "folder created: " + displayName(e.Folder, e.FolderB64)
	case api.EventFolderRenamed:
		return fmt.Sprintf("folder renamed: %s -> %s", displayName(e.From, e.FromB64), displayName(e.Folder, e.FolderB64))
	case api.EventFolderDeleted:
		return fmt.Sprintf("folder deleted: %s, it held %d messages%s", displayName(e.Folder, e.FolderB64), e.Messages, beganHint(e.Began, e.At))
	case api.EventBulkDeletion:
		var per []string
		for _, f := range e.PerFolder {
			per = append(per, fmt.Sprintf("%s %d", displayName(f.Folder, f.FolderB64), f.Messages))
		}
		until := ""
		if e.Until != nil && e.Until.After(e.At) {
			until = " until " + e.Until.Local().Format(time.TimeOnly)
		}
		return fmt.Sprintf("bulk deletion: %d messages (%s)%s; restore -at %s to see them", e.Messages, strings.Join(per, ", "), until,
			e.At.Add(-time.Nanosecond).Local().Format(time.RFC3339Nano))
	case api.EventRestored:
		r := e.Restore
		what := "restore " + r.Kind
		if r.Source != "" {
			what += " from " + displayName(r.Source, r.SourceB64)
		}
		if r.Instant != nil {
			what += " as of " + r.Instant.Local().Format(time.DateTime)
		}
		return fmt.Sprintf("%s: %d messages written, %s (operation %s)", what, e.Messages, r.Outcome, r.Operation)
	}
	return e.Kind
}

// beganHint says when a removal began, and the instant to restore to get
// back what it removed.
func beganHint(began *time.Time, at time.Time) string {
	if began == nil {
		return ""
	}
	hint := "; restore -at " + began.Add(-time.Nanosecond).Local().Format(time.RFC3339Nano) + " for what it held"
	if began.Before(at) {
		return "; the removal began " + began.Local().Format(time.DateTime) + hint
	}
	return hint
}

// oneAccount checks that the positional arguments are one ACCOUNT and
// returns it as nameArg does.
func oneAccount(c *cli, cmd string, pos []string) (string, bool) {
	if len(pos) != 1 {
		fmt.Fprintf(c.stderr, "mailkeep %s: expected one ACCOUNT (user@domain or b64:BASE64), got %d arguments\n", cmd, len(pos))
		return "", false
	}
	return nameArg(c, cmd, "ACCOUNT", pos[0])
}

// checkInstant checks an instant flag as the agent will read it ("" is
// allowed: the flag was not given).
func checkInstant(c *cli, cmd, flag, s string) bool {
	if s == "" {
		return true
	}
	if _, err := api.ParseInstant(s, time.Now(), time.Local); err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: %s: %v\n", cmd, flag, err)
		return false
	}
	return true
}

// displayName shows a name that JSON carried as its Fields on a terminal
// (names.Display): as it is when it can be typed as it is, else with the
// b64: form that types it.
func displayName(name, b64 string) string {
	return names.Display(names.Exact(name, b64))
}
