package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/mailkeep/mailkeep/schema"
)

// configShowVersion is the version of config show -json's format.
const configShowVersion = "1.0"

// redacted replaces sensitive values in every output.
const redacted = "(sensitive)"

func runConfig(c *cli, args []string) int {
	if len(args) == 0 || args[0] != "show" {
		fmt.Fprintf(c.stderr, "Usage: mailkeep config show [-server NAME] [-json] [PATH]\n")
		if len(args) == 0 || args[0] == "-h" || args[0] == "-help" {
			return exitOK
		}
		return exitError
	}
	fs := c.newFlags("config show", "[-server NAME] [-json] [-var NAME=VALUE] [-var-file FILE] [PATH]",
		"Shows each server's effective configuration: every setting with its value and\nwhere the value came from (default, global or server block, and the variables\nit was computed from), plus the config document the agent will receive.")
	asJSON := fs.Bool("json", false, "print the effective configs and agent documents as JSON")
	only := fs.String("server", "", "show only this server")
	noColor := fs.Bool("no-color", false, "disable colour")
	var vars varFlags
	vars.register(fs)
	pos, code, ok := parse(fs, args[1:])
	if !ok {
		return code
	}
	path, ok := c.policyArg("config show", pos)
	if !ok {
		return exitError
	}
	p := c.loadPolicy(path, vars.args, c.errColor(*noColor))
	if p == nil {
		return exitError
	}
	servers := p.Servers
	if *only != "" {
		s, found := p.Server(*only)
		if !found {
			fmt.Fprintf(c.stderr, "mailkeep config show: the policy in %s has no server %q; it has %s\n", path, *only, serverList(p))
			return exitError
		}
		servers = []*schema.Server{s}
	}
	if *asJSON {
		out := configJSON{FormatVersion: configShowVersion, Servers: []serverJSON{}, Variables: []variableJSON{}}
		for _, s := range servers {
			out.Servers = append(out.Servers, newServerJSON(s))
		}
		for _, v := range p.Variables {
			out.Variables = append(out.Variables, newVariableJSON(v))
		}
		return c.printJSON("config show", out)
	}
	for i, s := range servers {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		writeServer(c.stdout, s)
	}
	writeVariables(c.stdout, p.Variables)
	return exitOK
}

// writeVariables prints the policy's variables, their values and what set
// them.
func writeVariables(w io.Writer, vars []*schema.Variable) {
	if len(vars) == 0 {
		return
	}
	fmt.Fprintf(w, "\nvariables\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range vars {
		fmt.Fprintf(tw, "  %s\tset by %s\t= %s\n", v.Name, v.Source, variableText(v))
	}
	tw.Flush()
}

// variableText renders a variable's value on one line, redacted when the
// variable is sensitive.
func variableText(v *schema.Variable) string {
	if v.Sensitive {
		return redacted
	}
	b, err := ctyjson.Marshal(v.Value, v.Value.Type())
	if err != nil {
		return v.Value.GoString()
	}
	if v.Value.Type() == cty.String {
		return hclQuote(v.Value.AsString())
	}
	return string(b)
}

func serverList(p *schema.Policy) string {
	names := make([]string, 0, len(p.Servers))
	for _, s := range p.Servers {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// writeServer prints one server's effective configuration for people.
func writeServer(w io.Writer, s *schema.Server) {
	fmt.Fprintf(w, "server %q", s.Name)
	if s.Key != "" {
		fmt.Fprintf(w, "  (for_each key %q of server %q at", s.Key, s.Label)
	} else {
		fmt.Fprintf(w, "  (at")
	}
	fmt.Fprintf(w, " %s:%d)\n", s.DeclRange.Filename, s.DeclRange.Start.Line)

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  client\t\t\n")
	for _, f := range clientRows(s) {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", f.name, f.value, originText(f.origin))
	}
	fmt.Fprintf(tw, "  settings\t\t\n")
	inactive := false
	for _, v := range s.Values() {
		mark := ""
		if !v.Setting.Active {
			mark, inactive = " *", true
		}
		fmt.Fprintf(tw, "    %s%s\t%s\t%s\n", v.Setting.Path, mark, valueText(v.Val, v.Origin.Sensitive), originText(v.Origin))
	}
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	doc := schema.NewDocument(s)
	fmt.Fprintf(w, "  agent document etag %s\n", doc.ETag())
	if inactive {
		fmt.Fprintf(w, "  * accepted and stored, but not active in this version of mailkeep\n")
	}
}

type clientRow struct {
	name, value string
	origin      schema.Origin
}

// clientRows lists the client-side fields that matter for a server.
func clientRows(s *schema.Server) []clientRow {
	get := func(name, value string) clientRow {
		o, ok := s.Client.Fields[name]
		if !ok {
			o = schema.Origin{Kind: schema.FromDefault}
		}
		return clientRow{name, value, o}
	}
	rows := []clientRow{get("address", s.Client.Address)}
	switch {
	case s.Client.TokenFile != "":
		rows = append(rows, get("token_file", s.Client.TokenFile))
	case s.Client.TokenEnv != "":
		rows = append(rows, get("token_env", s.Client.TokenEnv))
	default:
		rows = append(rows, get("token", "none"))
	}
	if s.Client.CAFile != "" {
		rows = append(rows, get("ca_file", s.Client.CAFile))
	}
	rows = append(rows, get("protect", fmt.Sprint(s.Client.Protect)))
	for i := range rows {
		if rows[i].origin.Sensitive {
			rows[i].value = redacted
		}
	}
	return rows
}

// originText renders an origin: "global  main.hcl:12  via var.root".
func originText(o schema.Origin) string {
	if o.Kind == schema.FromDefault {
		return "default"
	}
	s := fmt.Sprintf("%-6s  %s:%d", o.Kind, o.Range.Filename, o.Range.Start.Line)
	if len(o.Vars) > 0 {
		s += "  via " + strings.Join(o.Vars, ", ")
	}
	return s
}

// valueText renders a value in HCL syntax.
func valueText(v cty.Value, sensitive bool) string {
	if sensitive {
		return redacted
	}
	switch {
	case v.IsNull():
		return "null"
	case v.Type() == cty.String:
		return hclQuote(v.AsString())
	case v.Type() == cty.Bool:
		return fmt.Sprint(v.True())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type().IsListType():
		parts := []string{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, valueText(e, false))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return v.GoString()
}

// hclQuote quotes a string as an HCL string literal.
func hclQuote(s string) string {
	q, _ := json.Marshal(s)
	out := strings.ReplaceAll(string(q), "${", "$${")
	out = strings.ReplaceAll(out, "%{", "%%{")
	out = strings.ReplaceAll(out, `\u003c`, "<")
	out = strings.ReplaceAll(out, `\u003e`, ">")
	return strings.ReplaceAll(out, `\u0026`, "&")
}

// configJSON is the output of config show -json.
type configJSON struct {
	FormatVersion string         `json:"format_version"`
	Servers       []serverJSON   `json:"servers"`
	Variables     []variableJSON `json:"variables"`
}

type variableJSON struct {
	Name        string          `json:"name"`
	Value       json.RawMessage `json:"value"`
	Sensitive   bool            `json:"sensitive"`
	Source      string          `json:"source"`
	Description string          `json:"description"`
}

func newVariableJSON(v *schema.Variable) variableJSON {
	out := variableJSON{Name: v.Name, Sensitive: v.Sensitive, Source: v.Source, Description: v.Description}
	raw := []byte(`"` + redacted + `"`)
	if !v.Sensitive {
		if b, err := ctyjson.Marshal(v.Value, v.Value.Type()); err == nil {
			raw = b
		}
	}
	out.Value = raw
	return out
}

type serverJSON struct {
	Name       string         `json:"name"`
	Label      string         `json:"label"`
	Key        *string        `json:"for_each_key"`
	DeclaredAt sourceJSON     `json:"declared_at"`
	Client     []settingJSON  `json:"client"`
	Settings   []settingJSON  `json:"settings"`
	Document   map[string]any `json:"document"`
	ETag       string         `json:"etag"`
}

type settingJSON struct {
	Path      string     `json:"path"`
	Value     any        `json:"value"`
	Sensitive bool       `json:"sensitive"`
	Active    *bool      `json:"active,omitempty"`
	Origin    originJSON `json:"origin"`
}

type originJSON struct {
	Kind      string      `json:"kind"`
	Source    *sourceJSON `json:"source"`
	Variables []string    `json:"variables"`
}

type sourceJSON struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

func newServerJSON(s *schema.Server) serverJSON {
	out := serverJSON{
		Name: s.Name, Label: s.Label,
		DeclaredAt: sourceJSON{filepath.ToSlash(s.DeclRange.Filename), s.DeclRange.Start.Line, s.DeclRange.Start.Column},
		Client:     []settingJSON{}, Settings: []settingJSON{},
	}
	if s.Key != "" {
		k := s.Key
		out.Key = &k
	}
	for _, r := range clientRows(s) {
		var val any = r.value
		if r.name == "protect" {
			val = s.Client.Protect
		}
		if r.name == "token" {
			continue
		}
		if r.origin.Sensitive {
			val = redacted
		}
		out.Client = append(out.Client, settingJSON{Path: r.name, Value: val, Sensitive: r.origin.Sensitive, Origin: newOriginJSON(r.origin)})
	}
	doc := schema.NewDocument(s)
	out.Document = doc.Map()
	out.ETag = doc.ETag()
	for _, v := range s.Values() {
		active := v.Setting.Active
		js := settingJSON{Path: v.Setting.Path, Value: docValue(out.Document, v.Setting), Sensitive: v.Origin.Sensitive,
			Active: &active, Origin: newOriginJSON(v.Origin)}
		if v.Origin.Sensitive {
			js.Value = redacted
			setDocValue(out.Document, v.Setting, redacted)
		}
		out.Settings = append(out.Settings, js)
	}
	return out
}

func newOriginJSON(o schema.Origin) originJSON {
	out := originJSON{Kind: string(o.Kind), Variables: []string{}}
	if o.Kind != schema.FromDefault {
		out.Source = &sourceJSON{filepath.ToSlash(o.Range.Filename), o.Range.Start.Line, o.Range.Start.Column}
	}
	if o.Vars != nil {
		out.Variables = o.Vars
	}
	return out
}

func docValue(doc map[string]any, st *schema.Setting) any {
	if b := st.Block(); b != "" {
		return doc[b].(map[string]any)[st.Attr()]
	}
	return doc[st.Path]
}

func setDocValue(doc map[string]any, st *schema.Setting, v any) {
	if b := st.Block(); b != "" {
		doc[b].(map[string]any)[st.Attr()] = v
		return
	}
	doc[st.Path] = v
}
