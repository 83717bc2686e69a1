package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/mailkeep/mailkeep/reconcile"
)

// stdinIsTerminal reports whether apply may ask for confirmation on r: a
// real terminal. Tests replace it.
var stdinIsTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}

func runApply(c *cli, args []string) int {
	fs := c.newFlags("apply", "[PATH | PLANFILE] [-auto-approve] [-allow-destructive] [-policy PATH] (and plan's flags)",
		"Applies the policy in PATH: plans (see mailkeep plan), shows the plan, asks for\nconfirmation on a terminal (or takes -auto-approve), then writes each server's\nconfig with If-Match on the ETag read at plan time, servers in parallel.\n\nWith PLANFILE (saved by plan -out) it applies that plan without asking; a server\nwhose live config moved since the plan is refused, the others proceed.\nDestructive changes are refused without -allow-destructive, and always on\nservers with protect = true.\n\nExit code 0: every server applied or unchanged; 4: some refused, none\napplied; 5: some applied, others refused, failed or unreachable; 1: error.")
	var pf planFlags
	pf.register(fs)
	autoApprove := fs.Bool("auto-approve", false, "apply without asking for confirmation")
	allowDestructive := fs.Bool("allow-destructive", false, "apply destructive changes too (never on servers with protect = true)")
	policyPath := fs.String("policy", "", "with PLANFILE: the policy to read sensitive values from (default: the one the plan was made from)")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	arg, ok := c.policyArg("apply", pos)
	if !ok || !pf.check(c, "apply") {
		return exitError
	}
	d := newDialer(c)
	defer d.close()
	ap := &reconcile.Applier{Parallelism: pf.parallelism, AllowDestructive: *allowDestructive, ClientName: clientName(c),
		Dial: func(name string, t reconcile.Target) (reconcile.Writer, error) { return d.client(name, t) }}
	if reconcile.IsPlanFile(arg) || strings.HasSuffix(arg, reconcile.PlanFileExt) {
		return c.applySaved(arg, &pf, *policyPath, ap)
	}
	if *policyPath != "" {
		fmt.Fprintf(c.stderr, "mailkeep apply: -policy goes with a saved plan; give the policy as PATH\n")
		return exitError
	}
	plan, ok := c.makePlan("apply", arg, &pf, d)
	if !ok {
		return exitError
	}
	if pf.format != "json" && !c.renderPlan("apply", plan, &pf) {
		return exitError
	}
	if pf.out != "" {
		if err := reconcile.WritePlanFile(pf.out, plan); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep apply: %v\n", err)
			return exitError
		}
	}
	if plan.HasChanges() && !*autoApprove {
		if code, ok := c.confirm(plan, *allowDestructive); !ok {
			return code
		}
	}
	return c.finishApply(plan, ap.Apply(context.Background(), plan), &pf)
}

// applySaved applies a plan file.
func (c *cli) applySaved(path string, pf *planFlags, policyPath string, ap *reconcile.Applier) int {
	if len(pf.targets) > 0 || len(pf.excludes) > 0 || pf.out != "" {
		fmt.Fprintf(c.stderr, "mailkeep apply: -target, -exclude and -out go with a policy, not with a saved plan (%s); plan again to change the selection\n", path)
		return exitError
	}
	plan, err := reconcile.ReadPlanFile(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep apply: %v\n", err)
		return exitError
	}
	if plan.NeedsPolicy() {
		if policyPath == "" {
			policyPath = plan.Policy
		}
		p := c.loadPolicy(policyPath, pf.vars.args, c.errColor(pf.noColor))
		if p == nil {
			fmt.Fprintf(c.stderr, "mailkeep apply: the plan holds sensitive values, which plan files do not store; apply reads them from the policy in %s (use -policy PATH to point elsewhere)\n", policyPath)
			return exitError
		}
		plan.Resolve(p)
	}
	if pf.format == "human" {
		fmt.Fprintf(c.stdout, "Applying the plan saved in %s (made %s from %s).\n%s\n", path,
			plan.CreatedAt.Local().Format("2006-01-02 15:04 MST"), plan.Policy, plan.Summary().Line())
	} else if pf.format == "markdown" {
		reconcile.RenderMarkdown(c.stdout, plan)
	}
	return c.finishApply(plan, ap.Apply(context.Background(), plan), pf)
}

// confirm shows what apply is about to do and asks for "yes" on a
// terminal. It returns false with the exit code when apply must stop.
func (c *cli) confirm(plan *reconcile.Plan, allowDestructive bool) (int, bool) {
	if !stdinIsTerminal(c.stdin) {
		fmt.Fprintf(c.stderr, "mailkeep apply: not applying: confirmation is asked on a terminal, and standard input is not one; review the plan and pass -auto-approve, or save it with mailkeep plan -out FILE and apply FILE\n")
		return exitError, false
	}
	s := plan.Summary()
	if s.Destructive > 0 && !allowDestructive {
		fmt.Fprintf(c.stderr, "\nServers with destructive changes will be refused: pass -allow-destructive to apply them.\n")
	}
	fmt.Fprintf(c.stderr, "\nApply these changes to %s? Only 'yes' is accepted: ", plural(s.Create+s.Update, "server"))
	answer, _ := bufio.NewReader(c.stdin).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintf(c.stderr, "Apply cancelled: nothing was changed.\n")
		return exitError, false
	}
	return 0, true
}

// finishApply prints the report and returns the exit code.
func (c *cli) finishApply(plan *reconcile.Plan, rep *reconcile.Report, pf *planFlags) int {
	if pf.format == "json" {
		if err := reconcile.RenderApplyJSON(c.stdout, plan, rep); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep apply: writing JSON: %v\n", err)
			return exitError
		}
	} else {
		fmt.Fprintln(c.stdout)
		reconcile.RenderReport(c.stdout, rep, reconcile.HumanOptions{Color: c.color(pf.noColor)})
	}
	switch rep.Result() {
	case reconcile.ResultOK:
		return exitOK
	case reconcile.ResultRefused:
		return exitRefused
	case reconcile.ResultPartial:
		return exitPartial
	}
	return exitError
}

// clientName is what each agent records as last_applied.client:
// "mailkeep apply (USER@HOST)".
func clientName(c *cli) string {
	name, _ := lookupEnv(c.environ, "USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("mailkeep apply (%s@%s)", name, host)
}
