package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailkeep/mailkeep/internal/textdiff"
	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/schema"
)

// stdinName names standard input in diagnostics and diffs.
const stdinName = "<stdin>"

// diffContext is the number of unchanged lines around each change in -diff.
const diffContext = 3

// fmtOptions are fmt's flags.
type fmtOptions struct {
	check, diff, recursive, color bool
}

// fmtFile is one file read and formatted: its name, contents and
// canonical form.
type fmtFile struct {
	name     string
	src, out []byte
}

// changed reports whether formatting changes the file.
func (f fmtFile) changed() bool { return !bytes.Equal(f.src, f.out) }

// replaceFile rewrites a file; tests replace it to simulate failures.
var replaceFile = writeFileAtomic

// runFmt implements "mailkeep fmt": it rewrites policy and variable files
// in the canonical format, or with -check reports which would change.
func runFmt(c *cli, args []string) int {
	opts, path, code, ok := c.parseFmtArgs(args)
	if !ok {
		return code
	}
	if path == "-" {
		return c.fmtStdin(opts)
	}
	names, err := fmtFileNames(path, opts.recursive)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep fmt: %v\n", err)
		return exitError
	}
	files, ok := c.formatFiles(names, opts.color)
	if !ok {
		return exitError
	}
	return c.applyFormat(files, opts)
}

// parseFmtArgs parses fmt's flags and PATH. When it reports false, the
// command ends with the returned exit code.
func (c *cli) parseFmtArgs(args []string) (fmtOptions, string, int, bool) {
	flags := c.newFlags("fmt", "[-check] [-diff] [-recursive] [-no-color] [PATH]",
		"Rewrites the policy files (*"+schema.PolicyExt+") and variable files (*"+schema.VarsExt+") in PATH in the\n"+
			"canonical format and prints the name of each file it changed. PATH is a\n"+
			"directory (default \".\"), one file, or \"-\" to format standard input to\n"+
			"standard output. If any file does not parse, no file is changed.\n\n"+
			"Exit status: 0 on success, 1 on an error, 3 with -check when a file would change.")
	var opts fmtOptions
	flags.BoolVar(&opts.check, "check", false, "change no file; list the files that would change and exit 3 if any")
	flags.BoolVar(&opts.diff, "diff", false, "print the changes as a unified diff")
	flags.BoolVar(&opts.recursive, "recursive", false, "also format the files in sub-directories (not hidden ones)")
	noColor := flags.Bool("no-color", false, "disable colour")
	pos, code, ok := parse(flags, args)
	if !ok {
		return opts, "", code, false
	}
	path, ok := c.policyArg("fmt", pos)
	if !ok {
		return opts, "", exitError, false
	}
	opts.color = c.color(*noColor)
	return opts, path, exitOK, true
}

// fmtStdin formats standard input. It writes the result to stdout, or with
// -diff the diff instead; with -check it writes no result and exits 3 when
// the input is not formatted.
func (c *cli) fmtStdin(opts fmtOptions) int {
	var src []byte
	if c.stdin != nil {
		var err error
		if src, err = schema.ReadAllLimited(c.stdin, "standard input", schema.MaxFileBytes); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep fmt: reading standard input: %v\n", err)
			return exitError
		}
	}
	f, ok := c.formatOne(stdinName, src, opts.color)
	if !ok {
		fmt.Fprintf(c.stderr, "mailkeep fmt: cannot format standard input.\n")
		return exitError
	}
	if opts.diff {
		c.writeDiff(f, opts.color)
	}
	if !opts.check && !opts.diff {
		if _, err := c.stdout.Write(f.out); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep fmt: writing standard output: %v\n", err)
			return exitError
		}
	}
	if opts.check && f.changed() {
		return exitFmt
	}
	return exitOK
}

// formatFiles reads and formats every file. It reports false, after
// printing every read error and diagnostic, when any file could not be
// read or does not parse.
func (c *cli) formatFiles(names []string, color bool) ([]fmtFile, bool) {
	var files []fmtFile
	var failed []string
	for _, name := range names {
		src, err := schema.ReadFile(name, schema.MaxFileBytes)
		if err != nil {
			fmt.Fprintf(c.stderr, "mailkeep fmt: reading %s: %v\n", name, cause(err))
			failed = append(failed, name)
			continue
		}
		f, ok := c.formatOne(name, src, color)
		if !ok {
			failed = append(failed, name)
			continue
		}
		files = append(files, f)
	}
	if len(failed) > 0 {
		fmt.Fprintf(c.stderr, "mailkeep fmt: cannot format %s; no file was changed.\n", strings.Join(failed, ", "))
		return nil, false
	}
	return files, true
}

// formatOne formats src, printing its diagnostics to stderr. It reports
// false when src has errors.
func (c *cli) formatOne(name string, src []byte, color bool) (fmtFile, bool) {
	out, diags := schema.Format(src, name)
	if len(diags) > 0 {
		schema.WriteDiagnostics(c.stderr, diags, schema.SourcesOf(name, src), color)
	}
	if diags.HasErrors() {
		return fmtFile{}, false
	}
	return fmtFile{name: name, src: src, out: out}, true
}

// applyFormat prints, and unless -check rewrites, each file that
// formatting changes. It returns exitFmt for -check when a file would
// change and exitError when a file could not be written.
func (c *cli) applyFormat(files []fmtFile, opts fmtOptions) int {
	code, changed := exitOK, false
	for _, f := range files {
		if !f.changed() {
			continue
		}
		changed = true
		if !opts.check {
			if err := replaceFile(f.name, f.out); err != nil {
				fmt.Fprintf(c.stderr, "mailkeep fmt: writing %s: %v\n", f.name, cause(err))
				code = exitError
				continue
			}
		}
		fmt.Fprintln(c.stdout, f.name)
		if opts.diff {
			c.writeDiff(f, opts.color)
		}
	}
	if code == exitOK && opts.check && changed {
		return exitFmt
	}
	return code
}

// writeDiff prints the unified diff of f's formatting to stdout.
func (c *cli) writeDiff(f fmtFile, color bool) {
	name := filepath.ToSlash(f.name)
	d := textdiff.Unified("a/"+name, "b/"+name, f.src, f.out, diffContext)
	if color {
		d = colorDiff(d)
	}
	io.WriteString(c.stdout, d)
}

// ANSI escapes used to colour diffs.
const (
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
	ansiReset = "\x1b[0m"
)

// colorDiff colours a unified diff: headers bold, hunk ranges cyan,
// removed lines red and added lines green.
func colorDiff(d string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		if line == "" {
			continue
		}
		paint := diffLineColor(line)
		if paint == "" {
			b.WriteString(line)
			continue
		}
		b.WriteString(paint + strings.TrimSuffix(line, "\n") + ansiReset + "\n")
	}
	return b.String()
}

// diffLineColor returns the colour of one line of a unified diff, or "".
func diffLineColor(line string) string {
	switch {
	case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "):
		return ansiBold
	case strings.HasPrefix(line, "@@"):
		return ansiCyan
	case strings.HasPrefix(line, "-"):
		return ansiRed
	case strings.HasPrefix(line, "+"):
		return ansiGreen
	}
	return ""
}

// fmtFileNames returns the files fmt formats for path: path itself when it
// is a file, else the policy and variable files in the directory, and with
// recursive in its sub-directories too, sorted. Hidden files and
// directories are skipped.
func fmtFileNames(path string, recursive bool) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, cause(err))
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var names []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, cause(err))
		}
		if d.IsDir() {
			if p != path && (!recursive || isHidden(d.Name())) {
				return filepath.SkipDir
			}
			return nil
		}
		if isFmtFile(d.Name()) {
			if len(names) == schema.MaxPolicyFiles {
				return fmt.Errorf("%s holds more than %d policy and variable files, the most fmt formats at once", path, schema.MaxPolicyFiles)
			}
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// isFmtFile reports whether a file found in a directory is one fmt formats.
func isFmtFile(name string) bool {
	ext := filepath.Ext(name)
	return !isHidden(name) && (ext == schema.PolicyExt || ext == schema.VarsExt)
}

// isHidden reports whether a file or directory name is hidden.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// writeFileAtomic replaces the contents of the file name with data, so
// that a reader or a crash sees either the old or the new contents: it
// writes a temporary file in the same directory, flushes it to disk with
// the original file's mode, and renames it over the original. A symbolic
// link is followed and its target replaced.
func writeFileAtomic(name string, data []byte) error {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(target, data, st.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

// cause strips the operation and path from an os error, for messages that
// name the file themselves: "writing main.hcl: permission denied".
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
