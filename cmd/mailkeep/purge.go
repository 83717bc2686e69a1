package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

func runPurge(c *cli, args []string) int {
	fs := c.newFlags("purge", "[-dry-run] [-wait] [-json] TARGET",
		"Runs the retention purge on the agent now: deleted messages and accounts past\ntheir retention are removed, history no restore inside the window needs is\ndropped, and the space comes back. Accounts under legal hold are never purged.\n-dry-run lists what would be removed and why, and how much space would return.")
	dryRun := fs.Bool("dry-run", false, "list what would be removed and change nothing")
	wait := fs.Bool("wait", false, "wait for the purge to finish, showing progress on a terminal")
	asJSON := fs.Bool("json", false, "print the operation as JSON")
	cl, code, ok := c.opCommand(fs, "purge", args)
	if !ok {
		return code
	}
	req := api.OperationRequest{Type: api.KindPurge, RestoreRequest: api.RestoreRequest{DryRun: *dryRun}}
	return c.runOperation(cl, opRun{cmd: "purge", req: req, wait: *wait || *dryRun, asJSON: *asJSON, render: renderPurge})
}

// renderPurge prints a purge report: totals, then what was (or would be)
// removed and why.
func renderPurge(w io.Writer, op *api.Operation) {
	var res api.PurgeResult
	if !api.DecodeResult(op, &res) {
		return
	}
	verb, freed := "Purged", "freed"
	if res.DryRun {
		verb, freed = "Would purge", "would free"
	}
	fmt.Fprintf(w, "%s %d deleted messages, %d older versions and %d accounts; %s %s (%d packs deleted, %d rewritten).\n",
		verb, res.Items, res.Versions, res.Accounts, freed, units.Bytes(res.BytesFreed), res.PacksDeleted, res.PacksRewritten)
	if res.ItemCutoff != nil {
		fmt.Fprintf(w, "Items: retention %d days, everything since %s stays restorable.\n", res.ItemRetentionDays, res.ItemCutoff.Local().Format(time.DateTime))
	} else {
		fmt.Fprintln(w, "Items: item_retention_days is 0, the item purge is disabled.")
	}
	if res.AccountCutoff != nil {
		fmt.Fprintf(w, "Accounts: retention %d days, accounts deleted before %s are removed.\n", res.AccountRetentionDays, res.AccountCutoff.Local().Format(time.DateTime))
	} else {
		fmt.Fprintln(w, "Accounts: account_retention_days is 0, the account purge is disabled.")
	}
	for _, a := range res.RemovedAccounts {
		fmt.Fprintf(w, "  account %s: %s at %s, %d messages (%s)\n", displayName(a.Account, a.AccountB64), a.Reason, a.DeletedAt.Local().Format(time.DateTime), a.Messages, units.Bytes(a.Bytes))
	}
	for _, it := range res.RemovedItems {
		fmt.Fprintf(w, "  message %s %s/%s: deleted at %s\n", displayName(it.Account, it.AccountB64),
			displayName(it.Folder, it.FolderB64), displayName(it.Name, it.NameB64), it.DeletedAt.Local().Format(time.DateTime))
	}
	if res.Truncated {
		fmt.Fprintln(w, "  ... (list cut; the totals above count everything)")
	}
	for _, h := range res.Held {
		fmt.Fprintf(w, "  held: %s is under legal hold and kept whole\n", displayName(h.Account, h.AccountB64))
	}
	if res.BytesUnreferenced > 0 {
		fmt.Fprintf(w, "%s of unreferenced data stays in packs below the repack threshold; a later purge reclaims it.\n", units.Bytes(res.BytesUnreferenced))
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}
