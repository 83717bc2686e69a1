package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"

	"github.com/mailkeep/mailkeep/reconcile"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/secret"
)

// planFlags are the flags plan and apply share.
type planFlags struct {
	out         string
	format      string
	vars        varFlags
	targets     []string
	excludes    []string
	parallelism int
	noColor     bool
}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.out, "out", "", "save the plan to FILE (apply it with mailkeep apply FILE)")
	fs.StringVar(&f.format, "format", "human", "output format: human, markdown or json")
	f.vars.register(fs)
	fs.Func("target", "plan only the servers whose name matches GLOB (repeatable)", func(s string) error {
		f.targets = append(f.targets, s)
		return nil
	})
	fs.Func("exclude", "leave out the servers whose name matches GLOB (repeatable)", func(s string) error {
		f.excludes = append(f.excludes, s)
		return nil
	})
	fs.IntVar(&f.parallelism, "parallelism", reconcile.DefaultParallelism, "contact at most N agents at once")
	fs.BoolVar(&f.noColor, "no-color", false, "disable colour")
}

// check validates the flag values.
func (f *planFlags) check(c *cli, cmd string) bool {
	switch f.format {
	case "human", "markdown", "json":
	default:
		fmt.Fprintf(c.stderr, "mailkeep %s: -format %q: use human, markdown or json\n", cmd, f.format)
		return false
	}
	if f.parallelism < 1 {
		fmt.Fprintf(c.stderr, "mailkeep %s: -parallelism must be at least 1, got %d\n", cmd, f.parallelism)
		return false
	}
	return true
}

func runPlan(c *cli, args []string) int {
	fs := c.newFlags("plan", "[PATH] [-out FILE] [-format human|markdown|json] [-detailed-exitcode] [-var NAME=VALUE] [-var-file FILE] [-target GLOB] [-exclude GLOB] [-parallelism N] [-no-color]",
		"Compares the policy in PATH with the live config of every server's agent and\nshows what apply would change: per server create, update, no-op or unreachable,\nper setting before and after, destructive changes with their impact, and drift\n(changes made on an agent since the last apply). -out saves the plan for\nmailkeep apply FILE.\n\nExit code 0: no changes (with -detailed-exitcode) or a plan; 2: changes\n(with -detailed-exitcode); 1: error, or a server is unreachable.")
	var pf planFlags
	pf.register(fs)
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	path, ok := c.policyArg("plan", pos)
	if !ok || !pf.check(c, "plan") {
		return exitError
	}
	d := newDialer(c)
	defer d.close()
	plan, ok := c.makePlan("plan", path, &pf, d)
	if !ok {
		return exitError
	}
	if !c.renderPlan("plan", plan, &pf) {
		return exitError
	}
	if pf.out != "" {
		if err := reconcile.WritePlanFile(pf.out, plan); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep plan: %v\n", err)
			return exitError
		}
		msg := fmt.Sprintf("Saved the plan to %s; apply it with: mailkeep apply %s\n", pf.out, pf.out)
		if pf.format == "human" {
			fmt.Fprintf(c.stdout, "\n%s", msg)
		} else {
			fmt.Fprint(c.stderr, msg)
		}
	}
	if n := plan.Summary().Unreachable; n > 0 {
		fmt.Fprintf(c.stderr, "mailkeep plan: %s could not be planned: %s\n", plural(n, "server"), unreachableNames(plan))
		return exitError
	}
	if *detailed && plan.HasChanges() {
		return exitChanges
	}
	return exitOK
}

// makePlan loads the policy, selects the servers and plans them.
func (c *cli) makePlan(cmd, path string, pf *planFlags, d *dialer) (*reconcile.Plan, bool) {
	p := c.loadPolicy(path, pf.vars.args, c.errColor(pf.noColor))
	if p == nil {
		return nil, false
	}
	servers, err := reconcile.Select(p.Servers, pf.targets, pf.excludes)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: %v\n", cmd, err)
		return nil, false
	}
	pl := &reconcile.Planner{Parallelism: pf.parallelism,
		Dial: func(name string, t reconcile.Target) (reconcile.Agent, error) { return d.client(name, t) }}
	return pl.Plan(context.Background(), p, servers, path), true
}

// renderPlan writes a plan to stdout in the chosen format.
func (c *cli) renderPlan(cmd string, plan *reconcile.Plan, pf *planFlags) bool {
	switch pf.format {
	case "json":
		if err := reconcile.RenderJSON(c.stdout, plan); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep %s: writing JSON: %v\n", cmd, err)
			return false
		}
	case "markdown":
		reconcile.RenderMarkdown(c.stdout, plan)
	default:
		reconcile.RenderHuman(c.stdout, plan, reconcile.HumanOptions{Color: c.color(pf.noColor)})
	}
	return true
}

func unreachableNames(p *reconcile.Plan) string {
	var out []string
	for _, sp := range p.Servers {
		if sp.Action == reconcile.ActionUnreachable {
			out = append(out, sp.Name)
		}
	}
	return strings.Join(out, ", ")
}

// dialer connects to the servers' agents, reading each token file once.
type dialer struct {
	c       *cli
	mu      sync.Mutex
	tokens  map[string]string
	clients map[string]*client.Client
}

func newDialer(c *cli) *dialer {
	return &dialer{c: c, tokens: map[string]string{}, clients: map[string]*client.Client{}}
}

// client returns the client of a server's agent, resolving its token from
// token_file or token_env. Errors name the server.
func (d *dialer) client(name string, t reconcile.Target) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cl, ok := d.clients[name]; ok {
		return cl, nil
	}
	if t.Address == reconcile.Redacted {
		return nil, fmt.Errorf("server %s: its address is sensitive and was not resolved from the policy", name)
	}
	target := client.Target{URL: t.Address, CAFile: t.CAFile}
	switch {
	case t.TokenFile != "":
		tok, ok := d.tokens[t.TokenFile]
		if !ok {
			var err error
			if tok, err = secret.ReadToken(t.TokenFile); err != nil {
				// The message names the file, which may be sensitive.
				msg := strings.ReplaceAll(err.Error(), t.TokenFile, t.Shown("token_file"))
				return nil, fmt.Errorf("server %s (%s): its token_file: %s", name, t.Shown("address"), msg)
			}
			d.tokens[t.TokenFile] = tok
		}
		target.Token = tok
	case t.TokenEnv != "":
		tok, err := tokenFromEnv(d.c.environ, t.TokenEnv, t.Shown("token_env"))
		if err != nil {
			return nil, fmt.Errorf("server %s (%s): it %v", name, t.Shown("address"), err)
		}
		target.Token = tok
	}
	cl, err := client.New(target)
	if err != nil {
		return nil, fmt.Errorf("server %s: %v", name, err)
	}
	d.clients[name] = cl
	return cl, nil
}

// close drops the idle connections of every client.
func (d *dialer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, cl := range d.clients {
		cl.CloseIdleConnections()
	}
}
