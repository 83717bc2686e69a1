package export

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"slices"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// Modes of the entries: mail is private to the one who exports it.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// tarWriter writes PAX entries (names are bytes, mtimes keep their
// nanoseconds) and remembers the directories it wrote.
type tarWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
}

func newTar(w io.Writer) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), dirs: map[string]bool{}}
}

// dir writes a directory entry and those of its missing parents.
func (t *tarWriter) dir(name string, mtime time.Time) error {
	if name == "" || name == "." || t.dirs[name] {
		return nil
	}
	if err := t.dir(path.Dir(name), mtime); err != nil {
		return err
	}
	t.dirs[name] = true
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: dirMode, ModTime: mtime, Format: tar.FormatPAX})
}

// file writes a regular file, after its parent directories.
func (t *tarWriter) file(name string, data []byte, mtime time.Time) error {
	if err := t.dir(path.Dir(name), mtime); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: fileMode, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := t.tw.Write(data)
	return err
}

func (t *tarWriter) close() error { return t.tw.Close() }

// join joins a folder's path and a name below it; the root folder is "".
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// stateTime is the instant of the export, the mtime of the entries that
// are not messages.
func (x *writer) stateTime() time.Time { return time.Unix(0, x.e.state.At) }

// tarMaildir writes a Maildir++ tree: for each folder cur/, new/ and tmp/,
// the messages under their file names with their received dates,
// dovecot-keywords and dovecot-uidlist, maildirfolder in a sub-folder;
// the account's subscriptions at the root.
func (x *writer) tarMaildir(w io.Writer) error {
	t := newTar(w)
	at := x.stateTime()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := t.dir(sub, at); err != nil {
			return err
		}
	}
	if v := x.e.state.Version; !x.e.one && v != nil && v.Subscriptions != nil {
		if err := t.file("subscriptions", v.Subscriptions, at); err != nil {
			return err
		}
	}
	for i := range x.e.folders {
		f := &x.e.folders[i]
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := t.dir(join(f.path, sub), at); err != nil {
				return err
			}
		}
		if f.path != "" {
			if err := t.file(join(f.path, "maildirfolder"), nil, at); err != nil {
				return err
			}
		}
		if err := x.maildirMeta(t, f, at); err != nil {
			return err
		}
		for _, it := range f.items {
			data, err := x.read(f, it)
			if err != nil {
				return err
			}
			if err := t.file(join(f.path, it.Subdir+"/"+it.Name), data, time.Unix(0, it.MTime)); err != nil {
				return err
			}
			x.done()
		}
	}
	return t.close()
}

// maildirMeta writes a folder's dovecot-keywords and dovecot-uidlist, as
// restore writes them into an empty account.
func (x *writer) maildirMeta(t *tarWriter, f *folder, at time.Time) error {
	fv := f.v
	if len(fv.Keywords) > 0 {
		kw, err := maildir.FormatKeywords(fv.Keywords)
		if err != nil {
			return fmt.Errorf("folder %s: %w", fv.Name, err)
		}
		if err := t.file(join(f.path, maildir.KeywordsFile), kw, at); err != nil {
			return err
		}
	}
	if fv.UIDValidity == 0 {
		return nil
	}
	var entries []maildir.UIDEntry
	for _, it := range f.items {
		if it.UID != 0 {
			entries = append(entries, maildir.UIDEntry{UID: it.UID, Base: it.Base})
		}
	}
	slices.SortFunc(entries, func(a, b maildir.UIDEntry) int { return int(a.UID) - int(b.UID) })
	l := &maildir.UIDList{Version: 3, UIDValidity: fv.UIDValidity, NextUID: fv.NextUID, GUID: fv.GUID, Entries: entries}
	l.NextUID = l.Next()
	return t.file(join(f.path, maildir.UIDListFile), l.Marshal(), at)
}

// tarEML writes FOLDER/NNNN.eml for every message, numbered from 1 in UID
// order, with its received date; empty folders as directories.
func (x *writer) tarEML(w io.Writer) error {
	t := newTar(w)
	at := x.stateTime()
	for i := range x.e.folders {
		f := &x.e.folders[i]
		if err := t.dir(f.path, at); err != nil {
			return err
		}
		for n, it := range f.items {
			data, err := x.read(f, it)
			if err != nil {
				return err
			}
			if err := t.file(join(f.path, fmt.Sprintf("%04d.eml", n+1)), data, time.Unix(0, it.MTime)); err != nil {
				return err
			}
			x.done()
		}
	}
	return t.close()
}

// tarMbox writes FOLDER.mbox for every folder. A tar entry states its size
// first, so each folder's messages are read twice: once to measure the
// mbox, once to write it.
func (x *writer) tarMbox(w io.Writer) error {
	t := newTar(w)
	at := x.stateTime()
	for i := range x.e.folders {
		f := &x.e.folders[i]
		var size int64
		for _, it := range f.items {
			data, err := x.read(f, it)
			if err != nil {
				return err
			}
			x.out = AppendMbox(x.out[:0], it, data)
			size += int64(len(x.out))
		}
		name := f.path + ".mbox"
		if err := t.dir(path.Dir(name), at); err != nil {
			return err
		}
		if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: fileMode, ModTime: at, Format: tar.FormatPAX}); err != nil {
			return err
		}
		for _, it := range f.items {
			data, err := x.read(f, it)
			if err != nil {
				return err
			}
			x.out = AppendMbox(x.out[:0], it, data)
			if _, err := t.tw.Write(x.out); err != nil {
				return fmt.Errorf("folder %s: %w", f.v.Name, err)
			}
			x.done()
		}
	}
	return t.close()
}
