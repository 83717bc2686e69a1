package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

func runSmartScan(c *cli, args []string) int {
	fs := c.newFlags("smartscan", "[-deep] [-wait] [-json] TARGET",
		"Starts a SmartScan on the agent: every account is walked and what changed since the\nlast scan is backed up. -deep re-reads every message and reports those whose\ncontent differs from the backup.")
	deep := fs.Bool("deep", false, "re-read and re-hash every message")
	wait := fs.Bool("wait", false, "wait for the scan to finish, showing progress on a terminal")
	asJSON := fs.Bool("json", false, "print the operation as JSON")
	cl, code, ok := c.opCommand(fs, "smartscan", args)
	if !ok {
		return code
	}
	return c.runOperation(cl, opRun{cmd: "smartscan", req: api.OperationRequest{Type: api.KindSmartScan, Deep: *deep},
		wait: *wait, asJSON: *asJSON, render: renderScan})
}

func renderScan(w io.Writer, op *api.Operation) {
	var res api.ScanResult
	if !api.DecodeResult(op, &res) {
		return
	}
	fmt.Fprintf(w, "SmartScan %s: %d accounts, %d messages: %d new, %d changed, %d moved, %d deleted, %d unchanged.\n",
		op.State, res.Accounts, res.Items, res.New, res.Changed, res.Moved, res.Deleted, res.Unchanged)
	fmt.Fprintf(w, "Read %s, stored %s in %d new blobs.", units.Bytes(res.BytesRead), units.Bytes(res.BytesStored), res.NewBlobs)
	if res.DeletedAccounts > 0 {
		fmt.Fprintf(w, " %d accounts marked deleted.", res.DeletedAccounts)
	}
	if res.Vanished > 0 {
		fmt.Fprintf(w, " %d messages vanished while being read (the next scan settles them).", res.Vanished)
	}
	fmt.Fprintln(w)
	for _, m := range res.Mismatches {
		fmt.Fprintf(w, "  content differs from the backup: %s %s/%s (backup %s, live %s)\n", m.Account, m.Folder, m.Name, m.Backup[:12], m.Live[:12])
	}
	if n := res.SkippedTotal(); n > 0 {
		reasons := slices.Sorted(maps.Keys(res.Skipped))
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%d %s", res.Skipped[r], r)
		}
		fmt.Fprintf(w, "Skipped %d files or folders (%s); their backup is kept as it was:\n", n, strings.Join(parts, ", "))
		for _, it := range res.SkippedItems {
			detail := it.Reason
			if it.Error != "" {
				detail += ": " + it.Error
			}
			fmt.Fprintf(w, "  skipped: %s %q (%s)\n", displayName(it.Account, it.AccountB64), displayName(it.Path, it.PathB64), detail)
		}
		if int64(len(res.SkippedItems)) < n {
			fmt.Fprintf(w, "  ... and %d more (the operation's JSON counts them by reason)\n", n-int64(len(res.SkippedItems)))
		}
	}
	if len(res.Busy) > 0 {
		fmt.Fprintf(w, "Not recorded, a restore was writing into them (the next scan records them): %s\n", strings.Join(res.Busy, ", "))
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}
