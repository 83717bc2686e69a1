package schema

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const minimalPolicy = `
global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {}
`

// productDefaults are the defaults the product brief names, written out
// here rather than read from the settings table so that a changed default
// fails this test.
var productDefaults = map[string]cty.Value{
	"description":                  cty.StringVal(""),
	"backup_path":                  cty.StringVal("/opt/mailkeep/backup"),
	"realtime_scanner":             cty.True,
	"enabled_at_startup":           cty.True,
	"smartscan_at_startup":         cty.False,
	"reserved_space.backup_mb":     cty.NumberIntVal(2048),
	"reserved_space.metadata_mb":   cty.NumberIntVal(512),
	"smartscan.enabled":            cty.True,
	"smartscan.schedule":           cty.StringVal("0 4 * * *"),
	"smartscan.timezone":           cty.StringVal(""),
	"purge.enabled":                cty.True,
	"purge.schedule":               cty.StringVal("0 4 * * 6"),
	"purge.timezone":               cty.StringVal(""),
	"purge.item_retention_days":    cty.NumberIntVal(30),
	"purge.account_retention_days": cty.NumberIntVal(30),
	"include.ldap_dump":            cty.False,
	"include.server_config":        cty.False,
	"include.purge_old_configs":    cty.True,
	"index.enabled":                cty.False,
	"index.engine":                 cty.StringVal("auto"),
	"index.compression":            cty.StringVal("zstd"),
	"index.max_size_mb":            cty.NumberIntVal(0),
	"metadata.flush_on_save":       cty.True,
	"metadata.archive_in_remote":   cty.True,
	"restore.post_command":         cty.ListValEmpty(cty.String),
	"restore.post_command_user":    cty.StringVal("root"),
	"accounts.include":             cty.ListVal([]cty.Value{cty.StringVal("*")}),
	"accounts.exclude":             cty.ListValEmpty(cty.String),
	"legal_hold.accounts":          cty.ListValEmpty(cty.String),
	"remote.enabled":               cty.False,
	"remote.endpoint":              cty.StringVal(""),
	"remote.region":                cty.StringVal(""),
	"remote.bucket":                cty.StringVal(""),
	"remote.prefix":                cty.StringVal(""),
	"remote.path_style":            cty.False,
	"remote.profile":               cty.StringVal(""),
	"remote.credentials_file":      cty.StringVal(""),
}

func TestDefaults(t *testing.T) {
	p := mustLoad(t, writePolicy(t, map[string]string{"main.hcl": minimalPolicy}), LoadOptions{})
	s, ok := p.Server("mx1")
	if !ok {
		t.Fatal("no server mx1")
	}
	doc := NewDocument(s)
	m := doc.Map()
	seen := map[string]bool{}
	for _, st := range Settings() {
		seen[st.Path] = true
		if got, ok := LookupSetting(st.Path); !ok || got != st {
			t.Errorf("LookupSetting(%q) = %v, %v", st.Path, got, ok)
		}
		v := s.Value(st.Path)
		if v.Setting != st {
			t.Errorf("%s: Value.Setting is %v", st.Path, v.Setting)
		}
		if st.Required() {
			if st.Path != "mail_store" {
				t.Errorf("%s is required; the brief requires only mail_store", st.Path)
			}
			if v.Origin.Kind != FromGlobal {
				t.Errorf("mail_store comes from %s, want global", v.Origin.Kind)
			}
			continue
		}
		want, ok := productDefaults[st.Path]
		if !ok {
			t.Errorf("%s: no default listed in productDefaults", st.Path)
			continue
		}
		if !st.Default.RawEquals(want) {
			t.Errorf("%s: table default %#v, want %#v", st.Path, st.Default, want)
		}
		if !v.Val.RawEquals(want) {
			t.Errorf("%s: effective %#v, want %#v", st.Path, v.Val, want)
		}
		if v.Origin.Kind != FromDefault || v.Origin.Range != (hcl.Range{}) || v.Origin.Vars != nil || v.Origin.Sensitive {
			t.Errorf("%s: origin %+v, want a bare default", st.Path, v.Origin)
		}
		if !doc.Get(st.Path).RawEquals(want) {
			t.Errorf("%s: document holds %#v, want %#v", st.Path, doc.Get(st.Path), want)
		}
		// The nested JSON form spells every default out.
		var got any = m[st.Path]
		if b := st.Block(); b != "" {
			inner, ok := m[b].(map[string]any)
			if !ok {
				t.Errorf("%s: document has no %s object", st.Path, b)
				continue
			}
			var present bool
			got, present = inner[st.Attr()]
			if !present {
				t.Errorf("%s: missing from the document", st.Path)
			}
		} else if _, present := m[st.Path]; !present {
			t.Errorf("%s: missing from the document", st.Path)
		}
		if g, w := jsonString(t, got), jsonString(t, jsonValue(want)); g != w {
			t.Errorf("%s: document JSON %s, want %s", st.Path, g, w)
		}
	}
	for path := range productDefaults {
		if !seen[path] {
			t.Errorf("productDefaults lists %s, which is not a setting", path)
		}
	}
	if got := len(s.Values()); got != len(Settings()) {
		t.Errorf("Values() has %d entries, want %d", got, len(Settings()))
	}
	for i, v := range s.Values() {
		if v.Setting != Settings()[i] {
			t.Errorf("Values()[%d] is %s, want %s", i, v.Setting.Path, Settings()[i].Path)
		}
	}
	if s.Client.Address != DefaultAgentAddress || s.Client.Protect || len(s.Client.Fields) != 0 {
		t.Errorf("client %+v, want the default agent and nothing else", s.Client)
	}
	golden(t, "document-defaults.json", append(doc.Canonical(), '\n'))
}

func TestInheritance(t *testing.T) {
	dir := writePolicy(t, map[string]string{"main.hcl": `
global {
  mail_store       = "maildir:/var/vmail/%d/%n/Maildir"
  realtime_scanner = false
  backup_path      = "/srv/backup"

  purge {
    schedule            = "0 2 * * *"
    item_retention_days = 60
  }
}

server "inherits" {
  address = "https://a.example.com:7443"
}

server "overrides" {
  address          = "https://b.example.com:7443"
  realtime_scanner = true
  backup_path      = null # null is "not set here"

  purge {
    item_retention_days = 90
  }
}
`})
	p := mustLoad(t, dir, LoadOptions{})
	file := filepath.Join(dir, "main.hcl")
	cases := []struct {
		server, path string
		want         cty.Value
		kind         OriginKind
		line         int
	}{
		{"inherits", "realtime_scanner", cty.False, FromGlobal, 4},
		{"inherits", "purge.schedule", cty.StringVal("0 2 * * *"), FromGlobal, 8},
		{"inherits", "purge.item_retention_days", cty.NumberIntVal(60), FromGlobal, 9},
		{"inherits", "purge.account_retention_days", cty.NumberIntVal(30), FromDefault, 0},
		{"overrides", "realtime_scanner", cty.True, FromServer, 19},
		{"overrides", "backup_path", cty.StringVal("/srv/backup"), FromGlobal, 5},
		// Overriding one attribute of a nested block keeps the global
		// block's other attributes.
		{"overrides", "purge.item_retention_days", cty.NumberIntVal(90), FromServer, 23},
		{"overrides", "purge.schedule", cty.StringVal("0 2 * * *"), FromGlobal, 8},
		{"overrides", "purge.enabled", cty.True, FromDefault, 0},
	}
	for _, c := range cases {
		s, ok := p.Server(c.server)
		if !ok {
			t.Fatalf("no server %s", c.server)
		}
		v := s.Value(c.path)
		if !v.Val.RawEquals(c.want) || v.Origin.Kind != c.kind {
			t.Errorf("%s %s = %#v from %s, want %#v from %s", c.server, c.path, v.Val, v.Origin.Kind, c.want, c.kind)
		}
		if c.line != 0 && (v.Origin.Range.Filename != file || v.Origin.Range.Start.Line != c.line) {
			t.Errorf("%s %s: origin range %s, want %s line %d", c.server, c.path, v.Origin.Range, file, c.line)
		}
	}
}

func TestOrigins(t *testing.T) {
	dir := writePolicy(t, map[string]string{"main.hcl": `
variable "root" {
  default = "/srv"
}

variable "days" {
  type    = number
  default = 45
}

locals {
  base = "${var.root}/backup"
  repo = "${local.base}/mx1"
}

global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    item_retention_days = var.days
  }
}

server "mx1" {
  backup_path = local.repo
  description = "plain"
}
`})
	p := mustLoad(t, dir, LoadOptions{})
	s, _ := p.Server("mx1")
	file := filepath.Join(dir, "main.hcl")
	cases := []struct {
		path string
		kind OriginKind
		// start and end of the attribute's range, as line:column
		start, end hcl.Pos
		vars       []string
	}{
		// var.root reaches backup_path through two locals.
		{"backup_path", FromServer, hcl.Pos{Line: 25, Column: 3}, hcl.Pos{Line: 25, Column: 27}, []string{"local.base", "local.repo", "var.root"}},
		{"description", FromServer, hcl.Pos{Line: 26, Column: 3}, hcl.Pos{Line: 26, Column: 24}, []string{}},
		{"purge.item_retention_days", FromGlobal, hcl.Pos{Line: 20, Column: 5}, hcl.Pos{Line: 20, Column: 35}, []string{"var.days"}},
		{"mail_store", FromGlobal, hcl.Pos{Line: 17, Column: 3}, hcl.Pos{Line: 17, Column: 50}, []string{}},
	}
	for _, c := range cases {
		o := s.Value(c.path).Origin
		if o.Kind != c.kind {
			t.Errorf("%s: kind %s, want %s", c.path, o.Kind, c.kind)
		}
		r := o.Range
		if r.Filename != file || r.Start.Line != c.start.Line || r.Start.Column != c.start.Column ||
			r.End.Line != c.end.Line || r.End.Column != c.end.Column {
			t.Errorf("%s: range %s, want %s:%d,%d-%d,%d", c.path, r, file, c.start.Line, c.start.Column, c.end.Line, c.end.Column)
		}
		if !slices.Equal(o.Vars, c.vars) {
			t.Errorf("%s: vars %q, want %q", c.path, o.Vars, c.vars)
		}
		if o.Sensitive {
			t.Errorf("%s: sensitive without a sensitive variable", c.path)
		}
	}
	if got := s.Value("backup_path").Val.AsString(); got != "/srv/backup/mx1" {
		t.Errorf("backup_path = %q", got)
	}
	var names []string
	for _, v := range p.Variables {
		names = append(names, v.Name+"="+v.Source)
	}
	if want := []string{"days=default", "root=default"}; !slices.Equal(names, want) {
		t.Errorf("variables %q, want %q", names, want)
	}
}

func TestVariablePrecedence(t *testing.T) {
	env := []string{
		"PATH=/usr/bin", "NOEQUALS", "MAILKEEP_VAR_undeclared=ignored",
		"MAILKEEP_VAR_a=env", "MAILKEEP_VAR_b=env", "MAILKEEP_VAR_c=env",
		"MAILKEEP_VAR_d=env", "MAILKEEP_VAR_e=env", "MAILKEEP_VAR_f=env",
	}
	const dir = "testdata/policies/precedence"
	cases := []struct {
		name string
		vars []VarArg
		want map[string]string // variable -> value, source
	}{
		{
			name: "-var then -var-file then -var",
			vars: []VarArg{
				{Name: "e", Value: "cli-first"},
				{Name: "f", Value: "cli-first"},
				{File: dir + "/extra.mkvars"},
				{Name: "f", Value: "cli-last"},
			},
			want: map[string]string{
				"a": "env | environment variable MAILKEEP_VAR_a",
				"b": "mailkeep.mkvars | " + dir + "/mailkeep.mkvars:1",
				"c": "a.auto.mkvars | " + dir + "/a.auto.mkvars:1",
				"d": "b.auto.mkvars | " + dir + "/b.auto.mkvars:1",
				"e": "extra.mkvars | " + dir + "/extra.mkvars:2",
				"f": "cli-last | -var",
				"g": "default | default",
			},
		},
		{
			name: "-var-file then -var",
			vars: []VarArg{{File: dir + "/extra.mkvars"}, {Name: "e", Value: "cli"}},
			want: map[string]string{
				"e": "cli | -var",
				"f": "extra.mkvars | " + dir + "/extra.mkvars:3",
			},
		},
		{
			name: "no command line",
			want: map[string]string{
				"e": "b.auto.mkvars | " + dir + "/b.auto.mkvars:2",
				"g": "default | default",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, diags := loadFixture(t, "policies/precedence", LoadOptions{Vars: c.vars, Env: env})
			if len(diags) != 0 {
				t.Fatalf("diagnostics: %s", summarize(diags))
			}
			got := map[string]string{}
			var values []string
			for _, v := range p.Variables {
				got[v.Name] = v.Value.AsString() + " | " + v.Source
				values = append(values, v.Value.AsString())
			}
			for name, want := range c.want {
				if got[name] != want {
					t.Errorf("var.%s = %q, want %q", name, got[name], want)
				}
			}
			// The values reach the settings that use them.
			s, _ := p.Server("mx1")
			desc := s.Value("description")
			if want := strings.Join(values, " "); desc.Val.AsString() != want {
				t.Errorf("description = %q, want %q", desc.Val.AsString(), want)
			}
			if want := []string{"var.a", "var.b", "var.c", "var.d", "var.e", "var.f", "var.g"}; !slices.Equal(desc.Origin.Vars, want) {
				t.Errorf("description vars %q, want %q", desc.Origin.Vars, want)
			}
		})
	}
}

func TestComplexVariableValues(t *testing.T) {
	dir := writePolicy(t, map[string]string{"main.hcl": `
variable "ports" {
  type = list(number)
}

variable "tags" {
  type = map(string)
}

variable "cfg" {
  type = object({ days = number, cmd = list(string) })
}

variable "plain" {
  type = string
}

global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  description = "${join(",", var.ports)} ${var.tags["env"]} ${var.plain}"

  purge {
    item_retention_days = var.cfg.days
  }

  restore {
    post_command = var.cfg.cmd
  }
}

server "mx1" {}
`})
	opts := LoadOptions{
		Env: []string{`MAILKEEP_VAR_ports=[9]`},
		Vars: []VarArg{
			{Name: "ports", Value: "[1, 2, 3]"},
			{Name: "tags", Value: `merge({ env = "dev" }, { env = "prod" })`},
			{Name: "cfg", Value: `{ days = 45, cmd = ["doveadm", "force-resync", "-u", "%u", "*"] }`},
			// A string variable takes the text as it is, never as HCL.
			{Name: "plain", Value: `[not, "parsed"]`},
		},
	}
	p := mustLoad(t, dir, opts)
	s, _ := p.Server("mx1")
	if got, want := s.Value("description").Val.AsString(), `1,2,3 prod [not, "parsed"]`; got != want {
		t.Errorf("description = %q, want %q", got, want)
	}
	if got := s.Value("purge.item_retention_days").Val; !got.RawEquals(cty.NumberIntVal(45)) {
		t.Errorf("item_retention_days = %#v", got)
	}
	if got := s.Value("restore.post_command").Val.LengthInt(); got != 5 {
		t.Errorf("post_command has %d elements", got)
	}

	// The environment is parsed the same way.
	p = mustLoad(t, dir, LoadOptions{Env: opts.Env, Vars: opts.Vars[1:]})
	s, _ = p.Server("mx1")
	if got := s.Value("description").Val.AsString(); !strings.HasPrefix(got, "9 ") {
		t.Errorf("description with ports from the environment = %q", got)
	}

	for _, bad := range []struct{ value, detail string }{
		{"[1, 2", "is not a valid expression for type list(number)"},
		{`["a"]`, "does not match its type list(number)"},
	} {
		_, diags := Load(dir, LoadOptions{Vars: append([]VarArg{{Name: "ports", Value: bad.value}}, opts.Vars[1:]...)})
		if got := summarize(diags); len(got) != 1 || got[0] != "error: Invalid value for variable @ -" || !strings.Contains(diags[0].Detail, bad.detail) {
			t.Errorf("-var ports=%s: %s\n%s", bad.value, got, details(diags))
		}
	}
	// Values are literals: they may call functions but not refer to
	// variables.
	_, diags := Load(dir, LoadOptions{Vars: append([]VarArg{{Name: "ports", Value: "var.x"}}, opts.Vars[1:]...)})
	if got := summarize(diags); len(got) != 1 || got[0] != "error: Variables not allowed @ <value for var.ports>:1:1" {
		t.Errorf("-var ports=var.x: %s", got)
	}
}

func TestForEach(t *testing.T) {
	p, diags := loadFixture(t, "policies/for_each", LoadOptions{})
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %s", summarize(diags))
	}
	type row struct{ name, label, key, address, description string }
	var got []row
	for _, s := range p.Servers {
		got = append(got, row{s.Name, s.Label, s.Key, s.Client.Address, s.Value("description").Val.AsString()})
	}
	want := []row{
		{"core.lon", "core", "lon", "https://lon.core.example.com:7443", "lon"},
		{"core.par", "core", "par", "https://par.core.example.com:7443", "par"},
		{"edge.ams", "edge", "ams", "https://ams.edge.example.com:7443", "edge ams"},
		{"edge.fra", "edge", "fra", "https://fra.edge.example.com:7443", "edge fra"},
		{"relay.r1", "relay", "r1", "https://r1.relay.example.com:7443", "r1"},
		{"relay.r2", "relay", "r2", "https://r2.relay.example.com:7443", "r2"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("servers:\n got %v\nwant %v", got, want)
	}
	days := map[string]int64{"core.lon": 90, "core.par": 60, "edge.ams": 30}
	for name, want := range days {
		s, ok := p.Server(name)
		if !ok {
			t.Fatalf("no server %s", name)
		}
		v := s.Value("purge.item_retention_days")
		if n, _ := v.Val.AsBigFloat().Int64(); n != want {
			t.Errorf("%s item_retention_days = %d, want %d", name, n, want)
		}
	}
	core, _ := p.Server("core.lon")
	if o := core.Value("purge.item_retention_days").Origin; o.Kind != FromServer || !slices.Equal(o.Vars, []string{"each.value"}) {
		t.Errorf("core.lon item_retention_days origin %+v", o)
	}
	if _, ok := p.Server("edge"); ok {
		t.Error("a block with for_each must not also be a server of its bare label")
	}
}

func TestFunctions(t *testing.T) {
	exprs := []struct{ expr, want string }{
		{`format("%s-%03d", "mx", 7)`, "mx-007"},
		{`join("/", ["", "srv", "backup"])`, "/srv/backup"},
		{`lookup({ fra = "Europe/Berlin" }, "ams", "UTC")`, "UTC"},
		{`jsonencode(merge({ a = 1 }, { b = 2 }))`, `{"a":1,"b":2}`},
		{`upper(replace("mx-1", "-", "_"))`, "MX_1"},
		{`tostring(length(split(",", "a,b,c")))`, "3"},
		{`try(tonumber("x"), "fallback")`, "fallback"},
		{`join(",", sort(keys({ b = 1, a = 2 })))`, "a,b"},
		{`trimsuffix(lower("MX.Example.COM."), ".")`, "mx.example.com"},
		{`tostring(max(3, 9, 4))`, "9"},
	}
	for _, e := range exprs {
		dir := writePolicy(t, map[string]string{"main.hcl": `
global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  description = ` + e.expr + `
}
server "mx1" {}
`})
		p, diags := Load(dir, LoadOptions{})
		if p == nil {
			t.Errorf("%s: %s", e.expr, details(diags))
			continue
		}
		if got := p.Servers[0].Value("description").Val.AsString(); got != e.want {
			t.Errorf("%s = %q, want %q", e.expr, got, e.want)
		}
	}

	names := FunctionNames()
	for _, want := range []string{"format", "join", "lookup", "merge", "toset", "try", "can", "jsonencode", "regex_replace"} {
		if !slices.Contains(names, want) {
			t.Errorf("function %s is missing", want)
		}
	}
	// Nothing reads files, the environment or the clock: a policy must
	// evaluate the same on every machine.
	for _, call := range []string{`file("/etc/hostname")`, `env("HOME")`, `timestamp()`, `templatefile("x.tpl", {})`, `fileexists("/etc")`, `uuid()`} {
		name := call[:strings.IndexByte(call, '(')]
		if slices.Contains(names, name) {
			t.Errorf("FunctionNames lists %s", name)
		}
		dir := writePolicy(t, map[string]string{"main.hcl": `
global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  description = ` + call + `
}
server "mx1" {}
`})
		_, diags := Load(dir, LoadOptions{})
		if got := summarize(diags); len(got) != 1 || got[0] != "error: Call to unknown function @ main.hcl:4:17" {
			t.Errorf("%s: %s", call, got)
		}
	}
}

func TestSensitiveOrigin(t *testing.T) {
	dir := writePolicy(t, map[string]string{"main.hcl": `
variable "store" {
  type      = string
  sensitive = true
  default   = "maildir:/var/vmail/%d/%n/Maildir"
}

variable "root" {
  default = "/srv"
}

locals {
  repo = "${var.root}/${substr(var.store, 0, 3)}"
}

global {
  mail_store  = var.store
  backup_path = local.repo
}

server "mx1" {
  description = "not secret"
}
`})
	p := mustLoad(t, dir, LoadOptions{})
	s, _ := p.Server("mx1")
	for path, want := range map[string]bool{"mail_store": true, "backup_path": true, "description": false, "realtime_scanner": false} {
		if got := s.Value(path).Origin.Sensitive; got != want {
			t.Errorf("%s: Sensitive = %v, want %v", path, got, want)
		}
	}
	// The effective value itself is unmarked, ready for the document.
	if v := s.Value("backup_path").Val; v.IsMarked() || v.AsString() != "/srv/mai" {
		t.Errorf("backup_path = %#v", v)
	}
	for _, v := range p.Variables {
		if v.Sensitive != (v.Name == "store") {
			t.Errorf("var.%s: Sensitive = %v", v.Name, v.Sensitive)
		}
	}
	if vars := s.Value("backup_path").Origin.Vars; !slices.Equal(vars, []string{"local.repo", "var.root", "var.store"}) {
		t.Errorf("backup_path vars %q", vars)
	}
}

func TestClientFields(t *testing.T) {
	p, diags := loadFixture(t, "policies/full", LoadOptions{})
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %s", summarize(diags))
	}
	c := p.Servers[0].Client
	if c.Address != "https://mx1.example.com:7443" || c.TokenFile != "/etc/mailkeep/mx1.token" || c.TokenEnv != "" ||
		c.CAFile != "/etc/mailkeep/ca.pem" || !c.Protect {
		t.Errorf("client %+v", c)
	}
	var fields []string
	for f, o := range c.Fields {
		if o.Kind != FromServer || o.Range.Start.Line == 0 {
			t.Errorf("field %s: origin %+v", f, o)
		}
		fields = append(fields, f)
	}
	slices.Sort(fields)
	if want := []string{"address", "ca_file", "protect", "token_file"}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
}

func TestLoadSingleFileAndNoServers(t *testing.T) {
	p, diags := loadFixture(t, "policies/full/main.hcl", LoadOptions{})
	if len(diags) != 0 || p.Dir != filepath.Join("testdata", "policies", "full") || len(p.Servers) != 1 {
		t.Errorf("single file: dir %q, %d servers, %s", p.Dir, len(p.Servers), summarize(diags))
	}

	dir := writePolicy(t, map[string]string{"main.hcl": `global {}`})
	p, diags = Load(dir, LoadOptions{})
	if p == nil || len(p.Servers) != 0 {
		t.Fatalf("a policy without servers is valid: %s", summarize(diags))
	}
	if got := summarize(diags); !slices.Equal(got, []string{"warning: No servers @ -"}) {
		t.Errorf("diagnostics %s", got)
	}

	_, diags = Load(t.TempDir(), LoadOptions{})
	if got := summarize(diags); !slices.Equal(got, []string{"error: Cannot read policy @ -"}) || !strings.Contains(diags[0].Detail, "holds no *.hcl files") {
		t.Errorf("empty directory: %s", details(diags))
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
