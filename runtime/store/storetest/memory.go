package storetest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// The Memory driver is Writable and its own Harness.
var (
	_ store.Writable = (*Memory)(nil)
	_ Harness        = (*Memory)(nil)
)

// Memory is a store driver that keeps its accounts in memory, for tests:
// folders of messages, nothing on disk, no owners, no directories to
// watch. It is Writable, and it is its own Harness: SetFlags and Expunge
// do what an IMAP client would. Make one with NewMemory; it is safe for
// concurrent use.
type Memory struct {
	mu       sync.Mutex
	accounts map[string]*memoryAccount
	copies   int
}

type memoryAccount struct {
	folders       map[string]*memoryFolder // by Dir
	subscriptions []byte
	marker        []byte
}

type memoryFolder struct {
	name, dir            string
	keywords             []string
	uidValidity, nextUID uint32
	guid                 string
	uids                 map[string]uint32 // ID → UID
	msgs                 map[string]*memoryMessage
	reserved             map[string]bool // IDs staged, not yet published
}

type memoryMessage struct {
	name, flags, letters string
	body                 []byte
	date                 time.Time
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{accounts: map[string]*memoryAccount{}} }

// Store returns s, for Harness.
func (s *Memory) Store() store.Writable { return s }

// Account resolves a name: "user@domain" or "user"; no "/", "..", NUL or
// leading ".".
func (s *Memory) Account(name string) (store.Account, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return store.Account{}, fmt.Errorf("account name %q cannot be held", name)
	}
	user, domain, _ := strings.Cut(name, "@")
	return store.Account{Name: name, User: user, Domain: domain}, nil
}

// Accounts lists the accounts that have a folder, by name.
func (s *Memory) Accounts() ([]store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Account
	for _, n := range slices.Sorted(maps.Keys(s.accounts)) {
		a, _ := s.Account(n)
		out = append(out, a)
	}
	return out, nil
}

// Snapshot lists an account; options are ignored (nothing is reused).
func (s *Memory) Snapshot(a store.Account, _ store.SnapshotOptions) (*store.Snapshot, error) {
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
				Keywords: keywordNames(f.keywords, m.letters), Size: int64(len(m.body)), MTime: m.date, UID: uid})
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

// keywordNames maps keyword letters through a table, "?x" for letters it lacks.
func keywordNames(table []string, letters string) []string {
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

// Open returns a message's content, updating m when its flags changed.
func (s *Memory) Open(a store.Account, f *store.Folder, m *store.Message) (io.ReadCloser, error) {
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
	m.Name, m.Flags, m.Keywords = cur.name, cur.flags, keywordNames(mf.keywords, cur.letters)
	return io.NopCloser(bytes.NewReader(cur.body)), nil
}

// AccountWriter returns a Writer for an account.
func (s *Memory) AccountWriter(a store.Account) store.Writer { return &memoryWriter{s: s, a: a} }

// FolderDir is the folder's name itself, "" for INBOX.
func (s *Memory) FolderDir(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("folder name %q cannot be held", name)
	}
	if strings.EqualFold(name, store.Inbox) {
		return "", nil
	}
	return name, nil
}

// Layout is "memory".
func (s *Memory) Layout() string { return "memory" }

// ParseSubscriptions reads the names of a "V\t2" subscriptions file.
func (s *Memory) ParseSubscriptions(raw []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimPrefix(string(raw), "V\t2\n\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// MessageName is "id;flags;letters".
func (s *Memory) MessageName(id, flags, letters string) string {
	return id + ";" + flags + ";" + letters
}

// NewID appends a copy number to id.
func (s *Memory) NewID(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copies++
	return fmt.Sprintf("%s.copy%d", id, s.copies)
}

// ListableID accepts every identity but "".
func (s *Memory) ListableID(id string) bool { return id != "" }

// KeywordLetters maps names to letters of the table, "?x" to x.
func (s *Memory) KeywordLetters(table, kws []string) (string, error) {
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

// MaxKeywords is 26, as in Maildir.
func (s *Memory) MaxKeywords() int { return 26 }

// SetFlags changes a message's flags, keeping its identity and keywords.
func (s *Memory) SetFlags(a store.Account, f *store.Folder, m *store.Message, flags string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.accounts[a.Name].folders[f.Dir].msgs[m.Base]
	cur.flags, cur.name = flags, s.MessageName(m.Base, flags, cur.letters)
	return nil
}

// Expunge removes a message.
func (s *Memory) Expunge(a store.Account, f *store.Folder, m *store.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts[a.Name].folders[f.Dir].msgs, m.Base)
	return nil
}

// memoryWriter writes into one account of a Memory.
type memoryWriter struct {
	s *Memory
	a store.Account
}

type memoryStaged struct {
	dir, id string
	msg     *memoryMessage
}

func (st *memoryStaged) StagedName() string { return st.msg.name }

// folder returns a folder of the account; the caller holds s.mu.
func (w *memoryWriter) folder(dir string) (*memoryFolder, error) {
	if acct := w.s.accounts[w.a.Name]; acct != nil && acct.folders[dir] != nil {
		return acct.folders[dir], nil
	}
	return nil, fmt.Errorf("account %s: no folder %q", w.a.Name, dir)
}

func (w *memoryWriter) Folder(spec store.FolderSpec) error {
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
		acct = &memoryAccount{folders: map[string]*memoryFolder{}}
		w.s.accounts[w.a.Name] = acct
	}
	if acct.folders[dir] == nil {
		name := dir
		if dir == "" {
			name = store.Inbox
		}
		acct.folders[dir] = &memoryFolder{name: name, dir: dir, uids: map[string]uint32{}, msgs: map[string]*memoryMessage{}, reserved: map[string]bool{}}
	}
	return nil
}

func (w *memoryWriter) Lock(string) (func() error, error) { return func() error { return nil }, nil }

func (w *memoryWriter) Stage(dir, _ string, name string, r io.Reader, date time.Time, _ store.Owner) (store.Staged, error) {
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
	return &memoryStaged{dir: dir, id: id, msg: &memoryMessage{name: name, flags: flags, letters: letters, body: body, date: date}}, nil
}

// parseName reads back a MessageName.
func parseName(name string) (id, flags, letters string) {
	parts := strings.SplitN(name, ";", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func (w *memoryWriter) Publish(batch []store.Staged) []error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	errs := make([]error, len(batch))
	for i, b := range batch {
		st := b.(*memoryStaged)
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

func (w *memoryWriter) Discard(batch []store.Staged) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for _, b := range batch {
		st := b.(*memoryStaged)
		if f, err := w.folder(st.dir); err == nil {
			delete(f.reserved, st.id)
		}
	}
}

func (w *memoryWriter) Keywords(dir string) ([]string, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err != nil {
		return nil, err
	}
	return slices.Clone(f.keywords), nil
}

func (w *memoryWriter) WriteKeywords(dir string, names []string, _ store.Owner) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	f, err := w.folder(dir)
	if err == nil {
		f.keywords = slices.Clone(names)
	}
	return err
}

func (w *memoryWriter) WriteUIDList(dir string, uidValidity, nextUID uint32, guid string, entries []store.UIDEntry, _ store.Owner) error {
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

func (w *memoryWriter) WriteSubscriptions(names []string, raw []byte, _ store.Owner) error {
	if raw == nil {
		raw = []byte("V\t2\n\n" + strings.Join(names, "\n") + "\n")
	}
	return w.account(func(a *memoryAccount) { a.subscriptions = slices.Clone(raw) })
}

func (w *memoryWriter) WriteRestoreMarker(data []byte, _ store.Owner) error {
	return w.account(func(a *memoryAccount) { a.marker = slices.Clone(data) })
}

func (w *memoryWriter) RestoreMarker() ([]byte, error) {
	var m []byte
	err := w.account(func(a *memoryAccount) { m = slices.Clone(a.marker) })
	return m, err
}

func (w *memoryWriter) RemoveRestoreMarker() error {
	return w.account(func(a *memoryAccount) { a.marker = nil })
}

// account runs fn on the account, which must exist.
func (w *memoryWriter) account(fn func(*memoryAccount)) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	a := w.s.accounts[w.a.Name]
	if a == nil {
		return fmt.Errorf("account %s: %w", w.a.Name, store.ErrNoAccount)
	}
	fn(a)
	return nil
}

func (w *memoryWriter) Sync() error { return nil }
