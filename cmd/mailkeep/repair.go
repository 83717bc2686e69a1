package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/runtime/repair"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

func runRepair(c *cli, args []string) int {
	fs := c.newFlags("repair", "-rebuild-catalog [-json] BACKUP_PATH",
		"Repairs a repository on this machine, with its agent stopped (it takes the\nrepository's lock).\n\n"+
			"-rebuild-catalog moves a lost or damaged catalog aside (it is kept, never\ndeleted) and rebuilds one from the pack files: every intact message comes back\n"+
			"in the folder \""+repair.RecoveredFolder+"\" of the account its Delivered-To header names,\nrecorded as deleted now, so that it stays restorable until the purge's\nretention passes. Folders, flags and history were only in the catalog: the\nreport says what could not be rebuilt. Start the agent afterwards; its next\nSmartScan records the live mail store again without storing anything twice.")
	rebuild := fs.Bool("rebuild-catalog", false, "rebuild the catalog from the pack files")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if !*rebuild || len(pos) != 1 {
		fmt.Fprintln(c.stderr, "mailkeep repair: usage: mailkeep repair -rebuild-catalog [-json] BACKUP_PATH")
		return exitError
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep repair: %v\n", err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := repair.RebuildCatalog(ctx, path, time.Now())
	if err != nil {
		var le *repo.LockedError
		if errors.As(err, &le) {
			fmt.Fprintf(c.stderr, "mailkeep repair: %v: stop the agent first\n", err)
			return exitRefused
		}
		fmt.Fprintf(c.stderr, "mailkeep repair: rebuilding the catalog of %s: %v\n", path, err)
		if rep != nil && len(rep.MovedAside) > 0 {
			fmt.Fprintf(c.stderr, "mailkeep repair: the old catalog files are kept as %v\n", rep.MovedAside)
		}
		return exitError
	}
	if *asJSON {
		return c.printJSON("repair", rep)
	}
	renderRebuild(c.stdout, rep)
	return exitOK
}

func renderRebuild(w io.Writer, rep *repair.Report) {
	fmt.Fprintf(w, "Rebuilt the catalog of %s from %d packs: %d records, %d distinct messages (%d duplicate records).\n",
		rep.Path, rep.Packs, rep.Records, rep.Blobs, rep.Duplicates)
	for _, m := range rep.MovedAside {
		fmt.Fprintf(w, "  kept the old catalog file as %s\n", m)
	}
	for _, d := range rep.Damaged {
		fmt.Fprintf(w, "  damaged, not recovered: %s\n", d)
	}
	fmt.Fprintf(w, "Accounts (each in folder %q, recorded deleted at %s):\n", repair.RecoveredFolder, rep.At.Format(time.RFC3339))
	for _, a := range rep.Accounts {
		fmt.Fprintf(w, "  %-40s %7d messages %12d bytes\n", a.Name, a.Messages, a.Bytes)
	}
	fmt.Fprintln(w, "Not recoverable from the packs (they were in the catalog only):")
	for _, n := range rep.NotRecovered {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	fmt.Fprintln(w, "Start the agent: its next SmartScan records the live mail store again.")
}
