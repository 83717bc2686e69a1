package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/mailkeep/mailkeep/schema"
)

// newFlags returns a flag set for a subcommand that reports errors instead
// of exiting, with usage text on stderr.
func (c *cli) newFlags(name, args, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: mailkeep %s %s\n\n%s\n\nFlags:\n", name, args, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may stand before or after positional arguments,
// as in Terraform: "validate -json dir" and "validate dir -json" are the
// same. Arguments after "--" are positional. It returns the positional
// arguments, or an exit code when parsing stopped (help or a bad flag).
func parse(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitError, false
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), 0, true
		}
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// varFlags collects -var and -var-file in command-line order, since later
// ones win.
type varFlags struct {
	args []schema.VarArg
	err  error
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Func("var", "set a policy variable: NAME=VALUE (repeatable)", func(s string) error {
		a, err := schema.ParseVarArg(s)
		if err != nil {
			return err
		}
		v.args = append(v.args, a)
		return nil
	})
	fs.Func("var-file", "read policy variables from a "+schema.VarsExt+" file (repeatable)", func(s string) error {
		v.args = append(v.args, schema.VarArg{File: s})
		return nil
	})
}

// policyArg returns the single optional PATH argument, "." by default.
func (c *cli) policyArg(cmd string, pos []string) (string, bool) {
	switch len(pos) {
	case 0:
		return ".", true
	case 1:
		return pos[0], true
	}
	fmt.Fprintf(c.stderr, "mailkeep %s: expected at most one PATH, got %s\n", cmd, strings.Join(pos, " "))
	return "", false
}

// color reports whether output to stdout may use colour.
func (c *cli) color(noColor bool) bool { return c.colorOn(c.tty, noColor) }

// errColor reports whether output to stderr (diagnostics) may use colour.
func (c *cli) errColor(noColor bool) bool { return c.colorOn(c.errTTY, noColor) }

func (c *cli) colorOn(tty, noColor bool) bool {
	if noColor || !tty {
		return false
	}
	for _, kv := range c.environ {
		if strings.HasPrefix(kv, "NO_COLOR=") && len(kv) > len("NO_COLOR=") {
			return false
		}
	}
	return true
}

// loadPolicy loads a policy and prints its diagnostics to stderr. It
// returns nil when the policy has errors.
func (c *cli) loadPolicy(path string, vars []schema.VarArg, color bool) *schema.Policy {
	p, diags := schema.Load(path, schema.LoadOptions{Vars: vars, Env: c.environ})
	c.writeDiags(c.stderr, diags, color)
	if diags.HasErrors() {
		return nil
	}
	return p
}

func (c *cli) writeDiags(w io.Writer, diags hcl.Diagnostics, color bool) {
	if len(diags) > 0 {
		schema.WriteDiagnostics(w, diags, nil, color)
	}
}
