package schema

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// formatCases are inputs and their canonical form.
var formatCases = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"only newlines", "\n\n\n", ""},
	{"already canonical", "a = 1\n", "a = 1\n"},
	{"spacing", "a=1\nbb  =  \"x\"\n", "a  = 1\nbb = \"x\"\n"},
	{"no final newline", "a = 1", "a = 1\n"},
	{"several final newlines", "a = 1\n\n\n\n", "a = 1\n"},
	{"trailing blanks at the end", "a = 1\n  \t\n", "a = 1\n"},
	{"crlf", "a=1\r\nb = 2\r\n", "a = 1\nb = 2\n"},
	{"comment only, no newline", "# note", "# note\n"},
	{
		"nested blocks",
		"global {\npurge {\nitem_retention_days=60\naccount_retention_days = 90\n}\n}\n",
		"global {\n  purge {\n    item_retention_days    = 60\n    account_retention_days = 90\n  }\n}\n",
	},
	{
		"labels and comments",
		"server   \"mx1\"{\n  address = \"https://mx1:7443\" # primary\n  backup_path=\"/b\" # where\n}\n",
		"server \"mx1\" {\n  address     = \"https://mx1:7443\" # primary\n  backup_path = \"/b\"               # where\n}\n",
	},
	{
		"collections and expressions",
		"locals {\nnames = [\n\"a\",\n\"b\",\n]\nm = {\nx=1\nyy=2\n}\nall = [for n in local.names: upper(n) if n != \"\"]\n}\n",
		"locals {\n  names = [\n    \"a\",\n    \"b\",\n  ]\n  m = {\n    x  = 1\n    yy = 2\n  }\n  all = [for n in local.names : upper(n) if n != \"\"]\n}\n",
	},
	{
		"heredoc keeps its content",
		"x {\n  y = <<-EOT\n      keep   this\n    EOT\n    z=1\n}\n",
		"x {\n  y = <<-EOT\n      keep   this\n    EOT\n  z = 1\n}\n",
	},
	{"heredoc with crlf", "a = <<EOT\r\nline\r\nEOT\r\n", "a = <<EOT\nline\nEOT\n"},
	{"variables file", "agent_address=\"unix:///run/a.sock\"\nmail_store = \"maildir:~/Maildir\"\n",
		"agent_address = \"unix:///run/a.sock\"\nmail_store    = \"maildir:~/Maildir\"\n"},
}

func TestFormat(t *testing.T) {
	for _, tc := range formatCases {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := Format([]byte(tc.in), "t.hcl")
			if diags.HasErrors() {
				t.Fatalf("Format: %s", diags.Error())
			}
			if string(got) != tc.want {
				t.Errorf("Format(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			assertIdempotent(t, "t.hcl", got)
		})
	}
}

func TestFormatRefusesUnparsableInput(t *testing.T) {
	src := "server \"mx1\" {\n  address = \"https://mx1\"\n  backup_path = \n}\n"
	got, diags := Format([]byte(src), "policy/main.hcl")
	if got != nil {
		t.Errorf("Format returned output %q for a file that does not parse", got)
	}
	if !diags.HasErrors() {
		t.Fatal("Format returned no error diagnostics")
	}
	subj := diags[0].Subject
	if subj == nil || subj.Filename != "policy/main.hcl" || subj.Start.Line != 3 {
		t.Errorf("first diagnostic's subject is %v, want policy/main.hcl line 3", subj)
	}
}

// TestFormatFilesIdempotent formats every policy and variable file in the
// repository (the examples, the test fixtures) twice. It checks nothing
// when there are none.
func TestFormatFilesIdempotent(t *testing.T) {
	files := repoPolicyFiles(t, "..")
	t.Logf("formatting %d files", len(files))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(src, name)
		if diags.HasErrors() {
			if out != nil {
				t.Errorf("%s: output despite errors", name)
			}
			continue // a fixture of a syntax error
		}
		assertIdempotent(t, name, out)
	}
}

func TestSameTokens(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a = 1\n", "a=1", true},
		{"a = 1 # x  \n", "a = 1 # x\n", true},
		{"a = 1\n\n\n", "a = 1\n", true},
		{"a = 1\n", "a = 2\n", false},
		{"a = 1\nb = 2\n", "a = 1 b = 2\n", false},
		{"a = <<EOT\n  x\nEOT\n", "a = <<EOT\nx\nEOT\n", false},
		{"a = \"x y\"\n", "a = \"x  y\"\n", false},
	} {
		if got := sameTokens([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("sameTokens(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// assertIdempotent checks that formatting formatted text changes nothing.
func assertIdempotent(t *testing.T, name string, formatted []byte) {
	t.Helper()
	again, diags := Format(formatted, name)
	if diags.HasErrors() {
		t.Fatalf("%s: formatted text does not format: %s", name, diags.Error())
	}
	if string(again) != string(formatted) {
		t.Errorf("%s: formatting is not idempotent:\nonce  %q\ntwice %q", name, formatted, again)
	}
}

// repoPolicyFiles returns the *.hcl and *.mkvars files under root, skipping
// hidden directories.
func repoPolicyFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (filepath.Ext(p) == PolicyExt || filepath.Ext(p) == VarsExt) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing policy files under %s: %v", root, err)
	}
	return files
}
