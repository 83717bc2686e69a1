package maildir

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func statOwner(t *testing.T, path string) Owner {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return Owner{UID: st.Uid, GID: st.Gid, Mode: fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)}
}

func TestWriterFolder(t *testing.T) {
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/%d/%n/Maildir")
	a, _ := s.Account("new@example.com")
	w := s.Writer(a)
	o := testOwner(0o750)
	for i := 0; i < 2; i++ { // idempotent
		if err := w.Folder(FolderSpec{Name: "INBOX", Owner: o}); err != nil {
			t.Fatal(err)
		}
		if err := w.Folder(FolderSpec{Name: "Projects/Entwürfe", Owner: o}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"example.com", "example.com/new", "example.com/new/Maildir", "example.com/new/Maildir/cur",
		"example.com/new/Maildir/tmp", "example.com/new/Maildir/.Projects.Entw&APw-rfe", "example.com/new/Maildir/.Projects.Entw&APw-rfe/new"} {
		if got := statOwner(t, filepath.Join(base, d)); got != o {
			t.Errorf("%s: owner %+v, want %+v", d, got, o)
		}
	}
	mf := filepath.Join(a.Root, ".Projects.Entw&APw-rfe", "maildirfolder")
	if got, want := statOwner(t, mf), (Owner{UID: o.UID, GID: o.GID, Mode: 0o640}); got != want {
		t.Errorf("maildirfolder: %+v, want %+v", got, want)
	}
	if _, err := os.Stat(filepath.Join(a.Root, "maildirfolder")); err == nil {
		t.Error("INBOX got a maildirfolder file")
	}
	if err := w.Folder(FolderSpec{Name: "x", Dir: "../escape"}); err == nil {
		t.Error("a folder directory outside the Maildir was accepted")
	}
	if err := w.Folder(FolderSpec{Name: "a.b"}); err == nil {
		t.Error("a Maildir++ name with '.' was accepted")
	}
}

func TestWriteMessage(t *testing.T) {
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/%d/%n/Maildir")
	a, _ := s.Account("new@example.com")
	w := s.Writer(a)
	o := testOwner(0o700)
	if err := w.Folder(FolderSpec{Name: "INBOX", Owner: o}); err != nil {
		t.Fatal(err)
	}
	mo := testOwner(0o640)
	name := "100.M1P1.host,S=5:2,Sa"
	if err := w.WriteMessage("", "cur", name, strings.NewReader("hello"), t0, mo); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(a.Root, "cur", name)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(t0) || fi.Size() != 5 {
		t.Errorf("mtime %v size %d", fi.ModTime(), fi.Size())
	}
	if got := statOwner(t, p); got != mo {
		t.Errorf("owner %+v, want %+v", got, mo)
	}
	// Never replaced: same name, or same base with other flags or in new/.
	for _, dup := range []struct{ sub, name string }{{"cur", name}, {"cur", "100.M1P1.host,S=5:2,FS"}, {"new", "100.M1P1.host,S=5"}} {
		err := w.WriteMessage("", dup.sub, dup.name, strings.NewReader("other"), t0, mo)
		if !errors.Is(err, ErrExists) {
			t.Errorf("rewriting %s/%s: %v", dup.sub, dup.name, err)
		}
	}
	// A file Dovecot delivered after the Writer listed the folder.
	os.WriteFile(filepath.Join(a.Root, "new", "200.M1.h"), []byte("x"), 0o600)
	if err := w.WriteMessage("", "new", "200.M1.h", strings.NewReader("y"), t0, mo); !errors.Is(err, ErrExists) {
		t.Errorf("overwrote a file delivered meanwhile: %v", err)
	}
	body, _ := os.ReadFile(p)
	if string(body) != "hello" {
		t.Errorf("body replaced: %q", body)
	}
	if ents, _ := os.ReadDir(filepath.Join(a.Root, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ not empty: %v", ents)
	}
	// A reader that fails leaves nothing behind.
	if err := w.WriteMessage("", "new", "300.M1.h", io.MultiReader(strings.NewReader("x"), errReader{}), t0, mo); err == nil {
		t.Error("a failing reader was not reported")
	}
	if ents, _ := os.ReadDir(filepath.Join(a.Root, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ not empty after a failure: %v", ents)
	}
	if err := w.WriteMessage("", "new", "300.M1.h", strings.NewReader("x"), t0, mo); err != nil {
		t.Errorf("retry after a failure: %v", err)
	}
	for _, bad := range []struct{ sub, name string }{{"tmp", "x"}, {"cur", "a/b"}, {"cur", ".x"}, {"cur", ""}} {
		if err := w.WriteMessage("", bad.sub, bad.name, strings.NewReader(""), t0, mo); err == nil {
			t.Errorf("WriteMessage(%q, %q) accepted", bad.sub, bad.name)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteMetadataFiles(t *testing.T) {
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/%d/%n/Maildir:CONTROL="+base+"/ctl/%d/%n")
	a, _ := s.Account("new@example.com")
	w := s.Writer(a)
	o := testOwner(0o700)
	fo := testOwner(0o600)
	for _, f := range []FolderSpec{{Name: "INBOX", Owner: o}, {Name: "Projects/2026", Owner: o}} {
		if err := w.Folder(f); err != nil {
			t.Fatal(err)
		}
	}
	entries := []UIDEntry{{UID: 9, Base: "b9"}, {UID: 3, Ext: "W10", Base: "b3"}}
	if err := w.WriteUIDList(".Projects.2026", 77, 5, "00ff", entries, fo); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(base, "ctl/example.com/new/.Projects.2026/dovecot-uidlist")
	if data, _ := os.ReadFile(p); string(data) != "3 V77 N10 G00ff\n3 W10 :b3\n9 :b9\n" {
		t.Errorf("uidlist = %q", data)
	}
	if got := statOwner(t, p); got != fo {
		t.Errorf("uidlist owner %+v", got)
	}
	if err := w.WriteUIDList("", 0, 1, "", nil, fo); err == nil {
		t.Error("UIDVALIDITY 0 accepted")
	}
	if err := w.WriteKeywords("", []string{"$Important", "", "Junk"}, fo); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(base, "ctl/example.com/new/.INBOX/dovecot-keywords")); string(data) != "0 $Important\n2 Junk\n" {
		t.Errorf("keywords = %q", data)
	}
	if err := w.WriteSubscriptions([]string{"INBOX", "Entwürfe"}, nil, fo); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(base, "ctl/example.com/new/subscriptions")
	if data, _ := os.ReadFile(sp); string(data) != "V\t2\n\nINBOX\nEntw&APw-rfe\n" {
		t.Errorf("subscriptions = %q", data)
	}
	raw := []byte("INBOX\nold.style\n")
	if err := w.WriteSubscriptions([]string{"ignored"}, raw, fo); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(sp); !bytes.Equal(data, raw) {
		t.Errorf("raw subscriptions = %q", data)
	}
	// Nothing but the files themselves is left in the control directory.
	ents, _ := os.ReadDir(filepath.Join(base, "ctl/example.com/new"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{".INBOX", ".Projects.2026", "subscriptions"}; !reflect.DeepEqual(names, want) {
		t.Errorf("control dir = %q, want %q", names, want)
	}
}

// TestWriterRoundTrip scans a hand-made account, writes it into a new
// account and scans that: the same folders, names, flags, keywords, UIDs,
// dates, owners and subscriptions.
func TestWriterRoundTrip(t *testing.T) {
	s, a := handMade(t)
	o := testOwner(0o700)
	filepath.Walk(a.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			os.Chown(p, int(o.UID), int(o.GID))
		}
		return nil
	})
	src, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := s.Account("copy@example.com")
	if err := Copy(s, a, src, s.Writer(dst)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Scan(dst)
	if err != nil {
		t.Fatal(err)
	}
	normalize := func(snap *Snapshot) *Snapshot {
		c := *snap
		c.Account = Account{}
		c.Warnings, c.Skipped = nil, nil // the source's: a restore writes neither
		c.Folders = append([]Folder(nil), snap.Folders...)
		for i := range c.Folders {
			f := &c.Folders[i]
			f.Stamp = Stamp{} // the copy's directories are newer
			f.Messages = append([]Message(nil), f.Messages...)
			for j := range f.Messages {
				f.Messages[j].Ino, f.Messages[j].Dev = 0, 0
				f.Messages[j].MTime = f.Messages[j].MTime.UTC()
			}
		}
		return &c
	}
	if g, w := normalize(got), normalize(src); !reflect.DeepEqual(g, w) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", g, w)
	}
}

// Copy writes a snapshot of one account into another through w, the way
// a restore does: folders, messages, uidlists, keywords, subscriptions.
func Copy(s *Store, from Account, snap *Snapshot, w *Writer) error {
	for i := range snap.Folders {
		f := &snap.Folders[i]
		if err := w.Folder(FolderSpec{Name: f.Name, Dir: f.Dir, Owner: f.Owner}); err != nil {
			return err
		}
		if err := copyFolder(s, from, f, w); err != nil {
			return err
		}
	}
	if snap.SubscriptionsRaw != nil {
		if err := w.WriteSubscriptions(snap.Subscriptions, snap.SubscriptionsRaw, snap.SubscriptionsOwner); err != nil {
			return err
		}
	}
	return w.Sync()
}

// copyFolder copies one folder under its uidlist lock.
func copyFolder(s *Store, from Account, f *Folder, w *Writer) (err error) {
	unlock, err := w.Lock(f.Dir)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unlock(); err == nil {
			err = uerr
		}
	}()
	var entries []UIDEntry
	for j := range f.Messages {
		m := &f.Messages[j]
		r, err := s.OpenMessage(from, f, m)
		if err != nil {
			return err
		}
		err = w.WriteMessage(f.Dir, m.Subdir, m.Name, r, m.MTime, m.Owner)
		r.Close()
		if err != nil {
			return err
		}
		if m.UID != 0 {
			entries = append(entries, UIDEntry{UID: m.UID, Base: m.Base})
		}
	}
	if f.Keywords != nil {
		if err := w.WriteKeywords(f.Dir, f.Keywords, f.KeywordsOwner); err != nil {
			return err
		}
	}
	if f.UIDValidity != 0 {
		if err := w.WriteUIDListFile(f.Dir, &UIDList{Version: 3, UIDValidity: f.UIDValidity, NextUID: f.NextUID, GUID: f.GUID, HeaderExt: f.UIDExt, Entries: entries}, f.UIDListOwner); err != nil {
			return err
		}
	}
	return nil
}
