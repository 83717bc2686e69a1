package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// The Store is a store driver with every optional capability.
var (
	_ store.Store       = (*Store)(nil)
	_ store.Writable    = (*Store)(nil)
	_ store.DirWatcher  = (*Store)(nil)
	_ store.OwnerKeeper = (*Store)(nil)
)

// Snapshot is ScanWith, for the store interface.
func (s *Store) Snapshot(a Account, opts ScanOptions) (*Snapshot, error) {
	return s.ScanWith(a, opts)
}

// Open is OpenMessage, for the store interface.
func (s *Store) Open(a Account, f *Folder, m *Message) (io.ReadCloser, error) {
	file, err := s.OpenMessage(a, f, m)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// KeepsOwners reports that a Maildir's snapshots carry the owner, group
// and mode of every directory and file, and that its Writer gives them
// back.
func (s *Store) KeepsOwners() bool { return true }

// ParseSubscriptions reads a subscriptions file of this Store's layout.
func (s *Store) ParseSubscriptions(raw []byte) []string { return ParseSubscriptions(raw, s.layout) }

// MessageName is FormatName.
func (s *Store) MessageName(id, flags, letters string) string { return FormatName(id, flags, letters) }

// NewID is NewBase.
func (s *Store) NewID(id string) string { return NewBase(id) }

// ListableID is ListableBase.
func (s *Store) ListableID(id string) bool { return ListableBase(id) }

// KeywordLetters is the package function KeywordLetters.
func (s *Store) KeywordLetters(table, names []string) (string, error) {
	return KeywordLetters(table, names)
}

// MaxKeywords is MaxKeywords: the letters 'a' to 'z'.
func (s *Store) MaxKeywords() int { return MaxKeywords }

// AccountWriter is Writer, for the store interface.
func (s *Store) AccountWriter(a Account) store.Writer { return storeWriter{s.Writer(a)} }

// storeWriter is a Writer as the store interface has it: staged messages
// travel as store.Staged.
type storeWriter struct{ *Writer }

func (w storeWriter) Stage(folderDir, subdir, name string, r io.Reader, date time.Time, o Owner) (store.Staged, error) {
	st, err := w.Writer.Stage(folderDir, subdir, name, r, date, o)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (w storeWriter) Publish(batch []store.Staged) []error { return w.Writer.Publish(staged(batch)) }

func (w storeWriter) Discard(batch []store.Staged) { w.Writer.Discard(staged(batch)) }

// staged converts a batch staged through the store interface back.
func staged(batch []store.Staged) []*Staged {
	out := make([]*Staged, len(batch))
	for i, st := range batch {
		out[i] = st.(*Staged)
	}
	return out
}

// StagedName is the file name the message is published under.
func (st *Staged) StagedName() string { return st.name }

// Keywords reads a folder's dovecot-keywords, in its control directory,
// without following a symbolic link to it; nil when there is none.
func (w *Writer) Keywords(folderDir string) ([]string, error) {
	path := filepath.Join(w.s.ControlDir(w.a, folderDir), KeywordsFile)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	table, err := ParseKeywords(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return table, nil
}

// WatchDiscovery calls watch for the directories where new accounts
// appear: the fixed part of the mail_store template and every existing
// directory at each level between it and the accounts' Maildir roots (for
// /var/vmail/%d/%n/Maildir: /var/vmail, /var/vmail/*, /var/vmail/*/*).
// Each level is watched before the next one is listed, so that a
// directory created at any moment is either listed or announced by an
// event of its watched parent.
func (s *Store) WatchDiscovery(watch func(dir string)) {
	tmpl := s.ms.Path
	i := strings.IndexByte(tmpl, '%')
	if i < 0 {
		return
	}
	prefix := filepath.Dir(tmpl[:i+1])
	rest := strings.Split(strings.TrimPrefix(tmpl, prefix+"/"), "/")
	watch(prefix)
	pattern := prefix
	for _, comp := range rest[:len(rest)-1] {
		if strings.Contains(comp, "%") {
			comp = "*"
		}
		pattern = filepath.Join(pattern, comp)
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				watch(m)
			}
		}
	}
}

// WatchAccount calls watch for an account's root, its control directory,
// and each folder's directory with its new/ and cur/. The root comes
// first: a folder created while the folders are listed is then announced
// by an event. A folder's directories are never named through a symbolic
// link below the root (inotify would follow it out of the account): such
// a folder is left to SmartScan.
func (s *Store) WatchAccount(a Account, watch func(dir string)) {
	watch(a.Root)
	if a.Control != a.Root {
		watch(a.Control)
	}
	// Only the folders are needed: skip listing their messages.
	snap, err := s.ScanWith(a, ScanOptions{Reuse: func(string, Stamp) bool { return true }})
	if err != nil {
		return // gone meanwhile; the rescan marks it deleted
	}
	for _, f := range snap.Folders {
		dir := filepath.Join(a.Root, f.Dir)
		for _, d := range []string{dir, filepath.Join(dir, "new"), filepath.Join(dir, "cur")} {
			if fi, err := os.Lstat(d); err == nil && fi.IsDir() {
				watch(d)
			}
		}
	}
}
