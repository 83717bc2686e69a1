package export

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/mboxread"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// fakeBlobs serves message contents from memory.
type fakeBlobs map[catalog.BlobID][]byte

func (f fakeBlobs) AppendBlob(dst []byte, id catalog.BlobID) ([]byte, error) {
	b, ok := f[id]
	if !ok {
		return dst, fmt.Errorf("blob %x: %w", id[:4], catalog.ErrNotFound)
	}
	return append(dst, b...), nil
}

// latin1 is a folder name that is not UTF-8 (a Maildir++ directory that is
// not modified UTF-7 either).
const latin1 = "Caf\xe9"

// msgs are messages that test the quoting: "From " lines in bodies, lines
// already quoted, a leading "From " line, CRLF, headers mbox writers own.
var msgs = []string{
	"Return-Path: <alice@example.org>\nFrom: Alice <alice@example.org>\nSubject: one\n\nFrom the start\n>From quoted\n>>From twice\nFrom\nFromage\n",
	"From: \"Bob B\" <bob@example.org>\nSubject: two\nStatus: RO\nX-Status: F\nX-Keywords: stale\nContent-Length: 3\n\nbody\n\nFrom here\n",
	"From someone@old Mon Jan  1 00:00:00 2001\nSubject: leading From line\n\n> not From\n",
	"From: carol@example.org\r\nSubject: crlf\r\n\r\nFrom crlf\r\nend\r\n",
	"Subject: no sender, no body\n",
	"Subject: folded\n X-Status: not a field\nX-Keywords: a\n b\n\n\n\nblank lines above\n",
	"Return-Path: <j\xc3\xbcrgen@example.org>\nFrom: J\xc3\xbcrgen <j\xc3\xbcrgen@example.org>\nSender: x\n\nnot ASCII\n",
}

// testState is an account with INBOX, a sub-folder, a folder whose name is
// not UTF-8 and an empty folder.
func testState() (*catalog.State, fakeBlobs) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).UnixNano()
	st := &catalog.State{
		Account: catalog.Account{Name: "alice@example.org"}, At: at,
		Version: &catalog.AccountVersion{Subscriptions: []byte("V\t2\n\nWork\n")},
		Folders: []catalog.FolderVersion{
			{Name: latin1, Dir: "." + latin1, UIDValidity: 7, NextUID: 2},
			{Name: "Empty", Dir: ".Empty", UIDValidity: 8, NextUID: 1},
			{Name: "INBOX", Dir: "", UIDValidity: 5, NextUID: 10, Keywords: []string{"$Label1", "Junk"}},
			{Name: "Work/2026", Dir: ".Work.2026", UIDValidity: 6, NextUID: 3},
		},
	}
	blobs := fakeBlobs{}
	add := func(folder, subdir, flags, letters string, kws []string, uid uint32, body string, i int) {
		id := catalog.BlobID(sha256.Sum256([]byte(body)))
		blobs[id] = []byte(body)
		base := fmt.Sprintf("17000000%02d.M%dP1.host", i, i)
		name := base
		if subdir == "cur" {
			name = maildir.FormatName(base, flags, letters)
		}
		st.Items = append(st.Items, catalog.Item{Folder: folder, Base: base, Subdir: subdir, Name: name, Blob: id, Size: int64(len(body)),
			MTime: time.Date(2026, 11, 1+i, 8, 30, 15, 123456789, time.UTC).UnixNano(), Flags: flags, Keywords: kws, UID: uid})
	}
	add("INBOX", "cur", "FRS", "a", []string{"$Label1"}, 1, msgs[0], 0)
	add("INBOX", "cur", "DT", "ab", []string{"$Label1", "Junk"}, 2, msgs[1], 1)
	add("INBOX", "new", "", "", nil, 3, msgs[2], 2)
	add("INBOX", "cur", "", "c", []string{"?c"}, 4, msgs[3], 3)
	add("Work/2026", "cur", "S", "", nil, 1, msgs[4], 4)
	add("Work/2026", "cur", "P", "", nil, 2, msgs[5], 5)
	add("INBOX", "cur", "S", "", nil, 5, msgs[6], 7)
	add(latin1, "cur", "S", "", nil, 1, msgs[0], 6)
	return st, blobs
}

func write(t *testing.T, st *catalog.State, blobs Blobs, format, folder string) ([]byte, Summary) {
	t.Helper()
	e, err := New(st, format, folder)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p := &Progress{}
	sum, err := e.Write(context.Background(), &b, blobs, p)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Bytes != int64(b.Len()) || p.ItemsDone.Load() != int64(e.Messages()) || sum.Messages != e.Messages() {
		t.Fatalf("summary %+v, progress %d/%d, stream %d bytes", sum, p.ItemsDone.Load(), p.ItemsTotal.Load(), b.Len())
	}
	return b.Bytes(), sum
}

// wantFlags is the set of mbox letters of an item, sorted.
func wantFlags(it *catalog.Item) string {
	s, x := mboxFlags(it)
	f := []byte(s + x)
	slices.Sort(f)
	return string(f)
}

func sortedLetters(s string) string {
	f := []byte(s)
	slices.Sort(f)
	return string(f)
}

// original is what a reader should get back of a message: the message
// without the headers an mbox writer owns, ending with a newline.
func original(msg []byte) []byte {
	b := mboxread.StripHeaders(msg, droppedHeaders...)
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	return b
}

// TestMboxPython: an mbox of one folder, read by Python's mailbox module,
// has the same messages, in order, byte for byte (once unquoted and
// without the flag headers), with their flags, keywords, senders and
// received dates.
func TestMboxPython(t *testing.T) {
	st, blobs := testState()
	data, sum := write(t, st, blobs, MBox, "inbox")
	if sum.Folders != 1 || sum.Messages != 5 {
		t.Fatalf("summary %+v", sum)
	}
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := mboxread.Python(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []*catalog.Item
	for i := range st.Items {
		if st.Items[i].Folder == "INBOX" {
			items = append(items, &st.Items[i])
		}
	}
	if len(got) != len(items) {
		t.Fatalf("python reads %d messages, want %d:\n%s", len(got), len(items), data)
	}
	senders := []string{"alice@example.org", "bob@example.org", "MAILER-DAEMON", "carol@example.org", "MAILER-DAEMON"}
	for i, m := range got {
		it := items[i]
		body := mboxread.StripHeaders(mboxread.Unquote(m.Bytes), "Status", "X-Status", "X-Keywords")
		if want := original(blobs[it.Blob]); !bytes.Equal(body, want) {
			t.Errorf("message %d: python reads\n%q\nwant\n%q", i, body, want)
		}
		if f := sortedLetters(m.Flags); f != wantFlags(it) {
			t.Errorf("message %d: flags %q, want %q", i, f, wantFlags(it))
		}
		wantKW := strings.Join(slices.DeleteFunc(slices.Clone(it.Keywords), func(k string) bool { return strings.HasPrefix(k, "?") }), " ")
		if m.Keywords != wantKW {
			t.Errorf("message %d: X-Keywords %q, want %q", i, m.Keywords, wantKW)
		}
		wantFrom := senders[i] + " " + time.Unix(0, it.MTime).UTC().Format(fromDate)
		if m.From != wantFrom {
			t.Errorf("message %d: From line %q, want %q", i, m.From, wantFrom)
		}
	}
	// The flags as mail clients read them.
	for i, want := range []string{"AFOR", "DOT", "", "O", "OR"} {
		if f := sortedLetters(got[i].Flags); f != want {
			t.Errorf("message %d: flags %q, want %q", i, f, want)
		}
	}
}

// TestMboxQuoting: mboxrd quoting round-trips every line that looks like
// a "From " line, and only those.
func TestMboxQuoting(t *testing.T) {
	it := &catalog.Item{Subdir: "new", MTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()}
	msg := []byte("Subject: q\n\nFrom a\n>From b\n>>>From c\n From d\n>From\nFrom\n")
	out := AppendMbox(nil, it, msg)
	want := "From MAILER-DAEMON Fri Jan  2 03:04:05 2026\nSubject: q\n\n>From a\n>>From b\n>>>>From c\n From d\n>From\nFrom\n\n"
	if string(out) != want {
		t.Fatalf("mbox:\n%q\nwant\n%q", out, want)
	}
	body := out[bytes.IndexByte(out, '\n')+1 : len(out)-1]
	if got := mboxread.Unquote(body); !bytes.Equal(got, msg) {
		t.Errorf("unquoted:\n%q\nwant\n%q", got, msg)
	}
}

// untar reads a tar stream into a map of names to contents (directories
// end with '/') and checks that every name is a relative clean path.
func untar(t *testing.T, data []byte) (map[string][]byte, map[string]time.Time) {
	t.Helper()
	files, mtimes := map[string][]byte{}, map[string]time.Time{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, mtimes
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(h.Name, "/") || strings.Contains("/"+h.Name, "/../") || strings.Contains(h.Name, "//") {
			t.Fatalf("unsafe name %q", h.Name)
		}
		if _, dup := files[h.Name]; dup {
			t.Fatalf("%q twice", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], mtimes[h.Name] = b, h.ModTime
	}
}

// TestMaildirTar: the Maildir++ tree has every folder (the empty one, the
// one whose name is not UTF-8) with cur/ new/ tmp/, every message under
// its file name with its received date to the nanosecond, and the
// keyword, UID and subscription files.
func TestMaildirTar(t *testing.T) {
	st, blobs := testState()
	data, sum := write(t, st, blobs, Maildir, "")
	if sum.Folders != 4 || sum.Messages != 8 {
		t.Fatalf("summary %+v", sum)
	}
	files, mtimes := untar(t, data)
	for _, d := range []string{"", ".Empty/", ".Work.2026/", "." + latin1 + "/"} {
		for _, sub := range []string{"cur/", "new/", "tmp/"} {
			if _, ok := files[d+sub]; !ok {
				t.Errorf("no directory %q", d+sub)
			}
		}
		if _, ok := files[d+"maildirfolder"]; ok != (d != "") {
			t.Errorf("maildirfolder in %q: %v", d, ok)
		}
	}
	for i := range st.Items {
		it := &st.Items[i]
		dir, _ := maildirPP(folderOf(st, it.Folder))
		name := join(dir, it.Subdir+"/"+it.Name)
		if !bytes.Equal(files[name], blobs[it.Blob]) {
			t.Errorf("%q: %q", name, files[name])
		}
		if !mtimes[name].Equal(time.Unix(0, it.MTime)) {
			t.Errorf("%q: mtime %v, want %v", name, mtimes[name], time.Unix(0, it.MTime))
		}
	}
	if got := string(files["dovecot-keywords"]); got != "0 $Label1\n1 Junk\n" {
		t.Errorf("dovecot-keywords %q", got)
	}
	if got := string(files["subscriptions"]); got != "V\t2\n\nWork\n" {
		t.Errorf("subscriptions %q", got)
	}
	l, err := maildir.ParseUIDList(files[".Work.2026/dovecot-uidlist"])
	if err != nil || l.UIDValidity != 6 || len(l.Entries) != 2 || l.Entries[1].UID != 2 || l.Next() != 3 {
		t.Errorf("uidlist %+v %v", l, err)
	}
	// One folder: the folder is the Maildir's root.
	data, _ = write(t, st, blobs, Maildir, "Work/2026")
	files, _ = untar(t, data)
	if _, ok := files["cur/"+st.Items[4].Name]; !ok || len(files) != 6 {
		t.Errorf("one folder: %v", keys(files))
	}
}

func folderOf(st *catalog.State, name string) *catalog.FolderVersion {
	for i := range st.Folders {
		if st.Folders[i].Name == name {
			return &st.Folders[i]
		}
	}
	return nil
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestEMLTar: FOLDER/NNNN.eml in UID order with the exact bytes and the
// received date; empty folders are directories; names are bytes.
func TestEMLTar(t *testing.T) {
	st, blobs := testState()
	data, _ := write(t, st, blobs, EML, "")
	files, mtimes := untar(t, data)
	want := map[string]int{"INBOX/0001.eml": 0, "INBOX/0002.eml": 1, "INBOX/0003.eml": 2, "INBOX/0004.eml": 3, "INBOX/0005.eml": 6,
		"Work/2026/0001.eml": 4, "Work/2026/0002.eml": 5, latin1 + "/0001.eml": 7}
	for name, i := range want {
		it := &st.Items[i]
		if !bytes.Equal(files[name], blobs[it.Blob]) || !mtimes[name].Equal(time.Unix(0, it.MTime)) {
			t.Errorf("%q: %q at %v", name, files[name], mtimes[name])
		}
	}
	if _, ok := files["Empty/"]; !ok {
		t.Errorf("no directory for the empty folder: %v", keys(files))
	}
	n := 0
	for name := range files {
		if strings.HasSuffix(name, ".eml") {
			n++
		}
	}
	if n != len(want) {
		t.Errorf("%d .eml files, want %d: %v", n, len(want), keys(files))
	}
}

// TestMboxTar: without a folder, one FOLDER.mbox per folder (empty for an
// empty folder), each read by Python as that folder's messages.
func TestMboxTar(t *testing.T) {
	st, blobs := testState()
	data, _ := write(t, st, blobs, MBox, "")
	files, _ := untar(t, data)
	dir := t.TempDir()
	counts := map[string]int{"INBOX.mbox": 5, "Work/2026.mbox": 2, latin1 + ".mbox": 1, "Empty.mbox": 0}
	for name, n := range counts {
		b, ok := files[name]
		if !ok {
			t.Fatalf("no %q in %v", name, keys(files))
		}
		path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := mboxread.Python(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("%q: python reads %d messages, want %d", name, len(got), n)
		}
	}
	// The tar's mbox of one folder is the single-folder stream.
	one, _ := write(t, st, blobs, MBox, "Work/2026")
	if !bytes.Equal(one, files["Work/2026.mbox"]) {
		t.Errorf("Work/2026.mbox differs from the single-folder export")
	}
}

// TestNewErrors: a bad format, an unknown folder and a folder name that
// cannot be a path are refused before anything is written, with messages
// that name them.
func TestNewErrors(t *testing.T) {
	st, _ := testState()
	if _, err := New(st, "pst", ""); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `"pst"`) {
		t.Errorf("format: %v", err)
	}
	if _, err := New(st, MBox, "Nope"); !errors.Is(err, ErrNoFolder) || !strings.Contains(err.Error(), `"Nope"`) || !strings.Contains(err.Error(), `"Work/2026"`) {
		t.Errorf("folder: %v", err)
	}
	st.Folders = append(st.Folders, catalog.FolderVersion{Name: "a/../b", Dir: ".a.b"})
	if _, err := New(st, EML, ""); !errors.Is(err, ErrName) || !strings.Contains(err.Error(), "a/../b") {
		t.Errorf("name: %v", err)
	}
	if _, err := New(st, Maildir, ""); err != nil {
		t.Errorf("maildir keeps the directory: %v", err)
	}
}

// TestWriteCancelled: a cancelled context stops the export with its error.
func TestWriteCancelled(t *testing.T) {
	st, blobs := testState()
	e, err := New(st, EML, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Write(ctx, io.Discard, blobs, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}

// TestOrphanItems: a message whose folder record is missing is exported
// into a folder of its name, as restore does, rather than lost.
func TestOrphanItems(t *testing.T) {
	st, blobs := testState()
	st.Items[5].Folder = "Lost"
	data, sum := write(t, st, blobs, EML, "")
	files, _ := untar(t, data)
	if sum.Folders != 5 || !bytes.Equal(files["Lost/0001.eml"], blobs[st.Items[5].Blob]) {
		t.Errorf("summary %+v, files %v", sum, keys(files))
	}
	data, _ = write(t, st, blobs, Maildir, "")
	if files, _ = untar(t, data); files[".Lost/cur/"+st.Items[5].Name] == nil {
		t.Errorf("maildir: %v", keys(files))
	}
}
