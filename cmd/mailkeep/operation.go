package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// opRun says how to start and report one agent operation.
type opRun struct {
	cmd    string
	req    api.OperationRequest
	wait   bool
	asJSON bool
	// render prints a finished operation's result for people.
	render func(w io.Writer, op *api.Operation)
}

// runOperation starts an operation on the agent and, with -wait, follows
// it to the end with a progress bar on a terminal. Ctrl-C while waiting
// cancels the operation on the agent.
func (c *cli) runOperation(cl *client.Client, r opRun) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	op, err := cl.Start(ctx, r.req)
	if err != nil {
		if client.Busy(err) {
			fmt.Fprintf(c.stderr, "mailkeep %s: refused: %v (operation %s, started %s)\n", r.cmd, err,
				busyOp(err).ID, busyOp(err).Started.Local().Format(time.DateTime))
			return exitRefused
		}
		fmt.Fprintf(c.stderr, "mailkeep %s: %v\n", r.cmd, err)
		return exitError
	}
	if !r.wait {
		if r.asJSON {
			return c.printJSON(r.cmd, op)
		}
		fmt.Fprintf(c.stdout, "Started %s operation %s on %s.\n", r.req.Type, op.ID, cl.Name())
		return exitOK
	}
	bar := newProgressBar(c.stderr, c.errTTY && !r.asJSON)
	cancelled := false
	for op.State == api.StateRunning {
		next, err := cl.Operation(context.Background(), op.ID, time.Second)
		if err != nil {
			bar.clear()
			fmt.Fprintf(c.stderr, "mailkeep %s: following operation %s: %v\n", r.cmd, op.ID, err)
			return exitError
		}
		op = next
		bar.draw(op)
		if ctx.Err() != nil && !cancelled {
			cancelled = true
			bar.clear()
			fmt.Fprintf(c.stderr, "Interrupted: cancelling operation %s on the agent...\n", op.ID)
			if _, err := cl.Cancel(context.Background(), op.ID); err != nil {
				fmt.Fprintf(c.stderr, "mailkeep %s: cancelling: %v\n", r.cmd, err)
			}
		}
	}
	bar.clear()
	if r.asJSON {
		if code := c.printJSON(r.cmd, op); code != exitOK {
			return code
		}
	} else {
		r.render(c.stdout, op)
	}
	switch op.State {
	case api.StateSucceeded:
		return exitOK
	default:
		if !r.asJSON {
			fmt.Fprintf(c.stderr, "mailkeep %s: operation %s %s: %s\n", r.cmd, op.ID, op.State, op.Error)
		}
		return exitError
	}
}

// opCommand parses the flags of a command that runs one operation on an
// agent (it takes TARGET flags and no positional argument) and connects to
// the agent. When ok is false, code is the exit code.
func (c *cli) opCommand(fs *flag.FlagSet, name string, args []string) (cl *client.Client, code int, ok bool) {
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return nil, code, false
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "mailkeep %s: unexpected argument %q (name the agent with -agent or -server)\n", name, pos[0])
		return nil, exitError, false
	}
	if cl, ok = t.connect(c, name); !ok {
		return nil, exitError, false
	}
	return cl, 0, true
}

// busyOp returns the running operation a refused start names.
func busyOp(err error) *api.Operation {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Operation != nil {
		return ae.Operation
	}
	return &api.Operation{}
}

// printJSON writes v as indented JSON on stdout.
func (c *cli) printJSON(cmd string, v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: writing JSON: %v\n", cmd, err)
		return exitError
	}
	return exitOK
}

// progressBar draws an operation's progress on a terminal; it stays
// silent in pipes.
type progressBar struct {
	w     io.Writer
	on    bool
	drawn bool
}

func newProgressBar(w io.Writer, on bool) *progressBar { return &progressBar{w: w, on: on} }

func (p *progressBar) draw(op *api.Operation) {
	if !p.on {
		return
	}
	pr := op.Progress
	line := fmt.Sprintf("%s %s", op.Type, humanCount(pr.ItemsDone))
	if pr.ItemsTotal > 0 {
		const width = 30
		frac := float64(pr.ItemsDone) / float64(pr.ItemsTotal)
		if frac > 1 {
			frac = 1
		}
		filled := int(frac * width)
		line = fmt.Sprintf("%s [%s%s] %s/%s items", op.Type, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			humanCount(pr.ItemsDone), humanCount(pr.ItemsTotal))
	} else {
		line += " items"
	}
	line += fmt.Sprintf("  %s  %s/s", units.Bytes(pr.Bytes), units.Bytes(int64(pr.RateBytes)))
	if pr.Phase != "" {
		line += "  " + pr.Phase
	}
	if pr.Errors > 0 {
		line += fmt.Sprintf("  %d errors", pr.Errors)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func humanCount(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 100_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
