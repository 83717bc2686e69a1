package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// Harness is one driver under test.
type Harness interface {
	// Store returns the store under test, empty at first; every call
	// returns the same store.
	Store() store.Writable
	// SetFlags changes a message's standard flags, keeping its keywords,
	// as the mail server does.
	SetFlags(a store.Account, f *store.Folder, m *store.Message, flags string) error
	// Expunge removes a message as the mail server does.
	Expunge(a store.Account, f *store.Folder, m *store.Message) error
}

// TestStore runs the contract suite; newHarness is called once per
// sub-test.
func TestStore(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, h Harness)
	}{
		{"Accounts", testAccounts},
		{"RoundTrip", testRoundTrip},
		{"IdentityAcrossFlagChange", testIdentity},
		{"VanishedSkipped", testVanished},
		{"NeverReplace", testNeverReplace},
		{"Owners", testOwners},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, newHarness(t)) })
	}
}

// Accounts of the suite.
const (
	alice = "alice@example.org"
	bob   = "bob@example.org"
	carol = "carol@example.net"
)

// msg is a message the suite writes.
type msg struct {
	folder   string
	id       string
	flags    string
	keywords []string
	uid      uint32
	date     time.Time
	body     []byte
}

// corpus is what the suite writes into an account: folders with a keyword
// table, messages with flags, keywords, UIDs, dates and contents a driver
// must not touch (CRLF, a lone CR, NUL, 8-bit bytes, no final newline).
var (
	corpusKeywords = []string{"$Junk", "work", "Reisekosten"}
	corpusFolders  = []string{"INBOX", "Projects/2026", "Café"}
	corpus         = []msg{
		{"INBOX", "1767225600.M1P1.mx1,S=12", "", nil, 1, date(0), []byte("Subject: a\r\n\r\nhello\r\n")},
		{"INBOX", "1767225601.M2P1.mx1", "S", []string{"work"}, 2, date(1), []byte("Subject: b\n\nbody with a lone \r and NUL \x00")},
		{"INBOX", "1767225602.M3P1.mx1", "FRS", []string{"$Junk", "Reisekosten"}, 3, date(2), []byte("Subject: =?utf-8?q?c?=\r\n\r\n\xe4\xf6\xfc 8-bit")},
		{"Projects/2026", "1767225603.M4P1.mx1", "DT", nil, 1, date(3), []byte("Subject: d\r\n\r\n")},
		{"Café", "1767225604.M5P1.mx1", "P", []string{"work"}, 7, date(4), bytes.Repeat([]byte("x"), 70000)},
	}
	corpusSubscriptions = []byte("V\t2\n\nINBOX\nProjects/2026\n")
)

// date is a received date with nanoseconds, days in the past.
func date(i int) time.Time {
	return time.Date(2026, 1, 1+i, 9, 30, 15, 123456789, time.UTC)
}

// uidValidity and guid are the folders' UIDVALIDITY and GUID.
const (
	uidValidity = 1767225600
	guid        = "0123456789abcdef0123456789abcdef"
)

// letters returns a message's keyword letters in the corpus table.
func letters(t *testing.T, table, names []string) string {
	var b []byte
	for _, n := range names {
		i := slices.Index(table, n)
		if i < 0 {
			t.Fatalf("keyword %q is not in the table %q", n, table)
		}
		b = append(b, byte('a'+i))
	}
	slices.Sort(b)
	return string(b)
}

// account resolves a name, failing the test when it cannot.
func account(t *testing.T, st store.Store, name string) store.Account {
	t.Helper()
	a, err := st.Account(name)
	if err != nil {
		t.Fatalf("Account(%q): %v", name, err)
	}
	return a
}

// snapshot reads an account, failing the test when it cannot.
func snapshot(t *testing.T, st store.Store, a store.Account) *store.Snapshot {
	t.Helper()
	snap, err := st.Snapshot(a, store.SnapshotOptions{})
	if err != nil {
		t.Fatalf("Snapshot(%s): %v", a.Name, err)
	}
	return snap
}

// read opens and reads a message.
func read(st store.Store, a store.Account, f *store.Folder, m *store.Message) ([]byte, error) {
	r, err := st.Open(a, f, m)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// folder returns a snapshot's folder of that name.
func folder(t *testing.T, snap *store.Snapshot, name string) *store.Folder {
	t.Helper()
	for i := range snap.Folders {
		if snap.Folders[i].Name == name {
			return &snap.Folders[i]
		}
	}
	t.Fatalf("account %s: folder %q missing from the snapshot", snap.Account.Name, name)
	return nil
}

// writeCorpus writes msgs into an account as a restore does: folders,
// keyword tables, staged messages published in one batch, UID lists and
// subscriptions.
func writeCorpus(t *testing.T, h Harness, name string, msgs []msg, o store.Owner) {
	t.Helper()
	st := h.Store()
	w := st.AccountWriter(account(t, st, name))
	dirs := map[string]string{}
	for _, fn := range corpusFolders {
		dir, err := st.FolderDir(fn)
		if fn == "INBOX" {
			dir, err = "", nil
		}
		if err != nil {
			t.Fatalf("FolderDir(%q): %v", fn, err)
		}
		dirs[fn] = dir
		if err := w.Folder(store.FolderSpec{Name: fn, Dir: dir, Owner: o}); err != nil {
			t.Fatalf("account %s: creating folder %q: %v", name, fn, err)
		}
		if err := w.WriteKeywords(dir, corpusKeywords, fileOwner(o)); err != nil {
			t.Fatalf("account %s: writing the keywords of %q: %v", name, fn, err)
		}
	}
	var batch []store.Staged
	for _, m := range msgs {
		sub := "cur"
		s, err := w.Stage(dirs[m.folder], sub, h.Store().MessageName(m.id, m.flags, letters(t, corpusKeywords, m.keywords)), bytes.NewReader(m.body), m.date, fileOwner(o))
		if err != nil {
			t.Fatalf("account %s: staging %s: %v", name, m.id, err)
		}
		batch = append(batch, s)
	}
	for i, err := range w.Publish(batch) {
		if err != nil {
			t.Fatalf("account %s: publishing %s: %v", name, msgs[i].id, err)
		}
	}
	for _, fn := range corpusFolders {
		var entries []store.UIDEntry
		next := uint32(1)
		for _, m := range msgs {
			if m.folder == fn {
				entries = append(entries, store.UIDEntry{UID: m.uid, Base: m.id})
				next = max(next, m.uid+1)
			}
		}
		slices.SortFunc(entries, func(a, b store.UIDEntry) int { return int(a.UID) - int(b.UID) })
		if err := w.WriteUIDList(dirs[fn], uidValidity, next, guid, entries, fileOwner(o)); err != nil {
			t.Fatalf("account %s: writing the UIDs of %q: %v", name, fn, err)
		}
	}
	if err := w.WriteSubscriptions(nil, corpusSubscriptions, fileOwner(o)); err != nil {
		t.Fatalf("account %s: writing subscriptions: %v", name, err)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("account %s: Sync: %v", name, err)
	}
}

// fileOwner is a directory owner for files: no search bits.
func fileOwner(o store.Owner) store.Owner {
	if o.Known() {
		o.Mode &^= 0o111
	}
	return o
}

func testAccounts(t *testing.T, h Harness) {
	st := h.Store()
	if _, err := st.Snapshot(account(t, st, alice), store.SnapshotOptions{}); !errors.Is(err, store.ErrNoAccount) {
		t.Errorf("Snapshot of an account never written: %v, want ErrNoAccount", err)
	}
	for _, n := range []string{carol, alice, bob} {
		writeCorpus(t, h, n, corpus[:1], store.Owner{})
	}
	list, err := st.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
		if got := account(t, st, a.Name); got != a {
			t.Errorf("Account(%q) = %+v, Accounts lists %+v", a.Name, got, a)
		}
	}
	if want := []string{alice, bob, carol}; !slices.Equal(names, want) {
		t.Errorf("Accounts() = %q, want %q (sorted)", names, want)
	}
	if _, err := st.Account("../etc"); err == nil {
		t.Error(`Account("../etc") resolved a name that leaves the store`)
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	st := h.Store()
	writeCorpus(t, h, alice, corpus, store.Owner{})
	a := account(t, st, alice)
	snap := snapshot(t, st, a)
	if len(snap.Skipped) != 0 || len(snap.Warnings) != 0 {
		t.Errorf("snapshot of a clean account: skipped %v, warnings %v", snap.Skipped, snap.Warnings)
	}
	if !bytes.Equal(snap.SubscriptionsRaw, corpusSubscriptions) {
		t.Errorf("subscriptions = %q, want %q", snap.SubscriptionsRaw, corpusSubscriptions)
	}
	var names []string
	for _, f := range snap.Folders {
		names = append(names, f.Name)
	}
	if want := []string{"INBOX", "Café", "Projects/2026"}; !slices.Equal(names, want) {
		t.Errorf("folders = %q, want %q (INBOX first, then by name)", names, want)
	}
	for _, m := range corpus {
		f := folder(t, snap, m.folder)
		if f.UIDValidity != uidValidity || f.GUID != guid || !slices.Equal(f.Keywords, corpusKeywords) {
			t.Errorf("folder %q: UIDVALIDITY %d, GUID %q, keywords %q; want %d, %q, %q", f.Name, f.UIDValidity, f.GUID, f.Keywords, uidValidity, guid, corpusKeywords)
		}
		i := slices.IndexFunc(f.Messages, func(x store.Message) bool { return x.ID() == m.id })
		if i < 0 {
			t.Errorf("folder %q: message %s missing", m.folder, m.id)
			continue
		}
		got := &f.Messages[i]
		kw := slices.Sorted(slices.Values(m.keywords))
		gotKw := slices.Sorted(slices.Values(got.Keywords))
		if got.Flags != m.flags || !slices.Equal(gotKw, kw) || !got.MTime.Equal(m.date) || got.UID != m.uid || got.Size != int64(len(m.body)) {
			t.Errorf("folder %q, message %s: flags %q, keywords %q, date %v, UID %d, size %d; want %q, %q, %v, %d, %d",
				m.folder, m.id, got.Flags, gotKw, got.MTime, got.UID, got.Size, m.flags, kw, m.date, m.uid, len(m.body))
		}
		if body, err := read(st, a, f, got); err != nil || !bytes.Equal(body, m.body) {
			t.Errorf("folder %q, message %s: read %d bytes (%v), want the %d written", m.folder, m.id, len(body), err, len(m.body))
		}
	}
	// What was read, written into another account, reads back the same.
	writeSnapshot(t, h, snap, bob)
	back := snapshot(t, st, account(t, st, bob))
	if diff := compare(t, st, a, snap, account(t, st, bob), back, false); diff != "" {
		t.Errorf("backup-restore round trip differs:\n%s", diff)
	}
}

// writeSnapshot writes what a snapshot holds into another account, as a
// full restore does.
func writeSnapshot(t *testing.T, h Harness, snap *store.Snapshot, to string) {
	t.Helper()
	st := h.Store()
	w := st.AccountWriter(account(t, st, to))
	for i := range snap.Folders {
		f := &snap.Folders[i]
		if err := w.Folder(store.FolderSpec{Name: f.Name, Dir: f.Dir, Owner: f.Owner}); err != nil {
			t.Fatalf("account %s: creating folder %q: %v", to, f.Name, err)
		}
		if err := w.WriteKeywords(f.Dir, f.Keywords, f.KeywordsOwner); err != nil {
			t.Fatalf("account %s: writing the keywords of %q: %v", to, f.Name, err)
		}
		var batch []store.Staged
		var entries []store.UIDEntry
		for j := range f.Messages {
			m := &f.Messages[j]
			body, err := read(st, snap.Account, f, m)
			if err != nil {
				t.Fatalf("reading %s/%s: %v", f.Name, m.Key(), err)
			}
			s, err := w.Stage(f.Dir, m.Subdir, m.Key(), bytes.NewReader(body), m.MTime, m.Owner)
			if err != nil {
				t.Fatalf("account %s: staging %s: %v", to, m.ID(), err)
			}
			batch = append(batch, s)
			if m.UID != 0 {
				entries = append(entries, store.UIDEntry{UID: m.UID, Base: m.ID()})
			}
		}
		for j, err := range w.Publish(batch) {
			if err != nil {
				t.Fatalf("account %s: publishing %s: %v", to, f.Messages[j].ID(), err)
			}
		}
		if err := w.WriteUIDList(f.Dir, f.UIDValidity, f.NextUID, f.GUID, entries, f.UIDListOwner); err != nil {
			t.Fatalf("account %s: writing the UIDs of %q: %v", to, f.Name, err)
		}
	}
	if err := w.WriteSubscriptions(nil, snap.SubscriptionsRaw, snap.SubscriptionsOwner); err != nil {
		t.Fatalf("account %s: writing subscriptions: %v", to, err)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("account %s: Sync: %v", to, err)
	}
}

// compare describes how two snapshots differ in what a backup records:
// folders, their UIDs and keyword tables, messages with their identity,
// change key, flags, keywords, dates, UIDs and contents, subscriptions;
// owners when owners is set.
func compare(t *testing.T, st store.Store, aa store.Account, a *store.Snapshot, ba store.Account, b *store.Snapshot, owners bool) string {
	var d strings.Builder
	diff := func(format string, args ...any) { fmt.Fprintf(&d, format+"\n", args...) }
	if !bytes.Equal(a.SubscriptionsRaw, b.SubscriptionsRaw) {
		diff("subscriptions %q, %q", a.SubscriptionsRaw, b.SubscriptionsRaw)
	}
	if owners && (a.Owner != b.Owner || a.SubscriptionsOwner != b.SubscriptionsOwner) {
		diff("root owner %+v, %+v; subscriptions owner %+v, %+v", a.Owner, b.Owner, a.SubscriptionsOwner, b.SubscriptionsOwner)
	}
	if len(a.Folders) != len(b.Folders) {
		diff("%d folders, %d", len(a.Folders), len(b.Folders))
		return d.String()
	}
	for i := range a.Folders {
		fa, fb := &a.Folders[i], &b.Folders[i]
		if fa.Name != fb.Name || fa.Dir != fb.Dir || fa.UIDValidity != fb.UIDValidity || fa.NextUID != fb.NextUID ||
			fa.GUID != fb.GUID || !slices.Equal(fa.Keywords, fb.Keywords) || len(fa.Messages) != len(fb.Messages) {
			diff("folder %q (dir %q, UIDVALIDITY %d, next %d, GUID %q, keywords %q, %d messages), %q (%q, %d, %d, %q, %q, %d)",
				fa.Name, fa.Dir, fa.UIDValidity, fa.NextUID, fa.GUID, fa.Keywords, len(fa.Messages),
				fb.Name, fb.Dir, fb.UIDValidity, fb.NextUID, fb.GUID, fb.Keywords, len(fb.Messages))
			continue
		}
		if owners && (fa.Owner != fb.Owner || fa.KeywordsOwner != fb.KeywordsOwner || fa.UIDListOwner != fb.UIDListOwner) {
			diff("folder %q: owners %+v/%+v/%+v, %+v/%+v/%+v", fa.Name, fa.Owner, fa.KeywordsOwner, fa.UIDListOwner, fb.Owner, fb.KeywordsOwner, fb.UIDListOwner)
		}
		for j := range fa.Messages {
			ma, mb := &fa.Messages[j], &fb.Messages[j]
			if ma.ID() != mb.ID() || ma.Key() != mb.Key() || ma.Subdir != mb.Subdir || ma.Flags != mb.Flags ||
				!slices.Equal(ma.Keywords, mb.Keywords) || !ma.MTime.Equal(mb.MTime) || ma.UID != mb.UID || ma.Size != mb.Size {
				diff("folder %q: message %+v, %+v", fa.Name, *ma, *mb)
				continue
			}
			if owners && ma.Owner != mb.Owner {
				diff("folder %q, message %s: owner %+v, %+v", fa.Name, ma.ID(), ma.Owner, mb.Owner)
			}
			ca, errA := read(st, aa, fa, ma)
			cb, errB := read(st, ba, fb, mb)
			if errA != nil || errB != nil || !bytes.Equal(ca, cb) {
				diff("folder %q, message %s: contents differ (%v, %v)", fa.Name, ma.ID(), errA, errB)
			}
		}
	}
	return d.String()
}

func testIdentity(t *testing.T, h Harness) {
	st := h.Store()
	writeCorpus(t, h, alice, corpus[:2], store.Owner{})
	a := account(t, st, alice)
	before := snapshot(t, st, a)
	f := folder(t, before, "INBOX")
	old := f.Messages[0]
	if err := h.SetFlags(a, f, &f.Messages[0], "RS"); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, st, a)
	fa := folder(t, after, "INBOX")
	i := slices.IndexFunc(fa.Messages, func(m store.Message) bool { return m.ID() == old.ID() })
	if i < 0 {
		t.Fatalf("message %s is gone after a flag change: identity not kept", old.ID())
	}
	m := &fa.Messages[i]
	if m.Key() == old.Key() || m.Flags != "RS" {
		t.Errorf("after the flag change: key %q (was %q), flags %q; want a new key and flags \"RS\"", m.Key(), old.Key(), m.Flags)
	}
	if len(fa.Messages) != len(f.Messages) {
		t.Errorf("a flag change made %d messages of %d", len(fa.Messages), len(f.Messages))
	}
	// The message as the first snapshot saw it is still found.
	stale := old
	body, err := read(st, a, f, &stale)
	if err != nil || !bytes.Equal(body, corpus[0].body) {
		t.Errorf("opening a message renamed since the snapshot: %d bytes, %v", len(body), err)
	}
	if stale.Key() != m.Key() || stale.Flags != "RS" {
		t.Errorf("Open of a renamed message left it as key %q, flags %q; want %q, \"RS\"", stale.Key(), stale.Flags, m.Key())
	}
}

func testVanished(t *testing.T, h Harness) {
	st := h.Store()
	writeCorpus(t, h, alice, corpus[:3], store.Owner{})
	a := account(t, st, alice)
	snap := snapshot(t, st, a)
	f := folder(t, snap, "INBOX")
	if len(f.Messages) != 3 {
		t.Fatalf("INBOX has %d messages, want 3", len(f.Messages))
	}
	gone := f.Messages[1]
	if err := h.Expunge(a, f, &f.Messages[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := read(st, a, f, &gone); !errors.Is(err, store.ErrVanished) {
		t.Errorf("opening an expunged message: %v, want ErrVanished", err)
	}
	for _, j := range []int{0, 2} {
		if _, err := read(st, a, f, &f.Messages[j]); err != nil {
			t.Errorf("opening %s next to an expunged one: %v", f.Messages[j].ID(), err)
		}
	}
	again, err := st.Snapshot(a, store.SnapshotOptions{})
	if err != nil {
		t.Fatalf("snapshot after an expunge: %v", err)
	}
	fa := folder(t, again, "INBOX")
	if len(again.Skipped) != 0 || len(fa.Messages) != 2 || slices.ContainsFunc(fa.Messages, func(m store.Message) bool { return m.ID() == gone.ID() }) {
		t.Errorf("snapshot after an expunge: %d messages, skipped %v; want the 2 others and no skip", len(fa.Messages), again.Skipped)
	}
}

func testNeverReplace(t *testing.T, h Harness) {
	st := h.Store()
	writeCorpus(t, h, alice, corpus[:1], store.Owner{})
	a := account(t, st, alice)
	w := st.AccountWriter(a)
	m := corpus[0]
	for _, flags := range []string{m.flags, "S"} {
		s, err := w.Stage("", "cur", h.Store().MessageName(m.id, flags, ""), strings.NewReader("another message"), m.date, store.Owner{})
		if err == nil {
			err = w.Publish([]store.Staged{s})[0]
		}
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("writing a second message %s (flags %q): %v, want ErrExists", m.id, flags, err)
		}
	}
	// Writers racing on one new identity: exactly one wins.
	const racers = 8
	id := "1767225699.M99P1.mx1"
	errs := make(chan error, racers)
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := w.Stage("", "cur", st.MessageName(id, "", ""), strings.NewReader(fmt.Sprintf("racer %d", i)), m.date, store.Owner{})
			if err == nil {
				err = w.Publish([]store.Staged{s})[0]
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("a writer racing on %s: %v, want nil or ErrExists", id, err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers racing on %s succeeded, want exactly 1", won, id)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, st, a)
	f := folder(t, snap, "INBOX")
	if len(f.Messages) != 2 {
		t.Fatalf("INBOX has %d messages, want 2 (the first write and one racer)", len(f.Messages))
	}
	i := slices.IndexFunc(f.Messages, func(x store.Message) bool { return x.ID() == m.id })
	if i < 0 {
		t.Fatalf("message %s is gone", m.id)
	}
	if body, err := read(st, a, f, &f.Messages[i]); err != nil || !bytes.Equal(body, m.body) {
		t.Errorf("the existing message reads %q (%v), want what was written first", body, err)
	}
}

func testOwners(t *testing.T, h Harness) {
	st := h.Store()
	ok, isKeeper := st.(store.OwnerKeeper)
	if !isKeeper || !ok.KeepsOwners() {
		t.Logf("%T does not keep owners: nothing to check", st)
		return
	}
	o := store.Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Mode: 0o750}
	writeCorpus(t, h, alice, corpus, o)
	a := account(t, st, alice)
	snap := snapshot(t, st, a)
	fo := fileOwner(o)
	for _, f := range snap.Folders {
		if f.Owner != o || f.KeywordsOwner != fo || f.UIDListOwner != fo {
			t.Errorf("folder %q: owners %+v, %+v, %+v; want %+v, %+v, %+v", f.Name, f.Owner, f.KeywordsOwner, f.UIDListOwner, o, fo, fo)
		}
		for _, m := range f.Messages {
			if m.Owner != fo {
				t.Errorf("folder %q, message %s: owner %+v, want %+v", f.Name, m.ID(), m.Owner, fo)
			}
		}
	}
	if snap.SubscriptionsOwner != fo {
		t.Errorf("subscriptions owner %+v, want %+v", snap.SubscriptionsOwner, fo)
	}
	// And they survive a backup-restore round trip, other modes too.
	writeSnapshot(t, h, snap, bob)
	back := snapshot(t, st, account(t, st, bob))
	if diff := compare(t, st, a, snap, account(t, st, bob), back, true); diff != "" {
		t.Errorf("backup-restore round trip with owners differs:\n%s", diff)
	}
}
