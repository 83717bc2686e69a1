package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/mailkeep/mailkeep/schema"
)

// validateJSON is the output of validate -json.
type validateJSON struct {
	FormatVersion string                  `json:"format_version"`
	Valid         bool                    `json:"valid"`
	ErrorCount    int                     `json:"error_count"`
	WarningCount  int                     `json:"warning_count"`
	Servers       []string                `json:"servers"`
	Diagnostics   []schema.JSONDiagnostic `json:"diagnostics"`
}

// validateJSONVersion is the version of validate -json's format.
const validateJSONVersion = "1.0"

func runValidate(c *cli, args []string) int {
	fs := c.newFlags("validate", "[-json] [-var NAME=VALUE] [-var-file FILE] [PATH]",
		"Checks the policy in PATH (a directory of *.hcl files, default \".\", or one file)\nand reports every problem with its file, line and column.")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	noColor := fs.Bool("no-color", false, "disable colour")
	var vars varFlags
	vars.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	path, ok := c.policyArg("validate", pos)
	if !ok {
		return exitError
	}
	p, diags := schema.Load(path, schema.LoadOptions{Vars: vars.args, Env: c.environ})

	if *asJSON {
		out := validateJSON{FormatVersion: validateJSONVersion, Valid: !diags.HasErrors(), Servers: []string{},
			Diagnostics: schema.DiagnosticsJSON(diags, nil)}
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				out.ErrorCount++
			} else {
				out.WarningCount++
			}
		}
		if p != nil {
			for _, s := range p.Servers {
				out.Servers = append(out.Servers, s.Name)
			}
		}
		if code := c.printJSON("validate", out); code != exitOK {
			return code
		}
		if diags.HasErrors() {
			return exitError
		}
		return exitOK
	}

	color := c.errColor(*noColor)
	c.writeDiags(c.stderr, diags, color)
	if diags.HasErrors() {
		errs := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				errs++
			}
		}
		fmt.Fprintf(c.stderr, "The policy in %s is not valid: %s.\n", path, plural(errs, "error"))
		return exitError
	}
	fmt.Fprintf(c.stdout, "Success! The policy in %s is valid: %s.\n", path, plural(len(p.Servers), "server"))
	return exitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
