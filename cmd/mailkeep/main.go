// Command mailkeep is backup-policy-as-code for mail servers. On an
// administrator's machine or in CI it validates, formats and shows backup
// policies written in HCL, plans them against the live configuration each
// server's agent reports and applies them; it starts and follows the
// agents' operations (SmartScan, purge, verify, every kind of restore,
// export) and reads their repositories (backup ls, history, diff,
// search). On a mail server, `mailkeep agent` runs the agent itself, and
// `mailkeep repair` works on a repository with the agent stopped. The
// commands are listed in commands below and documented in docs/CLI.md.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/mattn/go-isatty"
)

// Exit codes shared by every command (PRODUCT.md, "Command line").
const (
	exitOK      = 0 // success; for plan, nothing to change
	exitError   = 1 // bad input, unreachable agent, internal failure
	exitChanges = 2 // plan -detailed-exitcode: changes present
	exitFmt     = 3 // fmt -check: files would change
	exitRefused = 4 // stale plan, conflict, destructive change refused, busy
	exitPartial = 5 // some servers applied, others did not
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// cli is what a command sees of the process: its streams and environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	// tty and errTTY report whether stdout and stderr are terminals
	// (colour, progress bars).
	tty, errTTY bool
}

// command is one mailkeep subcommand.
type command struct {
	name     string
	synopsis string
	run      func(c *cli, args []string) int
}

var commands = []command{
	{"validate", "check a policy and report every problem", runValidate},
	{"fmt", "rewrite policy files in the canonical format", runFmt},
	{"config", "show the effective configuration of each server (config show)", runConfig},
	{"plan", "show what apply would change on each server", runPlan},
	{"apply", "apply the policy, or a saved plan, to the servers", runApply},
	{"status", "show the server listing of every server in the policy", runStatus},
	{"agent", "run the backup agent of this mail server", runAgent},
	{"smartscan", "start a SmartScan on an agent", runSmartScan},
	{"restore", "restore an account, single items, a range of deletions or into a folder (restore account|item|undelete)", runRestore},
	{"backup", "what an agent's repository holds: backup ls, history, diff", runBackup},
	{"export", "export an account as it was at an instant: mbox, maildir or eml", runExport},
	{"verify", "check an agent's repository", runVerify},
	{"purge", "run the retention purge on an agent now", runPurge},
	{"repair", "rebuild a lost or damaged catalog from the packs, on this machine (repair -rebuild-catalog)", runRepair},
	{"version", "print the version", runVersion},
}

func main() {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), tty: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr)}
	os.Exit(c.main(os.Args[1:]))
}

// main dispatches to a subcommand and returns the exit code.
func (c *cli) main(args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		c.usage(c.stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "mailkeep: unknown command %q", name)
	if s := closest(name, commandNames()); s != "" {
		fmt.Fprintf(c.stderr, "; did you mean %q?", s)
	}
	fmt.Fprintf(c.stderr, "\nRun 'mailkeep help' for the list of commands.\n")
	return exitError
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: mailkeep COMMAND [flags] [args]\n\nCommands:\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.synopsis)
	}
	fmt.Fprintf(w, "\nRun 'mailkeep COMMAND -h' for a command's flags.\n")
}

func commandNames() []string {
	var names []string
	for _, cmd := range commands {
		names = append(names, cmd.name)
	}
	sort.Strings(names)
	return names
}

func runVersion(c *cli, args []string) int {
	fmt.Fprintf(c.stdout, "mailkeep %s\n", version)
	return exitOK
}

// closest returns the candidate sharing the longest prefix with name, if
// any shares at least two characters.
func closest(name string, candidates []string) string {
	best, bestLen := "", 1
	for _, cand := range candidates {
		n := 0
		for n < len(name) && n < len(cand) && name[n] == cand[n] {
			n++
		}
		if n > bestLen {
			best, bestLen = cand, n
		}
	}
	return best
}

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd())
}
