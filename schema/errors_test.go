package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// wantDiag is one expected diagnostic: its severity and summary, where its
// subject starts (file base name, line, column; "" and 0 when it has none),
// and texts its detail must contain.
type wantDiag struct {
	sev       hcl.DiagnosticSeverity
	summary   string
	file      string
	line, col int
	detail    []string
}

func (w wantDiag) String() string {
	return summarize(hcl.Diagnostics{w.diag()})[0]
}

func (w wantDiag) diag() *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: w.sev, Summary: w.summary}
	if w.file != "" {
		d.Subject = &hcl.Range{Filename: w.file, Start: hcl.Pos{Line: w.line, Column: w.col}}
	}
	return d
}

func errAt(summary, file string, line, col int, detail ...string) wantDiag {
	return wantDiag{hcl.DiagError, summary, file, line, col, detail}
}

func warnAt(summary, file string, line, col int, detail ...string) wantDiag {
	return wantDiag{hcl.DiagWarning, summary, file, line, col, detail}
}

// errorCases are the fixtures under testdata/errors and every diagnostic
// each one must produce, in the order Load reports them.
var errorCases = []struct {
	name string // defaults to dir
	dir  string
	opts LoadOptions
	want []wantDiag
	// absent are texts no summary or detail may contain.
	absent []string
}{
	{dir: "duplicate_server", want: []wantDiag{
		errAt("Duplicate server", "more.hcl", 1, 1,
			`The server name "mx1" is already used by the block at testdata/errors/duplicate_server/main.hcl:5`),
	}},
	{dir: "duplicate_server_for_each", want: []wantDiag{
		errAt("Duplicate server", "main.hcl", 10, 1,
			`The server name "edge.ams" is already used by the block at testdata/errors/duplicate_server_for_each/main.hcl:5`,
			"LABEL.KEY"),
	}},
	{dir: "duplicate_backup_path", want: []wantDiag{
		// Address compared case-insensitively, trailing slashes ignored.
		errAt("Shared backup_path", "main.hcl", 12, 3,
			`Servers "mx1" and "mx2" both reach the agent at HTTPS://MX.example.com:7443/`, `backup_path "/srv/backup/"`),
		// Both on the default backup_path: the subject is the server block.
		errAt("Shared backup_path", "main.hcl", 24, 1,
			`Servers "local-a" and "local-b"`, `backup_path "/opt/mailkeep/backup"`),
	}},
	{dir: "unknown_attribute", want: []wantDiag{
		errAt("Unsupported argument", "main.hcl", 3, 3, `An argument named "realtime_scaner" is not expected here. Did you mean "realtime_scanner"?`),
		errAt("Unsupported argument", "main.hcl", 6, 5, `Did you mean "item_retention_days"?`),
		errAt("Unsupported argument", "main.hcl", 11, 3, `Did you mean "address"?`),
	}},
	{dir: "unknown_block", want: []wantDiag{
		errAt("Unsupported block type", "main.hcl", 4, 3, `Blocks of type "purg" are not expected here. Did you mean "purge"?`),
	}},
	{dir: "wrong_types", want: []wantDiag{
		errAt("Incorrect value type", "main.hcl", 3, 22, "realtime_scanner must be true or false"),
		errAt("Incorrect value type", "main.hcl", 6, 17, "reserved_space.backup_mb must be a number"),
	}},
	{dir: "negative_retention", want: []wantDiag{
		errAt("Negative value", "main.hcl", 7, 27, "must be zero or more; got -7"),
	}},
	{dir: "negative_reserved_space", want: []wantDiag{
		errAt("Negative value", "main.hcl", 5, 19, "must be zero or more; got -512"),
	}},
	{dir: "non_whole_number", want: []wantDiag{
		errAt("Not a whole number", "main.hcl", 5, 30, "must be a whole number; got 1.5"),
	}},
	{dir: "relative_backup_path", want: []wantDiag{
		errAt("Relative path", "main.hcl", 6, 17, `The path "backup/mx1" is relative; it must be absolute`),
	}},
	{dir: "malformed_address", want: []wantDiag{
		errAt("Invalid address", "main.hcl", 6, 13, `Server "no-scheme"`, "has no scheme"),
		errAt("Invalid address", "main.hcl", 10, 13, `Server "ftp"`, `has scheme "ftp"; use http://, https:// or unix://`),
		errAt("Invalid address", "main.hcl", 14, 13, `Server "unix-relative"`, "is not unix:///absolute/path"),
		errAt("Invalid address", "main.hcl", 18, 13, `Server "http-path"`, "has a path, query or fragment"),
		errAt("Invalid address", "main.hcl", 22, 13, `Server "http-credentials"`, "carries credentials; pass the token with token_file or token_env"),
	}, absent: []string{"s3cr3t"}},
	{dir: "invalid_cron", want: []wantDiag{
		errAt("Invalid cron expression", "main.hcl", 8, 16, `"0 4 * *" has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week`),
		errAt("Invalid cron expression", "main.hcl", 15, 16, `The hour field "25" is invalid`),
		errAt("Invalid cron expression", "main.hcl", 22, 16, `The day-of-week field "9" is invalid`),
		errAt("Invalid cron expression", "main.hcl", 29, 16, `"@fortnightly" is not a known descriptor`),
		errAt("Invalid cron expression", "main.hcl", 36, 16, "sets a time zone inside the expression; use the timezone attribute instead"),
		errAt("Invalid cron expression", "main.hcl", 43, 16, `"@every 10s" runs more often than once a minute`),
		errAt("Invalid cron expression", "main.hcl", 50, 16, `"0 4 30 2 *" never runs`),
	}},
	{dir: "bad_mail_store_symlinks", want: []wantDiag{
		errAt("Unsupported value", "main.hcl", 3, 25, `The value "follow" is not one of "refuse" or "within_store".`),
	}},
	{dir: "unknown_timezone", want: []wantDiag{
		errAt("Unknown time zone", "main.hcl", 5, 16, `"Europe/Pariss" is not an IANA time zone name`),
	}},
	{dir: "invalid_mail_store", want: []wantDiag{
		// One error per bad value; no "Missing required setting" on top.
		errAt("Invalid mail_store", "main.hcl", 3, 16, `the "mbox" store format is not supported`),
		errAt("Invalid mail_store", "main.hcl", 8, 16, "the option DIRNAME= is not supported by mailkeep; supported options are INDEX=, CONTROL=, LAYOUT=, VOLATILEDIR="),
		errAt("Invalid mail_store", "main.hcl", 13, 16, `the Maildir path "var/vmail/%d/%n/Maildir" must be absolute`),
		errAt("Invalid mail_store", "main.hcl", 18, 16, "does not name the account; it must contain %u or %n"),
	}},
	{dir: "mail_store_paths", want: []wantDiag{
		errAt("Invalid mail_store", "main.hcl", 3, 16, `the Maildir path "/var/vmail/%d/../%n/Maildir" has a ".." component`),
		errAt("Invalid mail_store", "main.hcl", 8, 16, `the Maildir path "/var/vmail/%d/%n/Maildir\n" contains a line break`),
		errAt("Invalid mail_store", "main.hcl", 13, 16, `CONTROL "/var/control/../%u" has a ".." component`),
		errAt("Invalid mail_store", "main.hcl", 18, 16, `INDEX "/var/index/\x00%u" contains a NUL byte`),
	}},
	{dir: "invalid_backup_path", want: []wantDiag{
		errAt("Invalid backup_path", "main.hcl", 4, 17, `backup_path "/" is the root directory`),
		errAt("Invalid backup_path", "main.hcl", 10, 17, `backup_path "/proc/mailkeep" is in /proc, whose contents the kernel makes up`),
		errAt("Invalid backup_path", "main.hcl", 16, 17, `backup_path "/sys" is in /sys`),
		errAt("Invalid backup_path", "main.hcl", 22, 17, `backup_path "/dev/shm/backup" is in /dev`),
		errAt("Invalid backup_path", "main.hcl", 28, 17, `backup_path "/srv/backup\x00x" contains a NUL byte`),
		errAt("Invalid backup_path", "main.hcl", 34, 17, `backup_path "/srv/backup\nx" contains a line break`),
		errAt("Invalid backup_path", "main.hcl", 40, 17, `backup_path "/srv/../proc/x" has a ".." component`),
		errAt("Invalid backup_path", "main.hcl", 46, 17, `backup_path "/srv/back\tup" contains the control character "\t"`),
	}},
	{dir: "backup_path_in_store", want: []wantDiag{
		// Servers "beside" (/var/vmail-backup) and "home" (an account's
		// home, beside its Maildir) are outside the store.
		errAt("Invalid backup_path", "main.hcl", 4, 3, `Server "domain-level": backup_path "/var/vmail/backup" is inside the mail store "/var/vmail/%d/%n/Maildir", where it would be taken for an account's directory`),
		errAt("Invalid backup_path", "main.hcl", 10, 3, `Server "in-maildir": backup_path "/var/vmail/example.com/alice/Maildir/.backup" is inside an account's Maildir`),
		errAt("Invalid backup_path", "main.hcl", 16, 3, `Server "holds-store": backup_path "/var" holds the mail store`),
		errAt("Invalid backup_path", "main.hcl", 22, 3, `Server "store-base": backup_path "/var/vmail/" holds the mail store`),
		// backup_path is the default: the subject is mail_store.
		errAt("Invalid backup_path", "main.hcl", 27, 3, `Server "default-path": backup_path "/opt/mailkeep/backup" is inside an account's Maildir of the mail store "/opt/%u"`),
	}},
	{dir: "missing_mail_store", want: []wantDiag{
		errAt("Missing required setting", "main.hcl", 5, 1, `Server "mx1" has no mail_store; set it in the global block or in the server block`),
	}},
	{dir: "client_field_in_global", want: []wantDiag{
		errAt("Client-side field in global block", "main.hcl", 3, 3, "address says how plan and apply reach one agent, so it belongs in each server block"),
	}},
	{dir: "token_conflict", want: []wantDiag{
		errAt("Conflicting token references", "main.hcl", 8, 3, `Server "mx1" sets both token_file and token_env`),
	}},
	{dir: "duplicate_global", want: []wantDiag{
		errAt("Duplicate global block", "b.hcl", 2, 1, "another was defined at testdata/errors/duplicate_global/a.hcl:1"),
	}},
	{dir: "duplicate_nested_block", want: []wantDiag{
		errAt("Duplicate purge block", "main.hcl", 8, 3, "A purge block was already defined at testdata/errors/duplicate_nested_block/main.hcl:4"),
	}},
	{dir: "undeclared_variable", want: []wantDiag{
		errAt("Unsupported attribute", "main.hcl", 8, 20, `"backup_rot"`),
	}},
	{dir: "required_variable", want: []wantDiag{
		// Reported once, on the variable; mail_store, which uses it, is
		// not reported missing.
		errAt("No value for required variable", "main.hcl", 1, 1, `The variable "store" has no default`, "-var store=VALUE", "MAILKEEP_VAR_store"),
	}},
	{dir: "variable_wrong_type", want: []wantDiag{
		errAt("Invalid value for variable", "mailkeep.mkvars", 2, 13,
			`The value of "retention" from testdata/errors/variable_wrong_type/mailkeep.mkvars:2 does not match its type number`),
	}},
	{dir: "variable_validation", want: []wantDiag{
		errAt("Invalid value for variable", "main.hcl", 6, 21, "Keep deleted items for at least a week.",
			"var.retention was set by testdata/errors/variable_validation/short.auto.mkvars:1"),
	}},
	{name: "variable_validation/-var", dir: "variable_validation",
		opts: LoadOptions{Vars: []VarArg{{Name: "retention", Value: "5"}}},
		want: []wantDiag{errAt("Invalid value for variable", "main.hcl", 6, 21, "var.retention was set by -var")}},
	{name: "variable_validation/undeclared -var", dir: "variable_validation",
		opts: LoadOptions{Vars: []VarArg{{Name: "retension", Value: "10"}, {Name: "retention", Value: "10"}}},
		want: []wantDiag{errAt("Value for undeclared variable", "", 0, 0, `-var sets "retension", but no variable block declares it. Did you mean "retention"?`)}},
	{name: "variable_validation/missing -var-file", dir: "variable_validation",
		opts: LoadOptions{Vars: []VarArg{{File: "testdata/errors/no-such.mkvars"}, {Name: "retention", Value: "10"}}},
		want: []wantDiag{errAt("Cannot read variable file", "", 0, 0, "-var-file testdata/errors/no-such.mkvars: no such file")}},
	{name: "variable_validation/-var not a number", dir: "variable_validation",
		opts: LoadOptions{Vars: []VarArg{{Name: "retention", Value: "[7"}}},
		want: []wantDiag{errAt("Invalid value for variable", "", 0, 0, `The value of "retention" from -var does not match its type number`)}},
	{dir: "locals_cycle", want: []wantDiag{
		errAt("Cycle in local values", "main.hcl", 2, 11, "local.root refers to itself through local.root -> local.store -> local.root"),
	}},
	{dir: "for_each_list", want: []wantDiag{
		errAt("Invalid for_each", "main.hcl", 6, 14, `for_each of server "edge" is tuple`, "use toset() for a list"),
	}},
	{dir: "for_each_keys", want: []wantDiag{
		errAt("Invalid for_each key", "main.hcl", 6, 14, `The key "fra 1" of server "edge" cannot be part of a server name (edge.fra 1)`),
		errAt("Invalid for_each key", "main.hcl", 13, 14, `The key "-leading-dash" of server "core"`),
		errAt("Invalid for_each", "main.hcl", 18, 14, "a set must hold strings"),
	}},
	{dir: "for_each_body", want: []wantDiag{
		errAt("Negative value", "main.hcl", 11, 27, "got -1"),
	}},
	{dir: "for_each_sensitive", want: []wantDiag{
		errAt("Sensitive for_each", "main.hcl", 14, 14, `for_each of server "edge" derives from a sensitive variable`),
	}},
	{dir: "sensitive", want: []wantDiag{
		errAt("Invalid value for variable", "main.hcl", 26, 21, "the validation's error message is not shown because it contains a sensitive value"),
		errAt("Invalid mail_store", "main.hcl", 36, 16, "it comes from a sensitive variable, so it is not shown", "var.store (set by testdata/errors/sensitive/secrets.auto.mkvars:1)"),
		errAt("Invalid function argument", "main.hcl", 39, 26, `cannot convert "(sensitive value)" to number`),
		errAt("Invalid address", "main.hcl", 48, 13, "it comes from a sensitive variable, so it is not shown"),
		errAt("Relative path", "main.hcl", 53, 17, "it comes from a sensitive variable, so it is not shown"),
		errAt("Invalid value for variable", "secrets.auto.mkvars", 4, 13, `The value of "count"`),
	}, absent: []string{"hunter2", "4242"}},
	{dir: "multi_file", want: []wantDiag{
		errAt("Unsupported argument", "a_global.hcl", 8, 3, `"realtime_scan"`),
		errAt("Negative value", "a_global.hcl", 12, 30, "got -1"),
		errAt("Invalid address", "b_servers.hcl", 2, 13, `has scheme "ftp"`),
		errAt("Invalid cron expression", "b_servers.hcl", 5, 16, `The day-of-week field "mon-fry" is invalid`),
		errAt("Relative path", "b_servers.hcl", 11, 17, `"srv/backup"`),
		errAt("Invalid value for variable", "terraform.auto.mkvars", 1, 13, `The value of "retention"`),
		warnAt("Value for undeclared variable", "terraform.auto.mkvars", 2, 1, `Did you mean "retention"?`),
	}},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		name := tc.name
		if name == "" {
			name = tc.dir
		}
		t.Run(name, func(t *testing.T) {
			_, diags := loadFixture(t, filepath.Join("errors", tc.dir), tc.opts)
			got := summarize(diags)
			var want []string
			for _, w := range tc.want {
				want = append(want, w.String())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("diagnostics:\n  got  %s\n  want %s\ndetails:\n%s",
					strings.Join(got, "\n       "), strings.Join(want, "\n       "), details(diags))
			}
			for i, w := range tc.want {
				for _, sub := range w.detail {
					if !strings.Contains(diags[i].Detail, sub) {
						t.Errorf("diagnostic %d (%s): detail %q does not contain %q", i, got[i], diags[i].Detail, sub)
					}
				}
			}
			for _, d := range diags {
				for _, s := range tc.absent {
					if strings.Contains(d.Summary+"\n"+d.Detail, s) {
						t.Errorf("diagnostic %q shows %q: %s", d.Summary, s, d.Detail)
					}
				}
			}
		})
	}
}

func details(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s: %s\n", d.Summary, d.Detail)
	}
	return b.String()
}

// TestErrorFixturesAllUsed keeps fixtures and table in step: a fixture no
// case loads tests nothing.
func TestErrorFixturesAllUsed(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "errors", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	used := map[string]bool{}
	for _, tc := range errorCases {
		used[tc.dir] = true
	}
	for _, d := range dirs {
		if !used[filepath.Base(d)] {
			t.Errorf("fixture %s has no case in errorCases", d)
		}
	}
}

// TestAllErrorsReported checks that one run reports the problems of every
// file, not just the first one found.
func TestAllErrorsReported(t *testing.T) {
	_, diags := loadFixture(t, "errors/multi_file", LoadOptions{})
	files := map[string]int{}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			files[filepath.Base(d.Subject.Filename)]++
		}
	}
	want := map[string]int{"a_global.hcl": 2, "b_servers.hcl": 3, "terraform.auto.mkvars": 1}
	if fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("errors per file: got %v, want %v", files, want)
	}
}

// TestDiagnosticsRendering pins the text and JSON forms of diagnostics
// from several files, with and without a source range.
func TestDiagnosticsRendering(t *testing.T) {
	opts := LoadOptions{Vars: []VarArg{{Name: "colour", Value: "blue"}}}
	_, diags := loadFixture(t, "errors/multi_file", opts)
	if diags[0].Subject != nil {
		t.Fatalf("want the -var error without a range first, got %s", summarize(diags)[0])
	}

	var text bytes.Buffer
	WriteDiagnostics(&text, diags, nil, false)
	golden(t, "multi_file.txt", text.Bytes())

	var color bytes.Buffer
	WriteDiagnostics(&color, diags, nil, true)
	golden(t, "multi_file.color.txt", color.Bytes())
	if plain := stripANSI(color.String()); plain != text.String() {
		t.Errorf("colored output without its escapes differs from the plain output:\n%s", plain)
	}

	js, err := json.MarshalIndent(DiagnosticsJSON(diags, nil), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "multi_file.json", append(js, '\n'))

	// The JSON form says what the text form says.
	for i, jd := range DiagnosticsJSON(diags, nil) {
		d := diags[i]
		if jd.Summary != d.Summary || jd.Detail != d.Detail {
			t.Errorf("JSON diagnostic %d: %q/%q, want %q/%q", i, jd.Summary, jd.Detail, d.Summary, d.Detail)
		}
		if (jd.Range == nil) != (d.Subject == nil) {
			t.Errorf("JSON diagnostic %d: range %v for subject %v", i, jd.Range, d.Subject)
			continue
		}
		if jd.Range == nil {
			continue
		}
		if jd.Range.Start.Line != d.Subject.Start.Line || jd.Range.Start.Column != d.Subject.Start.Column {
			t.Errorf("JSON diagnostic %d: range %+v, subject %s", i, jd.Range, d.Subject)
		}
		sn := jd.Snippet
		if sn == nil {
			t.Errorf("JSON diagnostic %d has a range but no snippet", i)
			continue
		}
		src, err := os.ReadFile(d.Subject.Filename)
		if err != nil {
			t.Fatal(err)
		}
		highlighted := sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset]
		if want := string(src[d.Subject.Start.Byte:d.Subject.End.Byte]); highlighted != want {
			t.Errorf("JSON diagnostic %d highlights %q, want %q", i, highlighted, want)
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestSensitiveNeverShown gives the sensitive fixture's secrets through
// the environment and -var rather than a file, so that no source snippet
// can hold them either, and checks that they appear nowhere in the text or
// JSON output.
func TestSensitiveNeverShown(t *testing.T) {
	src, err := os.ReadFile("testdata/errors/sensitive/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := writePolicy(t, map[string]string{"main.hcl": string(src)})
	opts := LoadOptions{
		Env: []string{"MAILKEEP_VAR_store=mbox:/hunter2-store/%u", "MAILKEEP_VAR_agent=ftp://hunter2-agent:21"},
		Vars: []VarArg{
			{Name: "size", Value: "hunter2-size"},
			{Name: "count", Value: "hunter2-count"},
			{Name: "retention", Value: "4242"},
		},
	}
	p, diags := Load(dir, opts)
	if p != nil || len(diags) != 6 {
		t.Fatalf("want 6 errors, got:\n%s", details(diags))
	}
	var out bytes.Buffer
	WriteDiagnostics(&out, diags, nil, false)
	js, err := json.Marshal(DiagnosticsJSON(diags, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "4242"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("text output shows %q:\n%s", secret, out.String())
		}
		if bytes.Contains(js, []byte(secret)) {
			t.Errorf("JSON output shows %q:\n%s", secret, js)
		}
	}
}
