package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// LoadOptions carries the inputs of a policy that do not live in its files.
type LoadOptions struct {
	// Vars are the -var and -var-file arguments in command-line order.
	Vars []VarArg
	// Env is the environment, as os.Environ returns it; MAILKEEP_VAR_<name>
	// entries set variables. Nil means no environment.
	Env []string
}

// VarArg is one -var NAME=VALUE or -var-file FILE argument.
type VarArg struct {
	// File is set for -var-file; Name and Value for -var.
	File        string
	Name, Value string
}

// ParseVarArg splits a -var argument of the form NAME=VALUE.
func ParseVarArg(s string) (VarArg, error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return VarArg{}, fmt.Errorf("-var %q: expected NAME=VALUE", s)
	}
	return VarArg{Name: name, Value: value}, nil
}

// PolicyExt is the extension of policy files; VarsExt that of variable files.
const (
	PolicyExt = ".hcl"
	VarsExt   = ".mkvars"
)

// loader holds the state of one Load.
type loader struct {
	parser *hclparse.Parser
	dir    string
	opts   LoadOptions
	diags  hcl.Diagnostics

	variables map[string]*Variable
	locals    map[string]*local
	ctx       *hcl.EvalContext

	// files and bytes count what the policy read, against maxPolicyFiles
	// and maxPolicyBytes.
	files int
	bytes int64
}

// Load reads, decodes, validates and merges the policy at path: a directory
// of *.hcl files or a single file. The returned diagnostics hold every
// problem found; the policy is nil when any of them is an error.
func Load(path string, opts LoadOptions) (*Policy, hcl.Diagnostics) {
	l := &loader{parser: hclparse.NewParser(), opts: opts}
	files, err := PolicyFiles(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error()}}
	}
	if len(files) > maxPolicyFiles {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many policy files",
			Detail: fmt.Sprintf("The policy in %s has %d *%s files; mailkeep reads at most %d.", path, len(files), PolicyExt, maxPolicyFiles)}}
	}
	l.dir = path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		l.dir = filepath.Dir(path)
	}

	var bodies []hcl.Body
	for _, name := range files {
		f, stop := l.parseFile(name, "policy")
		if f != nil {
			bodies = append(bodies, f.Body)
		}
		if stop {
			break
		}
	}
	if l.diags.HasErrors() {
		return nil, l.result()
	}

	var globals []*hcl.Block
	var serverBlocks []*hcl.Block
	var localBlocks []*hcl.Block
	var varBlocks []*hcl.Block
	for _, body := range bodies {
		content, diags := body.Content(topSchema)
		l.diags = append(l.diags, diags...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "global":
				globals = append(globals, b)
			case "server":
				serverBlocks = append(serverBlocks, b)
			case "locals":
				localBlocks = append(localBlocks, b)
			case "variable":
				varBlocks = append(varBlocks, b)
			}
		}
	}

	l.decodeVariables(varBlocks)
	l.assignVariables()
	l.evalLocals(localBlocks)

	var global map[string]Value
	for i, b := range globals {
		if i > 0 {
			l.errorf(b.DefRange, "Duplicate global block",
				"A policy has one global block; another was defined at %s.", rangeString(globals[0].DefRange))
			continue
		}
		global = l.decodeGlobal(b)
	}

	var servers []*Server
	for _, b := range serverBlocks {
		servers = append(servers, l.decodeServer(b)...)
	}
	if len(serverBlocks) == 0 && !l.diags.HasErrors() {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No servers",
			Detail: fmt.Sprintf("The policy in %s declares no server block, so it applies to no agent.", path)})
	}
	servers = l.merge(global, servers)
	l.checkServers(servers)

	if l.diags.HasErrors() {
		return nil, l.result()
	}
	p := &Policy{Dir: l.dir, Files: l.parser.Files(), Servers: servers}
	for _, v := range l.variables {
		p.Variables = append(p.Variables, v)
	}
	sort.Slice(p.Variables, func(i, j int) bool { return p.Variables[i].Name < p.Variables[j].Name })
	return p, l.result()
}

// result returns the diagnostics collected so far without repeats, in
// source order: diagnostics without a location first, then by file and
// position; the values of sensitive variables are redacted.
func (l *loader) result() hcl.Diagnostics {
	out := l.redactSensitive(dedupe(l.diags))
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return out
}

// minRedacted is the length of the shortest sensitive value redacted from
// messages; shorter ones would blank out unrelated words and numbers.
const minRedacted = 3

// redactSensitive replaces the values of sensitive variables in the summary
// and detail of every diagnostic: the messages of functions and of HCL
// itself quote the values they were given.
func (l *loader) redactSensitive(diags hcl.Diagnostics) hcl.Diagnostics {
	var secrets []string
	for _, v := range l.sortedVariables() {
		if !v.Sensitive || v.Value == cty.NilVal || !v.Value.IsWhollyKnown() {
			continue
		}
		_ = cty.Walk(v.Value, func(_ cty.Path, val cty.Value) (bool, error) {
			if val.IsNull() || !val.Type().IsPrimitiveType() {
				return true, nil
			}
			if sv, err := convert.Convert(val, cty.String); err == nil && len(sv.AsString()) >= minRedacted {
				quoted := strconv.Quote(sv.AsString())
				secrets = append(secrets, sv.AsString(), quoted[1:len(quoted)-1])
			}
			return true, nil
		})
	}
	if len(secrets) == 0 {
		return diags
	}
	sort.SliceStable(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		for _, s := range secrets {
			c.Summary = strings.ReplaceAll(c.Summary, s, "(sensitive value)")
			c.Detail = strings.ReplaceAll(c.Detail, s, "(sensitive value)")
		}
		out[i] = &c
	}
	return out
}

// parseFile reads and parses one policy or variable file (what says
// which) within the
// bounds of docs/POLICY.md ("Limits"), reporting what stops it. It returns
// nil when the file cannot be read or has syntax errors, and stop when the policy has reached
// its bounds and no more files may be read.
func (l *loader) parseFile(name, what string) (f *hcl.File, stop bool) {
	summary := "Cannot read " + what + " file"
	fail := func(format string, args ...any) {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	l.files++
	if l.files > maxPolicyFiles {
		fail("%s is one file too many: mailkeep reads at most %d policy and variable files for one policy.", name, maxPolicyFiles)
		return nil, true
	}
	src, err := ReadFile(name, MaxFileBytes)
	if err != nil {
		fail("%v.", err)
		return nil, false
	}
	l.bytes += int64(len(src))
	if l.bytes > maxPolicyBytes {
		fail("%s brings the policy's files to more than %s together, the most mailkeep reads for one policy.", name, byteCount(maxPolicyBytes))
		return nil, true
	}
	if d := checkNesting(src, name); d != nil {
		l.diags = append(l.diags, d)
		return nil, false
	}
	f, diags := l.parser.ParseHCL(src, name)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	return f, false
}

// PolicyFiles lists the policy files at path: the *.hcl files of a
// directory in lexical order, or the one file named.
func PolicyFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy path %s: %w", path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("policy directory %s: %w", path, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), PolicyExt) && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("policy directory %s holds no *%s files", path, PolicyExt)
	}
	sort.Strings(files)
	return files, nil
}

var topSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "global"},
		{Type: "server", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
	},
}

func (l *loader) errorf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: &r})
}

func (l *loader) warnf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: &r})
}

// rangeString renders a range as FILE:LINE for messages.
func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// dedupe drops repeated diagnostics: a for_each block reports a problem in
// its body once, not once per instance.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		key := fmt.Sprintf("%d|%s|%s", d.Severity, d.Summary, d.Detail)
		if d.Subject != nil {
			key += "|" + d.Subject.String()
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// evalContext returns the evaluation context for policy expressions: the
// variables, the locals evaluated so far and the functions. Evaluating a
// local resets the cached context.
func (l *loader) evalContext() *hcl.EvalContext {
	if l.ctx != nil {
		return l.ctx
	}
	vars := map[string]cty.Value{}
	for name, v := range l.variables {
		val := v.Value
		if val == cty.NilVal {
			val = cty.DynamicVal
		}
		if v.Sensitive {
			val = val.Mark(sensitiveMark)
		}
		vars[name] = val
	}
	locals := map[string]cty.Value{}
	for name, lc := range l.locals {
		if lc.value != cty.NilVal {
			locals[name] = lc.value
		}
	}
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   cty.ObjectVal(vars),
			"local": cty.ObjectVal(locals),
		},
		Functions: functions,
	}
	return l.ctx
}

// sensitiveMark marks values derived from sensitive variables.
const sensitiveMark = "sensitive"
