package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
)

func runBackup(c *cli, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "ls":
			return runBackupLs(c, args)
		case "history":
			return runBackupHistory(c, args[1:])
		case "diff":
			return runBackupDiff(c, args[1:])
		case "search":
			return runBackupSearch(c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "Usage: mailkeep backup ls [-json] TARGET [ACCOUNT]\n"+
		"       mailkeep backup history [-json] [-since TIME] TARGET ACCOUNT\n"+
		"       mailkeep backup diff [-json] TARGET ACCOUNT -from TIME [-to TIME]\n"+
		"       mailkeep backup search [-json] TARGET ACCOUNT [-sender ADDR] [-recipient ADDR] [-subject TEXT] ...\n")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help") {
		return exitOK
	}
	return exitError
}

func runBackupLs(c *cli, args []string) int {
	fs := c.newFlags("backup ls", "[-json] TARGET [ACCOUNT]",
		"Lists the backed-up accounts: items, folders, bytes, first and last backup, the\nearliest instant a restore gives whole (retention purges history before it),\nand when a deleted account was deleted: when its removal began, if it reached the\nbackup in several steps (restore account restores the instant before it).")
	asJSON := fs.Bool("json", false, "print the listing as JSON")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) > 1 {
		fmt.Fprintf(c.stderr, "mailkeep backup ls: expected at most one ACCOUNT\n")
		return exitError
	}
	account := ""
	if len(pos) == 1 {
		if account, ok = nameArg(c, "backup ls", "ACCOUNT", pos[0]); !ok {
			return exitError
		}
	}
	cl, ok := t.connect(c, "backup ls")
	if !ok {
		return exitError
	}
	list, err := cl.Accounts(context.Background(), account)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep backup ls: %v\n", err)
		return exitError
	}
	if *asJSON {
		return c.printJSON("backup ls", map[string]any{"accounts": list})
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tITEMS\tFOLDERS\tSIZE\tFIRST BACKUP\tLAST BACKUP\tRESTORABLE FROM\tDELETED")
	for _, a := range list {
		deleted := "-"
		switch {
		case a.DeletedAt != nil:
			deleted = a.DeletedAt.Local().Format(time.DateTime) + began(a.DeletionBegan, *a.DeletedAt)
		case a.LastDeletion != nil:
			deleted = "back since; last deleted " + a.LastDeletion.Local().Format(time.DateTime) + began(a.DeletionBegan, *a.LastDeletion)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", displayName(a.Name, a.NameB64), a.Items, a.Folders, units.Bytes(a.Bytes),
			a.FirstBackup.Local().Format(time.DateTime), a.LastBackup.Local().Format(time.DateTime),
			a.RestorableFrom.Local().Format(time.DateTime), deleted)
	}
	tw.Flush()
	return exitOK
}

// began describes when a deletion began, when it began before the
// instant it was recorded complete.
func began(t *time.Time, deleted time.Time) string {
	if t == nil || !t.Before(deleted) {
		return ""
	}
	return " (removal began " + t.Local().Format(time.DateTime) + ")"
}
