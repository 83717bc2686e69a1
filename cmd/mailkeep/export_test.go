package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/mboxread"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
)

// exportEnv is an agent process with a backed-up corpus.
type exportEnv struct {
	dir, root string
	p         *agentProc
	target    []string
	account   string
	snap      *maildir.Snapshot
}

// latin1Folder is a Maildir++ folder whose name is neither UTF-8 nor
// modified UTF-7: its name is the bytes "Caf\xe9".
const latin1Folder = ".Caf\xe9"

func newExportEnv(t *testing.T, messages int, maxSize int64) *exportEnv {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 11, Accounts: 1, Messages: messages, MaxSize: maxSize}); err != nil {
		t.Fatal(err)
	}
	// A folder whose name is bytes, holding a copy of an INBOX message.
	mds, _ := filepath.Glob(filepath.Join(root, "*", "*", "Maildir"))
	if len(mds) != 1 {
		t.Fatalf("maildirs %v", mds)
	}
	cur, _ := filepath.Glob(filepath.Join(mds[0], "cur", "*"))
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(mds[0], latin1Folder, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := os.ReadFile(cur[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mds[0], latin1Folder, "maildirfolder"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mds[0], latin1Folder, "cur", "1767000000.M1P1.host:2,S"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startManualAgent(t, dir, root)
	store := "maildir:" + root + "/%d/%n/Maildir"
	e := &exportEnv{dir: dir, root: root, p: p, target: []string{"-agent", "unix://" + p.sock}}
	if op := runOp(t, p.client(t), api.OperationRequest{Type: "smartscan"}); op.State != api.StateSucceeded {
		t.Fatalf("smartscan: %+v", op)
	}
	accts, err := p.client(t).Accounts(t.Context(), "")
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts %v %v", accts, err)
	}
	e.account = accts[0].Name
	ms, err := location.Parse(store)
	if err != nil {
		t.Fatal(err)
	}
	st, err := maildir.Open(ms)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(e.account)
	if err != nil {
		t.Fatal(err)
	}
	if e.snap, err = st.Scan(a); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *exportEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	return mailkeep(t, nil, append(append(append([]string{"export"}, args...), e.target...), e.account)...)
}

func (e *exportEnv) maildir() string {
	user, domain, _ := strings.Cut(e.account, "@")
	return filepath.Join(e.root, domain, user, "Maildir")
}

// mboxLetters are the mbox flag letters of a Maildir message, sorted.
func mboxLetters(m *maildir.Message) string {
	var b []byte
	for _, p := range []struct{ md, mb byte }{{'S', 'R'}, {'R', 'A'}, {'F', 'F'}, {'D', 'T'}, {'T', 'D'}} {
		if strings.IndexByte(m.Flags, p.md) >= 0 {
			b = append(b, p.mb)
		}
	}
	if m.Subdir == "cur" {
		b = append(b, 'O')
	}
	slices.Sort(b)
	return string(b)
}

// checkMbox reads an mbox with Python's mailbox module and checks it holds
// a folder's messages: same count, order, bytes, flags and keywords.
func checkMbox(t *testing.T, path string, f *maildir.Folder, maildirRoot string) {
	t.Helper()
	got, err := mboxread.Python(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.Messages) {
		t.Fatalf("%s: python reads %d messages, the backup has %d in %s", path, len(got), len(f.Messages), f.Name)
	}
	for i, m := range got {
		src := &f.Messages[i]
		want, err := os.ReadFile(filepath.Join(maildirRoot, f.Dir, src.Subdir, src.Name))
		if err != nil {
			t.Fatal(err)
		}
		want = mboxread.StripHeaders(want, "Status", "X-Status", "X-Keywords", "Content-Length")
		body := mboxread.StripHeaders(mboxread.Unquote(m.Bytes), "Status", "X-Status", "X-Keywords")
		if !bytes.Equal(body, want) {
			t.Fatalf("%s message %d (%s): python reads other bytes (%d, want %d)", f.Name, i, src.Name, len(body), len(want))
		}
		flags := []byte(m.Flags)
		slices.Sort(flags)
		if string(flags) != mboxLetters(src) {
			t.Errorf("%s message %d (%s): flags %q, want %q", f.Name, i, src.Name, flags, mboxLetters(src))
		}
		var kws []string
		for _, k := range src.Keywords {
			if !strings.HasPrefix(k, "?") {
				kws = append(kws, k)
			}
		}
		if m.Keywords != strings.Join(kws, " ") {
			t.Errorf("%s message %d: X-Keywords %q, want %v", f.Name, i, m.Keywords, kws)
		}
	}
}

// TestExportCommand exports a backed-up account through the CLI as
// maildir, mbox (the whole account and one folder, to a file and to
// stdout) and eml, and checks every message against the mail store:
// the Maildir file by file (names, bytes, mtimes), the mboxes through
// Python's mailbox module (bytes, count, flags, keywords).
func TestExportCommand(t *testing.T) {
	e := newExportEnv(t, 300, 64<<10)
	out := t.TempDir()
	md := e.maildir()
	total := 0
	flagged, keyworded := 0, 0
	for _, f := range e.snap.Folders {
		total += len(f.Messages)
		for _, m := range f.Messages {
			if m.Flags != "" {
				flagged++
			}
			if len(m.Keywords) > 0 {
				keyworded++
			}
		}
	}
	if flagged == 0 || keyworded == 0 || len(e.snap.Folders) < 5 {
		t.Fatalf("the corpus lacks flags (%d), keywords (%d) or folders (%d)", flagged, keyworded, len(e.snap.Folders))
	}

	// Maildir into an empty directory that exists.
	mdOut := filepath.Join(out, "md")
	if err := os.Mkdir(mdOut, 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.run(t, "-format", "maildir", "-o", mdOut+"/", "-json")
	var sum exportSummary
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &sum) != nil {
		t.Fatalf("export maildir: %+v", r)
	}
	if sum.Messages != total || sum.Folders != len(e.snap.Folders) || sum.At.IsZero() || sum.Bytes == 0 || sum.Operation == "" {
		t.Errorf("summary %+v; the store has %d messages in %d folders", sum, total, len(e.snap.Folders))
	}
	compareTrees(t, md, mdOut)
	for _, f := range e.snap.Folders {
		if len(f.Keywords) == 0 {
			continue
		}
		want, _ := os.ReadFile(filepath.Join(md, f.Dir, maildir.KeywordsFile))
		got, _ := os.ReadFile(filepath.Join(mdOut, f.Dir, maildir.KeywordsFile))
		if kw, err := maildir.ParseKeywords(got); err != nil || !slices.Equal(kw, f.Keywords) {
			t.Errorf("%s: dovecot-keywords %q, the store has %q", f.Name, got, want)
		}
	}

	// mbox of the whole account: one FOLDER.mbox per folder.
	mbOut := filepath.Join(out, "mbox")
	if r := e.run(t, "-format", "mbox", "-o", mbOut); r.code != exitOK || !strings.Contains(r.stdout, "Exported "+e.account) || r.stderr != "" {
		t.Fatalf("export mbox: %+v", r)
	}
	for i := range e.snap.Folders {
		f := &e.snap.Folders[i]
		checkMbox(t, filepath.Join(mbOut, f.Name+".mbox"), f, md)
	}

	// One folder, to a file and to stdout: the same bytes.
	inbox := &e.snap.Folders[slices.IndexFunc(e.snap.Folders, func(f maildir.Folder) bool { return f.Name == "INBOX" })]
	file := filepath.Join(out, "inbox.mbox")
	if r := e.run(t, "-format", "mbox", "-folder", "INBOX", "-o", file); r.code != exitOK {
		t.Fatalf("export -folder INBOX: %+v", r)
	}
	checkMbox(t, file, inbox, md)
	whole, _ := os.ReadFile(filepath.Join(mbOut, "INBOX.mbox"))
	if one, _ := os.ReadFile(file); !bytes.Equal(one, whole) {
		t.Errorf("-folder INBOX differs from INBOX.mbox of the whole export")
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; mail is private", file, st.Mode())
	}
	r = e.run(t, "-format", "mbox", "-folder", "b64:SU5CT1g=", "-o", "-")
	if r.code != exitOK || r.stdout != string(whole) || r.stderr != "" {
		t.Errorf("-o - with a b64 folder: exit %d, %d bytes, stderr %q", r.code, len(r.stdout), r.stderr)
	}

	// A folder whose name is bytes, named with b64:.
	latin1 := filepath.Join(out, "latin1.mbox")
	if r := e.run(t, "-format", "mbox", "-folder", "b64:Q2Fm6Q==", "-o", latin1); r.code != exitOK {
		t.Fatalf("export -folder b64: %+v", r)
	}
	lf := &e.snap.Folders[slices.IndexFunc(e.snap.Folders, func(f maildir.Folder) bool { return f.Name == "Caf\xe9" })]
	checkMbox(t, latin1, lf, md)

	// eml: FOLDER/NNNN.eml, the store's bytes and received dates.
	emlOut := filepath.Join(out, "eml")
	if r := e.run(t, "-format", "eml", "-o", emlOut); r.code != exitOK {
		t.Fatalf("export eml: %+v", r)
	}
	for _, f := range e.snap.Folders {
		for i, m := range f.Messages {
			want, _ := os.ReadFile(filepath.Join(md, f.Dir, m.Subdir, m.Name))
			p := filepath.Join(emlOut, f.Name, fmt.Sprintf("%04d.eml", i+1))
			got, err := os.ReadFile(p)
			st, serr := os.Stat(p)
			if err != nil || serr != nil || !bytes.Equal(got, want) || !st.ModTime().Equal(m.MTime) {
				t.Fatalf("%s: %v %v, %d bytes (want %d)", p, err, serr, len(got), len(want))
			}
		}
	}
	ents, _ := os.ReadDir(out)
	for _, en := range ents {
		if strings.Contains(en.Name(), ".tmp-") {
			t.Errorf("a temporary %s was left behind", en.Name())
		}
	}
}

// TestExportRefusals: bad input and outputs that exist get a clear message,
// exit 1, and nothing is written.
func TestExportRefusals(t *testing.T) {
	e := newExportEnv(t, 40, 32<<10)
	out := t.TempDir()
	full := filepath.Join(out, "full")
	if err := os.Mkdir(full, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "keep"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(out, "existing.mbox")
	if err := os.WriteFile(existing, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"non-empty directory", []string{"-format", "maildir", "-o", full}, "not empty"},
		{"existing file", []string{"-format", "mbox", "-folder", "INBOX", "-o", existing}, "already exists"},
		{"existing file for a tree", []string{"-format", "eml", "-o", existing}, "not a directory"},
		{"missing parent", []string{"-format", "eml", "-o", filepath.Join(out, "no", "where")}, "does not exist"},
		{"unknown folder", []string{"-format", "mbox", "-folder", "Nope", "-o", filepath.Join(out, "a")}, `"Nope"`},
		{"bad b64 folder", []string{"-format", "mbox", "-folder", "b64:%%%", "-o", filepath.Join(out, "a")}, "base64"},
		{"bad format", []string{"-format", "pst", "-o", filepath.Join(out, "a")}, "-format"},
		{"no -o", []string{"-format", "eml"}, "-o PATH"},
		{"bad instant", []string{"-format", "eml", "-at", "soonish", "-o", filepath.Join(out, "a")}, "-at"},
		{"before the first backup", []string{"-format", "eml", "-at", "30d", "-o", filepath.Join(out, "a")}, "before the backup history"},
		{"-json to stdout", []string{"-format", "mbox", "-folder", "INBOX", "-o", "-", "-json"}, "-json"},
	}
	for _, c := range cases {
		r := e.run(t, c.args...)
		if r.code != exitError || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", c.name, r.code, r.stderr, c.want)
		}
	}
	r := mailkeep(t, nil, append(append([]string{"export", "-format", "eml", "-o", filepath.Join(out, "a")}, e.target...), "nobody@example.com")...)
	if r.code != exitError || !strings.Contains(r.stderr, "nobody@example.com") {
		t.Errorf("unknown account: %+v", r)
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine" {
		t.Errorf("the existing file was changed")
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 2 {
		t.Errorf("something was written: %v", ents)
	}
}

// TestExportOperation: an export is an agent operation: listed with its
// progress while it streams, refusing a purge and a second export of the
// account (exit 4), and cancelled by
// DELETE /v1/operations/{id}, which cuts the stream: the client knows it
// is incomplete.
func TestExportOperation(t *testing.T) {
	e := newExportEnv(t, 300, 512<<10)
	cl := e.p.client(t)
	// 300 messages and the one of the latin1 folder. Nobody reads the
	// stream: the agent blocks once the socket is full.
	s, err := cl.Export(t.Context(), e.account, "", "eml", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Body.Close()
	if s.Operation == "" || s.Messages != 301 || s.At.IsZero() {
		t.Fatalf("stream %+v", s)
	}
	op, err := cl.Operation(t.Context(), s.Operation, 0)
	if err != nil || op.State != api.StateRunning || op.Type != "export:"+e.account || op.Progress.ItemsTotal != 301 {
		t.Fatalf("operation %+v %v", op, err)
	}
	if r := mailkeep(t, nil, append([]string{"purge"}, e.target...)...); r.code != exitRefused || !strings.Contains(r.stderr, "export") {
		t.Errorf("purge during an export: %+v", r)
	}
	r := e.run(t, "-format", "mbox", "-o", filepath.Join(e.dir, "second"))
	if r.code != exitRefused || !strings.Contains(r.stderr, "already running") {
		t.Errorf("a second export of the account: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "second")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused export wrote its output: %v", err)
	}
	if _, err := cl.Cancel(t.Context(), s.Operation); err != nil {
		t.Fatal(err)
	}
	// Reading what was sent ends in an error or an end without the
	// trailer: either way Summary says the stream was cut.
	_, rerr := io.Copy(io.Discard, s.Body)
	_, err = s.Summary(t.Context())
	if !errors.Is(err, client.ErrCut) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("after cancel: read %v, summary %v", rerr, err)
	}
	if op, _ := cl.Operation(t.Context(), s.Operation, 0); op.State != api.StateCancelled {
		t.Errorf("operation after cancel: %+v", op)
	}
	// Through the CLI: it writes to stdout, which blocks until the export
	// is cancelled; the CLI then says so and exits 1.
	g := &gate{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan result)
	go func() {
		var errb bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: g, stderr: &errb}
		code := c.main(append(append([]string{"export", "-format", "eml", "-o", "-"}, e.target...), e.account))
		done <- result{stderr: errb.String(), code: code}
	}()
	<-g.started
	_, err = cl.Export(t.Context(), e.account, "", "mbox", "")
	if !client.Busy(err) {
		t.Fatalf("export while the CLI exports: %v", err)
	}
	if _, err := cl.Cancel(t.Context(), busyOp(err).ID); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if r := <-done; r.code != exitError || !strings.Contains(r.stderr, "cancelled") {
		t.Errorf("CLI export cancelled on the agent: %+v", r)
	}

	// The account exports again once it is over.
	if r := e.run(t, "-format", "mbox", "-folder", "INBOX", "-o", filepath.Join(e.dir, "inbox.mbox")); r.code != exitOK {
		t.Errorf("export after cancel: %+v", r)
	}
}

// TestUnpackTarStrict: entries that would leave the output, links and
// special files, and duplicates are refused, and writeExport then leaves
// nothing at PATH; a stream cut before its end leaves nothing either.
func TestUnpackTarStrict(t *testing.T) {
	entry := func(h tar.Header, body string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		h.Size = int64(len(body))
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		h.Mode = 0o600
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body)[:h.Size])
		tw.Flush()
		return b.Bytes()
	}
	ok := entry(tar.Header{Typeflag: tar.TypeReg, Name: "INBOX/0001.eml"}, "Subject: x\n\nok\n")
	bad := map[string][]byte{
		"absolute":  entry(tar.Header{Typeflag: tar.TypeReg, Name: "/etc/x"}, "x"),
		"dotdot":    entry(tar.Header{Typeflag: tar.TypeReg, Name: "a/../../x"}, "x"),
		"empty":     entry(tar.Header{Typeflag: tar.TypeReg, Name: "a//x"}, "x"),
		"symlink":   entry(tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "/etc"}, ""),
		"hardlink":  entry(tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "INBOX/0001.eml"}, ""),
		"fifo":      entry(tar.Header{Typeflag: tar.TypeFifo, Name: "f"}, ""),
		"duplicate": ok,
	}
	for name, e := range bad {
		dir := t.TempDir()
		path := filepath.Join(dir, "out")
		stream := append(slices.Clone(ok), e...)
		_, err := writeExport(path, false, bytes.NewReader(stream), func() error { return nil })
		if err == nil || !strings.Contains(err.Error(), "export entry") {
			t.Errorf("%s: %v", name, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: left %v", name, ents)
		}
	}
	// A byte-named entry (not UTF-8) is a name like any other.
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if _, err := writeExport(path, false, bytes.NewReader(entry(tar.Header{Typeflag: tar.TypeReg, Name: "Caf\xe9/0001.eml"}, "x")), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(path, "Caf\xe9", "0001.eml")); err != nil || string(b) != "x" {
		t.Errorf("byte name: %q %v", b, err)
	}
	// Complete entries, then the agent says the stream was cut.
	cut := errors.New("cut")
	for _, single := range []bool{true, false} {
		dir := t.TempDir()
		_, err := writeExport(filepath.Join(dir, "out"), single, bytes.NewReader(ok), func() error { return cut })
		if !errors.Is(err, cut) {
			t.Errorf("single %v: %v", single, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("single %v: left %v", single, ents)
		}
	}
}

// TestExportAPIStatus: the agent answers a bad export request with 400 or
// 404 before it streams anything.
func TestExportAPIStatus(t *testing.T) {
	e := newExportEnv(t, 20, 32<<10)
	cl := e.p.client(t)
	for _, c := range []struct {
		account, folder, format, at string
		status                      int
	}{
		{e.account, "", "", "", http.StatusBadRequest},
		{e.account, "", "zip", "", http.StatusBadRequest},
		{e.account, "Nope", "mbox", "", http.StatusNotFound},
		{"nobody@example.com", "", "mbox", "", http.StatusNotFound},
		{e.account, "", "mbox", "30d", http.StatusBadRequest},
	} {
		_, err := cl.Export(context.Background(), c.account, c.folder, c.format, c.at)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != c.status {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// gate is a writer whose first write blocks until release is closed.
type gate struct {
	started, release chan struct{}
	once             sync.Once
}

func (g *gate) Write(b []byte) (int, error) {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	return len(b), nil
}

// TestExportTarToTerminal: -o - refuses to print a tar archive on a
// terminal, before it reaches the agent.
func TestExportTarToTerminal(t *testing.T) {
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, tty: true}
	code := c.main([]string{"export", "-format", "eml", "-o", "-", "-agent", "unix://" + filepath.Join(t.TempDir(), "none.sock"), "ann@example.com"})
	if code != exitError || !strings.Contains(errb.String(), "terminal") || out.Len() != 0 {
		t.Errorf("exit %d, stderr %q, %d bytes out", code, errb.String(), out.Len())
	}
}
