// Package export writes an account of the backup, as it was at an
// instant, in a format other software reads: an mbox (mboxrd) per folder,
// a Maildir++ tree, or one .eml file per message. It writes a stream (one
// mbox, or a tar archive) that the agent sends through its API; the command
// line unpacks it on its own machine (see docs/API.md, "Export").
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// Formats of an export.
const (
	// MBox is mboxrd: one file per folder, flags in Status, X-Status and
	// X-Keywords headers.
	MBox = "mbox"
	// Maildir is a Maildir++ tree with the messages under their backed-up
	// file names (flags and keyword letters), dovecot-keywords and
	// dovecot-uidlist.
	Maildir = "maildir"
	// EML is one RFC 5322 file per message, FOLDER/NNNN.eml.
	EML = "eml"
)

// Formats lists the formats, for messages.
var Formats = []string{MBox, Maildir, EML}

// Content types of the two kinds of stream.
const (
	ContentTypeMBox = "application/mbox"
	ContentTypeTar  = "application/x-tar"
)

// ErrFormat is returned for a format that is not one of Formats.
var ErrFormat = errors.New("unknown export format")

// ErrNoFolder is returned when the folder asked for was not in the account
// at the instant.
var ErrNoFolder = errors.New("no such folder")

// ErrName is returned when a folder's name cannot be written in the format
// asked for (a level that is empty, "." or "..").
var ErrName = errors.New("folder name cannot be written as a path")

// Blobs reads the content of a message; *repo.Repo is one.
type Blobs interface {
	AppendBlob(dst []byte, id catalog.BlobID) ([]byte, error)
}

// Progress is updated atomically while an export is written.
type Progress struct {
	ItemsTotal, ItemsDone atomic.Int64
	// Bytes counts the bytes of the stream written so far.
	Bytes atomic.Int64
}

// Summary says what an export wrote.
type Summary struct {
	Messages int `json:"messages"`
	Folders  int `json:"folders"`
	// Bytes is the length of the stream.
	Bytes int64 `json:"bytes"`
}

// Export is an account's state prepared for writing in one format.
type Export struct {
	format string
	state  *catalog.State
	// one is set when a single folder was asked for: the stream is that
	// folder alone (an mbox file, or a tar whose root is the folder).
	one     bool
	folders []folder
}

// folder is one folder to write and its messages, in UID order.
type folder struct {
	v     *catalog.FolderVersion
	items []*catalog.Item
	// path is where the folder goes: its Maildir++ directory for Maildir,
	// its name levels joined by '/' for EML and MBox; "" for the root.
	path string
}

// New prepares the export of st in format; name, when not "", selects one
// folder (INBOX in any case). It checks everything it can before a byte is
// written: the format, the folder, and that every folder name can be
// written in the format.
func New(st *catalog.State, format, name string) (*Export, error) {
	if !slices.Contains(Formats, format) {
		return nil, fmt.Errorf("%w %q (use %s)", ErrFormat, format, strings.Join(Formats, ", "))
	}
	e := &Export{format: format, state: st, one: name != ""}
	byFolder := map[string][]*catalog.Item{}
	for i := range st.Items {
		it := &st.Items[i]
		byFolder[it.Folder] = append(byFolder[it.Folder], it)
	}
	add := func(fv *catalog.FolderVersion) error {
		if e.one && fv.Name != name && !(strings.EqualFold(name, maildir.Inbox) && fv.Name == maildir.Inbox) {
			return nil
		}
		f := folder{v: fv, items: byFolder[fv.Name]}
		if !e.one {
			p, err := folderPath(format, fv)
			if err != nil {
				return fmt.Errorf("account %s: %w", st.Account.Name, err)
			}
			f.path = p
		}
		e.folders = append(e.folders, f)
		return nil
	}
	var names []string
	for i := range st.Folders {
		names = append(names, st.Folders[i].Name)
		if err := add(&st.Folders[i]); err != nil {
			return nil, err
		}
		delete(byFolder, st.Folders[i].Name)
	}
	// Items whose folder record is missing (it should not happen) are
	// exported too, into a folder of that name, as restore does.
	var orphans []string
	for n := range byFolder {
		orphans = append(orphans, n)
	}
	slices.Sort(orphans)
	for _, n := range orphans {
		dir, err := maildir.FolderDir(maildir.LayoutMaildirPP, n)
		if err != nil {
			dir = "." + strings.ReplaceAll(n, "/", ".")
		}
		if err := add(&catalog.FolderVersion{Name: n, Dir: dir}); err != nil {
			return nil, err
		}
	}
	if e.one && len(e.folders) == 0 {
		return nil, fmt.Errorf("account %s: %w %q at that instant; it had %s", st.Account.Name, ErrNoFolder, name, quoteList(names))
	}
	// INBOX first, then by name: the order people expect in an archive.
	slices.SortStableFunc(e.folders, func(a, b folder) int {
		switch {
		case a.v.Name == b.v.Name:
			return 0
		case a.v.Name == maildir.Inbox:
			return -1
		case b.v.Name == maildir.Inbox:
			return 1
		}
		return strings.Compare(a.v.Name, b.v.Name)
	})
	return e, nil
}

// folderPath is where a folder goes in a whole-account export.
func folderPath(format string, fv *catalog.FolderVersion) (string, error) {
	if format == Maildir {
		return maildirPP(fv)
	}
	levels := strings.Split(fv.Name, "/")
	for _, l := range levels {
		if l == "" || l == "." || l == ".." || strings.ContainsRune(l, 0) {
			return "", fmt.Errorf("folder %q: %w (a level is empty, \".\" or \"..\"); export it with -format maildir", fv.Name, ErrName)
		}
	}
	return fv.Name, nil
}

// maildirPP is a folder's Maildir++ directory: the backed-up directory
// when the store is Maildir++, its levels joined by '.' for LAYOUT=fs.
func maildirPP(fv *catalog.FolderVersion) (string, error) {
	if fv.Dir == "" {
		return "", nil
	}
	if strings.HasPrefix(fv.Dir, ".") && !strings.Contains(fv.Dir, "/") && fv.Dir != "." && fv.Dir != ".." {
		return fv.Dir, nil
	}
	levels := strings.Split(fv.Dir, "/")
	for _, l := range levels {
		if l == "" || strings.ContainsAny(l, ".\x00") {
			return "", fmt.Errorf("folder %q (directory %q): %w in Maildir++ (a level is empty or contains '.'); export it with -format eml or mbox", fv.Name, fv.Dir, ErrName)
		}
	}
	return "." + strings.Join(levels, "."), nil
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "no folders"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// ContentType is the media type of the stream: an mbox for one folder in
// MBox, a tar archive otherwise.
func (e *Export) ContentType() string {
	if e.single() {
		return ContentTypeMBox
	}
	return ContentTypeTar
}

// single reports whether the stream is one mbox file rather than a tar.
func (e *Export) single() bool { return e.one && e.format == MBox }

// Messages counts the messages the export holds.
func (e *Export) Messages() int {
	n := 0
	for _, f := range e.folders {
		n += len(f.items)
	}
	return n
}

// Write writes the export to w, reading the messages from blobs, and stops
// with ctx's error when ctx is done. p, when set, is updated as it goes.
func (e *Export) Write(ctx context.Context, w io.Writer, blobs Blobs, p *Progress) (Summary, error) {
	if p == nil {
		p = &Progress{}
	}
	p.ItemsTotal.Store(int64(e.Messages()))
	cw := &countingWriter{w: w, n: &p.Bytes}
	x := &writer{e: e, blobs: blobs, p: p, ctx: ctx}
	var err error
	switch {
	case e.single():
		err = x.mboxStream(cw, &e.folders[0])
	case e.format == MBox:
		err = x.tarMbox(cw)
	case e.format == Maildir:
		err = x.tarMaildir(cw)
	default:
		err = x.tarEML(cw)
	}
	return Summary{Messages: x.messages, Folders: len(e.folders), Bytes: p.Bytes.Load()}, err
}

// writer is one run of Export.Write.
type writer struct {
	e        *Export
	blobs    Blobs
	p        *Progress
	ctx      context.Context
	buf      []byte // a message as read
	out      []byte // a message as rendered in mbox
	messages int
}

// read returns a message's content in the writer's reused buffer, or
// ctx's error once ctx is done.
func (x *writer) read(f *folder, it *catalog.Item) ([]byte, error) {
	if err := x.ctx.Err(); err != nil {
		return nil, err
	}
	data, err := x.blobs.AppendBlob(x.buf[:0], it.Blob)
	if err != nil {
		return nil, fmt.Errorf("message %s/%s: %w", f.v.Name, it.Name, err)
	}
	x.buf = data
	return data, nil
}

// done counts a message written.
func (x *writer) done() {
	x.messages++
	x.p.ItemsDone.Add(1)
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}
