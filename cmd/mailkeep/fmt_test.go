package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Unformatted and canonical versions of a policy file and a variables file.
const (
	rawPolicy = "server \"mx1\"{\naddress=\"https://mx1.example.com:7443\"\nbackup_path = \"/srv/backup\"\n}\n"
	fmtPolicy = "server \"mx1\" {\n  address     = \"https://mx1.example.com:7443\"\n  backup_path = \"/srv/backup\"\n}\n"
	rawVars   = "mail_store=\"maildir:~/Maildir\"\r\n"
	fmtVars   = "mail_store = \"maildir:~/Maildir\"\n"
	badPolicy = "server \"mx2\" {\n  address = \"https://mx2\"\n  backup_path = \n}\n"
)

// fmtResult is what one fmt invocation printed and returned.
type fmtResult struct {
	stdout, stderr string
	code           int
}

// runFmtCLI runs "mailkeep ARGS" in-process with stdin as standard input.
func runFmtCLI(t *testing.T, stdin string, tty bool, args ...string) fmtResult {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, environ: nil, tty: tty}
	code := c.main(args)
	return fmtResult{out.String(), errb.String(), code}
}

// fmtMakeTree creates files (relative name to contents) under a new
// temporary directory and returns it.
func fmtMakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fmtReadTree returns every file under dir, by slash-separated relative name.
func fmtReadTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fmtAssertTree checks that dir holds exactly the files want.
func fmtAssertTree(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := fmtReadTree(t, dir)
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s is missing", name)
		} else if g != w {
			t.Errorf("%s is %q, want %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
}

// fmtNames returns the names printed one per line, in order.
func fmtNames(s string) []string {
	return strings.Fields(s)
}

// fmtMixedTree is a directory with files to format, files fmt must ignore and
// a sub-directory.
func fmtMixedTree() map[string]string {
	return map[string]string{
		"main.hcl":           rawPolicy,
		"servers.hcl":        fmtPolicy,
		"mailkeep.mkvars":    rawVars,
		".hidden.hcl":        rawPolicy,
		"notes.txt":          "a=1\n",
		"sub/more.hcl":       rawPolicy,
		".git/config.hcl":    rawPolicy,
		"sub/.cache/old.hcl": rawPolicy,
	}
}

func TestFmtRewritesChangedFiles(t *testing.T) {
	dir := fmtMakeTree(t, fmtMixedTree())
	mainHCL := filepath.Join(dir, "main.hcl")
	if err := os.Chmod(mainHCL, 0o640); err != nil {
		t.Fatal(err)
	}
	mainBefore, err := os.Stat(mainHCL)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(dir, "servers.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	r := runFmtCLI(t, "", false, "fmt", dir)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	want := []string{filepath.Join(dir, "mailkeep.mkvars"), filepath.Join(dir, "main.hcl")}
	if got := fmtNames(r.stdout); !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
	tree := fmtMixedTree()
	tree["main.hcl"], tree["mailkeep.mkvars"] = fmtPolicy, fmtVars
	fmtAssertTree(t, dir, tree) // no temporary file left behind either
	after, err := os.Stat(filepath.Join(dir, "servers.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("servers.hcl was already formatted but was rewritten")
	}
	mainAfter, err := os.Stat(mainHCL)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(mainBefore, mainAfter) {
		t.Error("main.hcl was rewritten in place, not replaced by a new file")
	}
	if mainAfter.Mode().Perm() != 0o640 {
		t.Errorf("main.hcl has mode %v after formatting, want 0640", mainAfter.Mode().Perm())
	}
}

func TestFmtRecursive(t *testing.T) {
	dir := fmtMakeTree(t, fmtMixedTree())
	r := runFmtCLI(t, "", false, "fmt", "-recursive", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	want := []string{filepath.Join(dir, "mailkeep.mkvars"), filepath.Join(dir, "main.hcl"), filepath.Join(dir, "sub", "more.hcl")}
	if got := fmtNames(r.stdout); !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
	tree := fmtMixedTree()
	tree["main.hcl"], tree["mailkeep.mkvars"], tree["sub/more.hcl"] = fmtPolicy, fmtVars, fmtPolicy
	fmtAssertTree(t, dir, tree)
}

func TestFmtDefaultsToCurrentDirectory(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": rawPolicy})
	t.Chdir(dir)
	r := runFmtCLI(t, "", false, "fmt")
	if r.code != exitOK || r.stdout != "main.hcl\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	fmtAssertTree(t, dir, map[string]string{"main.hcl": fmtPolicy})
}

func TestFmtCheck(t *testing.T) {
	dir := fmtMakeTree(t, fmtMixedTree())
	r := runFmtCLI(t, "", false, "fmt", "-check", dir)
	if r.code != exitFmt {
		t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitFmt, r.stderr)
	}
	want := []string{filepath.Join(dir, "mailkeep.mkvars"), filepath.Join(dir, "main.hcl")}
	if got := fmtNames(r.stdout); !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
	fmtAssertTree(t, dir, fmtMixedTree())
}

func TestFmtCheckFormatted(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": fmtPolicy, "vars.mkvars": fmtVars})
	r := runFmtCLI(t, "", false, "fmt", "-check", "-recursive", dir)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and no output", r.code, r.stdout, r.stderr)
	}
}

func TestFmtFlagsAfterPath(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": rawPolicy})
	r := runFmtCLI(t, "", false, "fmt", dir, "-check")
	if r.code != exitFmt {
		t.Errorf("fmt DIR -check: exit %d, want %d; stderr:\n%s", r.code, exitFmt, r.stderr)
	}
	fmtAssertTree(t, dir, map[string]string{"main.hcl": rawPolicy})
}

// wantPolicyDiff is the diff of rawPolicy to fmtPolicy for main.hcl.
const wantPolicyDiff = `--- a/main.hcl
+++ b/main.hcl
@@ -1,4 +1,4 @@
-server "mx1"{
-address="https://mx1.example.com:7443"
-backup_path = "/srv/backup"
+server "mx1" {
+  address     = "https://mx1.example.com:7443"
+  backup_path = "/srv/backup"
 }
`

func TestFmtCheckDiff(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": rawPolicy, "ok.hcl": fmtPolicy})
	t.Chdir(dir)
	r := runFmtCLI(t, "", false, "fmt", "-check", "-diff")
	if r.code != exitFmt {
		t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitFmt, r.stderr)
	}
	if want := "main.hcl\n" + wantPolicyDiff; r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	fmtAssertTree(t, dir, map[string]string{"main.hcl": rawPolicy, "ok.hcl": fmtPolicy})
}

func TestFmtDiffRewrites(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": rawPolicy})
	t.Chdir(dir)
	r := runFmtCLI(t, "", false, "fmt", "-diff", "main.hcl")
	if r.code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if want := "main.hcl\n" + wantPolicyDiff; r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	fmtAssertTree(t, dir, map[string]string{"main.hcl": fmtPolicy})
}

func TestFmtDiffColor(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"main.hcl": rawPolicy})
	t.Chdir(dir)
	r := runFmtCLI(t, "", true, "fmt", "-check", "-diff")
	for _, want := range []string{
		"\x1b[1m--- a/main.hcl\x1b[0m\n",
		"\x1b[36m@@ -1,4 +1,4 @@\x1b[0m\n",
		"\x1b[31m-server \"mx1\"{\x1b[0m\n",
		"\x1b[32m+server \"mx1\" {\x1b[0m\n",
		"\n }\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("coloured diff lacks %q:\n%q", want, r.stdout)
		}
	}
	r = runFmtCLI(t, "", true, "fmt", "-check", "-diff", "-no-color")
	if want := "main.hcl\n" + wantPolicyDiff; r.stdout != want {
		t.Errorf("-no-color: stdout %q, want %q", r.stdout, want)
	}
}

func TestFmtRefusesUnparsableFiles(t *testing.T) {
	files := map[string]string{"a.hcl": rawPolicy, "b.hcl": badPolicy, "c.mkvars": rawVars}
	dir := fmtMakeTree(t, files)
	t.Chdir(dir)
	for _, args := range [][]string{{"fmt"}, {"fmt", "-check"}, {"fmt", "-diff"}} {
		r := runFmtCLI(t, "", false, args...)
		if r.code != exitError {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitError)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", args, r.stdout)
		}
		for _, want := range []string{"on b.hcl line 3", "cannot format b.hcl; no file was changed"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, r.stderr)
			}
		}
		fmtAssertTree(t, dir, files)
	}
}

func TestFmtOneFileAnyExtension(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"policy.txt": rawPolicy, "main.hcl": rawPolicy})
	name := filepath.Join(dir, "policy.txt")
	r := runFmtCLI(t, "", false, "fmt", name)
	if r.code != exitOK || r.stdout != name+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	fmtAssertTree(t, dir, map[string]string{"policy.txt": fmtPolicy, "main.hcl": rawPolicy})
}

func TestFmtStdin(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		code       int
		stdout     string
		stderrHas  string
		stderrNone bool
	}{
		{name: "formats", args: []string{"fmt", "-"}, stdin: rawVars, code: exitOK, stdout: fmtVars, stderrNone: true},
		{name: "formatted", args: []string{"fmt", "-"}, stdin: fmtVars, code: exitOK, stdout: fmtVars, stderrNone: true},
		{name: "check changed", args: []string{"fmt", "-", "-check"}, stdin: rawVars, code: exitFmt, stderrNone: true},
		{name: "check formatted", args: []string{"fmt", "-check", "-"}, stdin: fmtVars, code: exitOK, stderrNone: true},
		{
			name: "diff", args: []string{"fmt", "-diff", "-"}, stdin: "a=1\n", code: exitOK, stderrNone: true,
			stdout: "--- a/<stdin>\n+++ b/<stdin>\n@@ -1,1 +1,1 @@\n-a=1\n+a = 1\n",
		},
		{name: "unparsable", args: []string{"fmt", "-"}, stdin: badPolicy, code: exitError, stderrHas: "on <stdin> line 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFmtCLI(t, tc.stdin, false, tc.args...)
			if r.code != tc.code || r.stdout != tc.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q", r.code, r.stdout, tc.code, tc.stdout)
			}
			if tc.stderrNone && r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrHas, r.stderr)
			}
		})
	}
}

func TestFmtStdinNil(t *testing.T) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, environ: nil}
	if code := c.main([]string{"fmt", "-"}); code != exitOK || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q; want 0 and nothing for no input", code, out.String())
	}
}

func TestFmtUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"fmt", "a", "b"}, exitError, "mailkeep fmt: expected at most one PATH, got a b"},
		{[]string{"fmt", "-nope"}, exitError, "flag provided but not defined: -nope"},
		{[]string{"fmt", filepath.Join("no", "such")}, exitError, "mailkeep fmt: reading " + filepath.Join("no", "such") + ": no such file or directory"},
		{[]string{"fmt", "-h"}, exitOK, "Usage: mailkeep fmt"},
	} {
		r := runFmtCLI(t, "", false, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestFmtReportsWriteErrors(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"a.hcl": rawPolicy, "b.hcl": rawPolicy})
	t.Chdir(dir)
	replaceFile = func(name string, data []byte) error {
		if name == "a.hcl" {
			return &fs.PathError{Op: "open", Path: ".a.hcl.123.tmp", Err: fs.ErrPermission}
		}
		return writeFileAtomic(name, data)
	}
	t.Cleanup(func() { replaceFile = writeFileAtomic })
	r := runFmtCLI(t, "", false, "fmt")
	if r.code != exitError {
		t.Errorf("exit %d, want %d", r.code, exitError)
	}
	if want := "mailkeep fmt: writing a.hcl: permission denied\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if r.stdout != "b.hcl\n" {
		t.Errorf("stdout %q, want only b.hcl", r.stdout)
	}
	fmtAssertTree(t, dir, map[string]string{"a.hcl": rawPolicy, "b.hcl": fmtPolicy})
}

func TestWriteFileAtomicKeepsMode(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o755} {
		dir := t.TempDir()
		name := filepath.Join(dir, "main.hcl")
		if err := os.WriteFile(name, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil {
			t.Fatal(err)
		}
		if err := writeFileAtomic(name, []byte("new\n")); err != nil {
			t.Fatalf("writeFileAtomic: %v", err)
		}
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("mode %v after rewrite, want %v", st.Mode().Perm(), mode)
		}
		fmtAssertTree(t, dir, map[string]string{"main.hcl": "new\n"})
	}
}

func TestWriteFileAtomicFollowsSymlinks(t *testing.T) {
	dir := fmtMakeTree(t, map[string]string{"real/main.hcl": rawPolicy})
	link := filepath.Join(dir, "link.hcl")
	if err := os.Symlink(filepath.Join("real", "main.hcl"), link); err != nil {
		t.Fatalf("cannot make a symbolic link: %v", err)
	}
	if err := writeFileAtomic(link, []byte(fmtPolicy)); err != nil {
		t.Fatalf("writeFileAtomic: %v", err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link.hcl is no longer a symbolic link (%v)", err)
	}
	fmtAssertTree(t, dir, map[string]string{"real/main.hcl": fmtPolicy, "link.hcl": fmtPolicy})
}

func TestWriteFileAtomicMissingDirectory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "gone", "main.hcl")
	err := writeFileAtomic(name, []byte("x"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writeFileAtomic into a missing directory: %v, want not exist", err)
	}
}
