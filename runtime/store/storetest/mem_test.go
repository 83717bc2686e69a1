package storetest_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailkeep/mailkeep/runtime/store"
	"github.com/mailkeep/mailkeep/runtime/store/storetest"
)

// TestMemoryDriver runs the suite against a driver that keeps no files: a
// map in memory. It shows that the contract does not depend on Maildir.
func TestMemoryDriver(t *testing.T) {
	storetest.TestStore(t, func(t *testing.T) storetest.Harness { return &memStore{accounts: map[string]*memAccount{}} })
}

// memStore is a store driver in memory: accounts of folders of messages,
// nothing on disk, no owners.
type memStore struct {
	mu       sync.Mutex
	accounts map[string]*memAccount
	copies   int
}

type memAccount struct {
	folders       map[string]*memFolder // by Dir
	subscriptions []byte
	marker        []byte
}

type memFolder struct {
	name, dir            string
	keywords             []string
	uidValidity, nextUID uint32
	guid                 string
	uids                 map[string]uint32 // ID → UID
	msgs                 map[string]*memMsg
	reserved             map[string]bool // IDs staged, not yet published
}

type memMsg struct {
	name, flags, letters string
	body                 []byte
	date                 time.Time
}

func (s *memStore) Store() store.Writable { return s }

func (s *memStore) Account(name string) (store.Account, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return store.Account{}, fmt.Errorf("account name %q cannot be held", name)
	}
	user, domain, _ := strings.Cut(name, "@")
	return store.Account{Name: name, User: user, Domain: domain}, nil
}

func (s *memStore) Accounts() ([]store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Account
	for _, n := range slices.Sorted(maps.Keys(s.accounts)) {
		a, _ := s.Account(n)
		out = append(out, a)
	}
	return out, nil
}

func (s *memStore) Snapshot(a store.Account, _ store.SnapshotOptions) (*store.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[a.Name]
	if acct == nil {
		return nil, fmt.Errorf("account %s: %w", a.Name, store.ErrNoAccount)
	}
	snap := &store.Snapshot{Account: a, SubscriptionsRaw: slices.Clone(acct.subscriptions)}
	if acct.subscriptions != nil {
		snap.Subscriptions = s.ParseSubscriptions(acct.subscriptions)
	}
	for _, f := range acct.folders {
		sf := store.Folder{Name: f.name, Dir: f.dir, UIDValidity: f.uidValidity, NextUID: f.nextUID, GUID: f.guid, Keywords: slices.Clone(f.keywords)}
		for id, m := range f.msgs {
			uid := f.uids[id]
			sf.NextUID = max(sf.NextUID, uid+1)
			sf.Messages = append(sf.Messages, store.Message{Subdir: "cur", Name: m.name, Base: id, Flags: m.flags,
				Keywords: names(f.keywords, m.letters), Size: int64(len(m.body)), MTime: m.date, UID: uid})
		}
		slices.SortFunc(sf.Messages, func(x, y store.Message) int {
			if x.UID != y.UID && x.UID != 0 && y.UID != 0 {
				return int(x.UID) - int(y.UID)
			}
			return strings.Compare(x.Name, y.Name)
		})
		snap.Folders = append(snap.Folders, sf)
	}
	slices.SortFunc(snap.Folders, func(x, y store.Folder) int {
		if (x.Dir == "") != (y.Dir == "") {
			if x.Dir == "" {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	return snap, nil
}

// names maps keyword letters through a table, "?x" for letters it lacks.
func names(table []string, letters string) []string {
	var out []string
	for _, c := range []byte(letters) {
		if i := int(c - 'a'); i < len(table) && table[i] != "" {
			out = append(out, table[i])
		} else {
			out = append(out, "?"+string(c))
		}
	}
	return out
}

func (s *memStore) Open(a store.Account, f *store.Folder, m *store.Message) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := fmt.Errorf("account %s, folder %s, message %s: %w", a.Name, f.Name, m.Base, store.ErrVanished)
	acct := s.accounts[a.Name]
	if acct == nil || acct.folders[f.Dir] == nil {
		return nil, gone
	}
	mf := acct.folders[f.Dir]
	cur := mf.msgs[m.Base]
	if cur == nil {
		return nil, gone
	}
	m.Name, m.Flags, m.Keywords = cur.name, cur.flags, names(mf.keywords, cur.letters)
	return io.NopCloser(bytes.NewReader(cur.body)), nil
}

func (s *memStore) AccountWriter(a store.Account) store.Writer { return &memWriter{s: s, a: a} }

func (s *memStore) FolderDir(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("folder name %q cannot be held", name)
	}
	if strings.EqualFold(name, store.Inbox) {
		return "", nil
	}
	return name, nil
}

func (s *memStore) Layout() string { return "memory" }

func (s *memStore) ParseSubscriptions(raw []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimPrefix(string(raw), "V\t2\n\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *memStore) MessageName(id, flags, letters string) string {
	return id + ";" + flags + ";" + letters
}

func (s *memStore) NewID(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copies++
	return fmt.Sprintf("%s.copy%d", id, s.copies)
}

func (s *memStore) ListableID(id string) bool { return id != "" }

func (s *memStore) KeywordLetters(table, kws []string) (string, error) {
	var b []byte
	for _, k := range kws {
		if len(k) == 2 && k[0] == '?' {
			b = append(b, k[1])
			continue
		}
		i := slices.Index(table, k)
		if i < 0 || i >= s.MaxKeywords() {
			return "", fmt.Errorf("keyword %q is not in the folder's table", k)
		}
		b = append(b, byte('a'+i))
	}
	slices.Sort(b)
	return string(b), nil
}

func (s *memStore) MaxKeywords() int { return 26 }

// SetFlags and Expunge are what an IMAP client does behind the store's
// back.
func (s *memStore) SetFlags(a store.Account, f *store.Folder, m *store.Message, flags string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.accounts[a.Name].folders[f.Dir].msgs[m.Base]
	cur.flags, cur.name = flags, s.MessageName(m.Base, flags, cur.letters)
	return nil
}

func (s *memStore) Expunge(a store.Account, f *store.Folder, m *store.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts[a.Name].folders[f.Dir].msgs, m.Base)
	return nil
}

// memWriter writes into one account of a memStore.
type memWriter struct {
	s *memStore
	a store.Account
}

type memStaged struct {
	dir, id string
	msg     *memMsg
}

func (st *memStaged) StagedName() string { return st.msg.name }

// folder returns a folder of the account; the caller holds s.mu.
func (w *memWriter) folder(dir string) (*memFolder, error) {
	if acct := w.s.accounts[w.a.Name]; acct != nil && acct.folders[dir] != nil {
		return acct.folders[dir], nil
	}
	return nil, fmt.Errorf("account %s: no folder %q", w.a.Name, dir)
}

func (w *memWriter) Folder(spec store.FolderSpec) error {
	dir := spec.Dir
	if dir == "" && spec.Name != "" && !strings.EqualFold(spec.Name, store.Inbox) {
		var err error
		if dir, err = w.s.FolderDir(spec.Name); err != nil {
			return err
		}
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	acct := w.s.accounts[w.a.Name]
	if acct == nil {
		acct = &memAccount{folders: map[string]*memFolder{}}
		w.s.accounts[w.a.Name] = acct
	}
	if acct.folders[dir] == nil {
		name := dir
		if dir == "" {
			name = store.Inbox
		}
		acct.folders[dir] = &memFolder{name: name, dir: dir, uids: map[string]uint32{}, msgs: map[string]*memMsg{}, reserved: map[string]bool{}}
	}
	return nil
}

func (w *memWriter) Lock(string) (func() error, error) { return func() error { return nil }, nil }

func (w *memWriter) Stage(dir, _ string, name string, r io.Reader, date time.Time, _ store.Owner) (store.Staged, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	id, flags, letters := parseName(name)
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err != nil {
		return nil, err
	}
	if f.msgs[id] != nil || f.reserved[id] {
		return nil, fmt.Errorf("account %s, folder %s, message %s: %w", w.a.Name, f.name, id, store.ErrExists)
	}
	f.reserved[id] = true
	return &memStaged{dir: dir, id: id, msg: &memMsg{name: name, flags: flags, letters: letters, body: body, date: date}}, nil
}

// parseName reads back a MessageName.
func parseName(name string) (id, flags, letters string) {
	parts := strings.SplitN(name, ";", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func (w *memWriter) Publish(batch []store.Staged) []error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	errs := make([]error, len(batch))
	for i, b := range batch {
		st := b.(*memStaged)
		f, err := w.folder(st.dir)
		if err != nil {
			errs[i] = err
			continue
		}
		delete(f.reserved, st.id)
		f.msgs[st.id] = st.msg
	}
	return errs
}

func (w *memWriter) Discard(batch []store.Staged) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, b := range batch {
		st := b.(*memStaged)
		if f, err := w.folder(st.dir); err == nil {
			delete(f.reserved, st.id)
		}
	}
}

func (w *memWriter) Keywords(dir string) ([]string, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err != nil {
		return nil, err
	}
	return slices.Clone(f.keywords), nil
}

func (w *memWriter) WriteKeywords(dir string, names []string, _ store.Owner) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err == nil {
		f.keywords = slices.Clone(names)
	}
	return err
}

func (w *memWriter) WriteUIDList(dir string, uidValidity, nextUID uint32, guid string, entries []store.UIDEntry, _ store.Owner) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err != nil {
		return err
	}
	f.uidValidity, f.nextUID, f.guid, f.uids = uidValidity, nextUID, guid, map[string]uint32{}
	for _, e := range entries {
		f.uids[e.Base] = e.UID
	}
	return nil
}

func (w *memWriter) WriteSubscriptions(names []string, raw []byte, _ store.Owner) error {
	if raw == nil {
		raw = []byte("V\t2\n\n" + strings.Join(names, "\n") + "\n")
	}
	return w.account(func(a *memAccount) { a.subscriptions = slices.Clone(raw) })
}

func (w *memWriter) WriteRestoreMarker(data []byte, _ store.Owner) error {
	return w.account(func(a *memAccount) { a.marker = slices.Clone(data) })
}

func (w *memWriter) RestoreMarker() ([]byte, error) {
	var m []byte
	err := w.account(func(a *memAccount) { m = slices.Clone(a.marker) })
	return m, err
}

func (w *memWriter) RemoveRestoreMarker() error {
	return w.account(func(a *memAccount) { a.marker = nil })
}

// account runs fn on the account, which must exist.
func (w *memWriter) account(fn func(*memAccount)) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	a := w.s.accounts[w.a.Name]
	if a == nil {
		return fmt.Errorf("account %s: %w", w.a.Name, store.ErrNoAccount)
	}
	fn(a)
	return nil
}

func (w *memWriter) Sync() error { return nil }
