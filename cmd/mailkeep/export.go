package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/fsutil"
)

// exportSummary is what `export -json` prints.
type exportSummary struct {
	Account   string    `json:"account"`
	Format    string    `json:"format"`
	Folder    string    `json:"folder,omitempty"`
	At        time.Time `json:"at"`
	Path      string    `json:"path"`
	Messages  int       `json:"messages"`
	Folders   int       `json:"folders"`
	Bytes     int64     `json:"bytes"`
	Operation string    `json:"operation"`
}

func runExport(c *cli, args []string) int {
	const cmd = "export"
	fs := c.newFlags(cmd, "[-at TIME] [-folder NAME] -format mbox|maildir|eml -o PATH [-json] TARGET ACCOUNT",
		"Exports an account (user@domain), or one folder, as it was at an instant, for a mail client,\n"+
			"another server or a legal request. The agent streams it; this command writes it here,\n"+
			"with your permissions: mbox (mboxrd, flags in Status, X-Status and X-Keywords; one\n"+
			"FOLDER.mbox per folder, or PATH itself with -folder), maildir (a Maildir++ tree) or eml\n"+
			"(FOLDER/NNNN.eml). PATH must not exist, or be an empty directory; nothing is left\n"+
			"there on failure. -o - writes the stream (the mbox, or the tar archive) to stdout.")
	at := fs.String("at", "last", "instant: last, RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] (agent's zone) or a duration ago (90m, 2d)")
	folder := fs.String("folder", "", "export only this folder (b64:BASE64 for a name that is not UTF-8)")
	format := fs.String("format", "", "mbox, maildir or eml")
	out := fs.String("o", "", "where to write: a PATH that does not exist (or an empty directory), or - for stdout")
	asJSON := fs.Bool("json", false, "print a JSON summary")
	var t targetFlags
	t.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(c.stderr, "mailkeep %s: "+format+"\n", append([]any{cmd}, a...)...)
		return exitError
	}
	switch {
	case len(pos) != 1:
		return fail("expected one ACCOUNT (user@domain), got %d arguments", len(pos))
	case !slices.Contains(api.ExportFormats, *format):
		return fail("-format: give one of %s", strings.Join(api.ExportFormats, ", "))
	case *out == "":
		return fail("-o PATH is required (- for stdout)")
	case *out == "-" && *asJSON:
		return fail("-json with -o - would mix the summary into the export; write to a PATH")
	}
	if _, err := api.ParseInstant(*at, time.Now(), time.Local); err != nil {
		return fail("-at: %v", err)
	}
	account := pos[0]
	if !nameArgs(c, cmd, namedArg{"ACCOUNT", &account}, namedArg{"-folder", folder}) {
		return exitError
	}
	single := *format == api.ExportMBox && *folder != ""
	if *out == "-" && !single && c.tty {
		return fail("-o - would write a tar archive to the terminal; pipe it (| tar x) or write to a PATH")
	}
	if *out != "-" {
		*out = filepath.Clean(*out) // "dir/" is dir
		if err := checkOutput(*out, single); err != nil {
			return fail("%v", err)
		}
	}
	cl, ok := t.connect(c, cmd)
	if !ok {
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := cl.Export(ctx, account, *folder, *format, *at)
	if err != nil {
		if client.Busy(err) {
			fmt.Fprintf(c.stderr, "mailkeep %s: refused: %v (operation %s, started %s)\n", cmd, err, busyOp(err).ID, busyOp(err).Started.Local().Format(time.DateTime))
			return exitRefused
		}
		return fail("%v", err)
	}
	defer s.Body.Close()
	stopBar := c.followExport(cl, s.Operation, !*asJSON)
	var written int64
	body := &readErr{r: s.Body}
	if *out == "-" {
		written, err = io.Copy(c.stdout, body)
	} else {
		written, err = writeExport(*out, single, body, func() error { _, err := s.Summary(context.Background()); return err })
	}
	stopBar()
	if ctx.Err() != nil {
		return fail("interrupted; the export was cut and nothing was written at %s", *out)
	}
	if body.err != nil || (err == nil && *out == "-") {
		// The stream broke or ended: the agent says why.
		if _, serr := s.Summary(context.Background()); serr != nil {
			err = serr
		}
	}
	if err != nil {
		if *out != "-" {
			return fail("%v; nothing was written at %s", err, *out)
		}
		return fail("%v", err)
	}
	sum, _ := s.Summary(context.Background())
	res := exportSummary{Account: account, Format: *format, Folder: *folder, At: s.At, Path: *out, Messages: sum.Messages, Folders: sum.Folders, Bytes: written, Operation: s.Operation}
	if *asJSON {
		return c.printJSON(cmd, res)
	}
	w := c.stdout
	if *out == "-" {
		w = c.stderr
		if !c.errTTY {
			return exitOK
		}
	}
	what := res.Account
	if res.Folder != "" {
		what += " folder " + res.Folder
	}
	fmt.Fprintf(w, "Exported %s as of %s (%s): %d messages in %d folders, %s, to %s.\n",
		what, res.At.Local().Format(time.DateTime), res.Format, res.Messages, res.Folders, units.Bytes(res.Bytes), res.Path)
	return exitOK
}

// readErr remembers the error of a failed read (other than the end).
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// followExport draws the export operation's progress on a terminal until
// the returned function is called.
func (c *cli) followExport(cl *client.Client, id string, on bool) func() {
	bar := newProgressBar(c.stderr, c.errTTY && on)
	if !c.errTTY || !on || id == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				bar.clear()
				return
			case <-tick.C:
				if op, err := cl.Operation(context.Background(), id, 0); err == nil {
					bar.draw(op)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// checkOutput refuses a PATH that exists, unless it is an empty directory
// and the export is a tree; the directory it goes into must exist.
func checkOutput(path string, single bool) error {
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("-o %s: the directory %s does not exist", path, dir)
		}
	}
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-o %s: %v", path, err)
	case single:
		return fmt.Errorf("-o %s already exists; export writes a new file and never overwrites one", path)
	case !st.IsDir():
		return fmt.Errorf("-o %s already exists and is not a directory; export never overwrites it", path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("-o %s: %v", path, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("-o %s is a directory that is not empty; export writes only into a new or an empty directory", path)
	}
	return nil
}

// writeExport writes the stream at path atomically: into a temporary file
// (an mbox) or directory (a tar, unpacked) beside it, made durable, checked
// complete with done, then renamed into place; on any failure nothing is
// left. It returns the bytes written.
func writeExport(path string, single bool, r io.Reader, done func() error) (int64, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if single {
		f, err := os.CreateTemp(dir, "."+base+".tmp-")
		if err != nil {
			return 0, err
		}
		tmp := f.Name()
		defer os.Remove(tmp)
		n, err := io.Copy(f, r)
		if err == nil {
			err = done()
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return n, err
		}
		// A link never replaces what may have appeared at path meanwhile.
		if err := os.Link(tmp, path); err != nil {
			return n, fmt.Errorf("-o %s: %w", path, err)
		}
		return n, fsutil.SyncDir(dir)
	}
	tmp, err := os.MkdirTemp(dir, "."+base+".tmp-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	n, err := unpackTar(r, tmp)
	if err == nil {
		err = done()
	}
	if err == nil {
		err = syncFS(tmp)
	}
	if err != nil {
		return n, err
	}
	// rename(2) replaces an empty directory and nothing else (os.Rename
	// would refuse any directory).
	if err := unix.Rename(tmp, path); err != nil {
		return n, fmt.Errorf("-o %s: %w", path, err)
	}
	return n, fsutil.SyncDir(dir)
}

// unpackTar unpacks a tar stream under root, which it alone writes into.
// It accepts only directories and regular files with clean relative names
// (no absolute path, no "..", no empty level; names are bytes), never
// replaces an entry, and gives files their mtime. It returns the bytes of
// the files.
func unpackTar(r io.Reader, root string) (int64, error) {
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("reading the export: %w", err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if err := checkEntryName(name); err != nil {
			return total, err
		}
		p := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o700); err != nil {
				return total, fmt.Errorf("export entry %q: %w", h.Name, err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return total, fmt.Errorf("export entry %q: %w", h.Name, err)
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
			if err != nil {
				return total, fmt.Errorf("export entry %q: %w", h.Name, err)
			}
			n, err := io.Copy(f, tr)
			total += n
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chtimes(p, h.ModTime, h.ModTime)
			}
			if err != nil {
				return total, fmt.Errorf("export entry %q: %w", h.Name, err)
			}
		default:
			return total, fmt.Errorf("export entry %q: type %q refused: an export holds only directories and regular files", h.Name, h.Typeflag)
		}
	}
}

// checkEntryName accepts a clean relative path.
func checkEntryName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("export entry %q refused: not a relative path", name)
	}
	for _, l := range strings.Split(name, "/") {
		if l == "" || l == "." || l == ".." {
			return fmt.Errorf("export entry %q refused: it has an empty, \".\" or \"..\" level", name)
		}
	}
	return nil
}

// syncFS makes everything written on the filesystem of path durable.
func syncFS(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}
