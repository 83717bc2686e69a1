package restore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// live is a hand-made account with exact histories: messages are named
// by a short label that is also their content, so that tests can follow
// them through moves (which give them a new file name).
type live struct {
	t     *testing.T
	store *maildir.Store
	repo  *repo.Repo
	acct  maildir.Account
	now   time.Time
	seq   int
}

const liveAccount = "u@example.com"

func newLive(t *testing.T, folders ...string) *live {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	ms, err := location.Parse("maildir:" + root + "/%d/%n/Maildir")
	if err != nil {
		t.Fatal(err)
	}
	l := &live{t: t, now: time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)}
	if l.store, err = maildir.Open(ms); err != nil {
		t.Fatal(err)
	}
	if l.repo, err = repo.Open(filepath.Join(dir, "backup"), repo.Options{Create: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.repo.Close() })
	l.acct = l.account(liveAccount, folders...)
	return l
}

// account creates an account with INBOX and the folders, owned by a mail
// user (uid 5000).
func (l *live) account(name string, folders ...string) maildir.Account {
	l.t.Helper()
	a, err := l.store.Account(name)
	if err != nil {
		l.t.Fatal(err)
	}
	w := l.store.Writer(a)
	for _, f := range append([]string{"INBOX"}, folders...) {
		if err := w.Folder(maildir.FolderSpec{Name: f, Owner: maildir.Owner{UID: 5000, GID: 5000, Mode: 0o700}}); err != nil {
			l.t.Fatal(err)
		}
	}
	return a
}

func (l *live) dir(folder string) string {
	d, err := l.store.FolderDir(folder)
	if err != nil {
		l.t.Fatal(err)
	}
	return filepath.Join(l.acct.Root, d)
}

// deliver writes a message whose content is its label into a folder.
func (l *live) deliver(folder, label, flags string) {
	l.t.Helper()
	l.seq++
	name := fmt.Sprintf("17000000%02d.M%dP1.host:2,%s", l.seq, l.seq, flags)
	p := filepath.Join(l.dir(folder), "cur", name)
	if err := os.WriteFile(p, []byte(content(label)), 0o600); err != nil {
		l.t.Fatal(err)
	}
	os.Chown(p, 5000, 5000)
	mt := time.Date(2026, 2, 1, 0, 0, l.seq, 0, time.UTC)
	os.Chtimes(p, mt, mt)
}

func content(label string) string {
	return "Subject: " + label + "\r\n\r\nbody of " + label + "\r\n"
}

// find returns the path of the message with a label in a folder, "" if
// none.
func (l *live) find(folder, label string) string {
	l.t.Helper()
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(l.dir(folder), sub))
		for _, e := range ents {
			p := filepath.Join(l.dir(folder), sub, e.Name())
			if data, err := os.ReadFile(p); err == nil && string(data) == content(label) {
				return p
			}
		}
	}
	return ""
}

func (l *live) must(folder, label string) string {
	l.t.Helper()
	p := l.find(folder, label)
	if p == "" {
		l.t.Fatalf("no message %q in %s", label, folder)
	}
	return p
}

// move moves a message as Dovecot does: a new file (new base name) in the
// other folder, the old one unlinked.
func (l *live) move(from, label, to string) {
	l.t.Helper()
	p := l.must(from, label)
	_, flags, _ := strings.Cut(filepath.Base(p), ":2,")
	l.seq++
	dst := filepath.Join(l.dir(to), "cur", fmt.Sprintf("17000000%02d.M%dP1.host:2,%s", l.seq, l.seq, flags))
	if err := os.Link(p, dst); err != nil {
		l.t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		l.t.Fatal(err)
	}
}

// setFlags renames a message to carry flags (a flag change).
func (l *live) setFlags(folder, label, flags string) {
	l.t.Helper()
	p := l.must(folder, label)
	base, _, _ := strings.Cut(filepath.Base(p), ":2,")
	if err := os.Rename(p, filepath.Join(filepath.Dir(p), base+":2,"+flags)); err != nil {
		l.t.Fatal(err)
	}
}

// expunge flags a message \Deleted, then removes it, as an IMAP client
// does.
func (l *live) expunge(folder, label string) {
	l.t.Helper()
	l.setFlags(folder, label, "ST")
	if err := os.Remove(l.must(folder, label)); err != nil {
		l.t.Fatal(err)
	}
}

// scan runs a SmartScan at the clock and advances it by an hour.
func (l *live) scan() time.Time {
	l.t.Helper()
	at := l.now
	if _, err := scan.Run(context.Background(), l.repo, l.store, scan.Options{Now: func() time.Time { return at }}); err != nil {
		l.t.Fatal(err)
	}
	l.now = l.now.Add(time.Hour)
	return at
}

func (l *live) clock() time.Time { return l.now }

// tree lists every file and directory below the store with its size,
// mode and owner, to prove that nothing was written.
func (l *live) tree() []string {
	l.t.Helper()
	var out []string
	filepath.WalkDir(filepath.Dir(filepath.Dir(filepath.Dir(l.acct.Root))), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		out = append(out, fmt.Sprintf("%s %d %v", p, fi.Size(), fi.Mode()))
		return nil
	})
	sort.Strings(out)
	return out
}

// itemID returns the catalog id of the last version of a labelled message.
func (l *live) itemID(folder, label string) int64 {
	l.t.Helper()
	var id int64
	sum := sha256Hex(content(label))
	err := l.repo.Catalog.DB().QueryRow(`SELECT id FROM items WHERE folder = ? AND hex(blob) = ? ORDER BY valid_from DESC, id DESC LIMIT 1`,
		folder, sum).Scan(&id)
	if err != nil {
		l.t.Fatalf("item %s/%s: %v", folder, label, err)
	}
	return id
}

func (l *live) undelete(o restore.UndeleteOptions) (*restore.LiveResult, error) {
	o.Account = liveAccount
	o.Now = l.clock
	return restore.Undelete(context.Background(), l.repo, l.store, o)
}

// info returns the flags and keyword names of a message file.
func (l *live) info(folder, path string) (flags string, keywords []string) {
	l.t.Helper()
	_, info, _ := strings.Cut(filepath.Base(path), ":2,")
	data, _ := os.ReadFile(filepath.Join(l.dir(folder), maildir.KeywordsFile))
	table, err := maildir.ParseKeywords(data)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, c := range info {
		if c >= 'a' && c <= 'z' {
			keywords = append(keywords, table[c-'a'])
		} else {
			flags += string(c)
		}
	}
	return flags, keywords
}

// TestUndeleteTracesTrash: deletions come back where they were deleted
// from, those expunged in the Trash to the folder they were in before,
// tagged, without \Deleted; flag changes and moves are not deletions;
// messages that stayed are untouched; a second undelete finds everything
// present.
func TestUndeleteTracesTrash(t *testing.T) {
	l := newLive(t, "Work", "Trash")
	for _, m := range []string{"m1", "m2", "m3", "m4"} {
		l.deliver("INBOX", m, "S")
	}
	l.deliver("Work", "w1", "")
	l.deliver("Work", "w2", "F")
	l.deliver("Trash", "t1", "S")
	t0 := l.scan()
	l.expunge("INBOX", "m1")
	l.move("INBOX", "m2", "Trash")
	l.setFlags("INBOX", "m3", "RS")
	l.move("Work", "w1", "Trash")
	l.move("Work", "w2", "INBOX") // a move, not a deletion
	l.scan()
	l.setFlags("Trash", "m2", "ST") // flagged in the Trash before the expunge
	l.scan()
	if err := os.Remove(l.must("Trash", "m2")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(l.must("Trash", "w1")); err != nil {
		t.Fatal(err)
	}
	l.expunge("Trash", "t1")
	l.scan()
	untouched := []string{l.must("INBOX", "m3"), l.must("INBOX", "m4"), l.must("INBOX", "w2")}

	res, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now})
	if err != nil {
		t.Fatalf("undelete: %v (%+v)", err, res)
	}
	tag := "undelete_" + l.now.Local().Format("2006-01-02")
	if res.Messages != 4 || res.Skipped != 0 || res.Failed != 0 || res.Keyword != tag {
		t.Fatalf("undelete wrote %d, skipped %d, failed %d, keyword %q; want 4, 0, 0, %q: %+v", res.Messages, res.Skipped, res.Failed, res.Keyword, tag, res.Items)
	}
	moved := 0
	for _, ir := range res.Items {
		if ir.FromFolder == "Trash" && (ir.Folder == "INBOX" || ir.Folder == "Work") {
			moved++
		}
	}
	if moved != 2 {
		t.Errorf("%d items say they came from the Trash back to their folder, want 2: %+v", moved, res.Items)
	}
	for _, c := range []struct{ folder, label, flags string }{{"INBOX", "m1", "S"}, {"INBOX", "m2", "S"}, {"Work", "w1", ""}, {"Trash", "t1", "S"}} {
		p := l.must(c.folder, c.label)
		flags, kw := l.info(c.folder, p)
		if flags != c.flags || !slices.Equal(kw, []string{tag}) {
			t.Errorf("%s/%s came back with flags %q keywords %v, want %q [%s]", c.folder, c.label, flags, kw, c.flags, tag)
		}
		var st syscall.Stat_t
		syscall.Stat(p, &st)
		if st.Uid != 5000 || st.Gid != 5000 {
			t.Errorf("%s/%s belongs to %d:%d, want the account's 5000:5000", c.folder, c.label, st.Uid, st.Gid)
		}
		if fi, _ := os.Stat(p); fi.ModTime().Year() != 2026 || fi.ModTime().Month() != 2 {
			t.Errorf("%s/%s has received date %s, want its own (February)", c.folder, c.label, fi.ModTime())
		}
	}
	for _, c := range []struct{ folder, label string }{{"Trash", "m2"}, {"Trash", "w1"}, {"INBOX", "w1"}, {"Work", "w2"}} {
		if l.find(c.folder, c.label) != "" {
			t.Errorf("%s came back into %s", c.label, c.folder)
		}
	}
	for _, p := range untouched {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a message that was not deleted changed: %v", err)
		}
	}
	again, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now})
	if err != nil || again.Messages != 0 || again.Skipped != 4 {
		t.Fatalf("second undelete wrote %d and skipped %d (%v), want 0 and 4", again.Messages, again.Skipped, err)
	}
}

// TestUndeleteMoveRecordedInTwoSteps: an IMAP MOVE copies the message,
// flags the original \Deleted and expunges it; under load the realtime
// scanner records the copy and the flag in one batch and the expunge in
// the next. That is a move, not a deletion: undelete brings nothing back
// (it used to bring the original back into its old folder).
func TestUndeleteMoveRecordedInTwoSteps(t *testing.T) {
	l := newLive(t, "Work")
	l.deliver("Work", "w3", "S")
	t0 := l.scan()
	p := l.must("Work", "w3")
	l.seq++
	if err := os.Link(p, filepath.Join(l.dir("INBOX"), "cur", fmt.Sprintf("17000000%02d.M%dP1.host:2,S", l.seq, l.seq))); err != nil {
		t.Fatal(err)
	}
	l.setFlags("Work", "w3", "ST")
	at := l.now
	l.scan()
	l.now = at.Add(5 * time.Second)
	if err := os.Remove(l.must("Work", "w3")); err != nil {
		t.Fatal(err)
	}
	l.scan()
	res, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 0 {
		t.Errorf("undelete of a move recorded in two steps would write %d messages: %+v", res.Messages, res.Items)
	}
}

// TestUndeleteRecreatesFolder: a folder deleted with its messages comes
// back with the backed-up owner and mode, subscribed.
func TestUndeleteRecreatesFolder(t *testing.T) {
	l := newLive(t, "Projects")
	l.deliver("Projects", "p1", "S")
	l.deliver("Projects", "p2", "")
	t0 := l.scan()
	if err := os.RemoveAll(l.dir("Projects")); err != nil {
		t.Fatal(err)
	}
	l.scan()
	res, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now})
	if err != nil || res.Messages != 2 {
		t.Fatalf("undelete: %v %+v", err, res)
	}
	l.must("Projects", "p1")
	l.must("Projects", "p2")
	fi, err := os.Stat(l.dir("Projects"))
	if err != nil || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != 5000 {
		t.Errorf("recreated folder: %v %v", fi.Mode(), err)
	}
	if !slices.Equal(res.Subscribed, []string{"Projects"}) || len(res.Folders) != 1 || !res.Folders[0].Created {
		t.Errorf("subscribed %v, folders %+v", res.Subscribed, res.Folders)
	}
	subs, _ := os.ReadFile(filepath.Join(l.acct.Root, maildir.SubscriptionsFile))
	if !strings.Contains(string(subs), "Projects") {
		t.Errorf("subscriptions %q lack Projects", subs)
	}
}

// TestUndeleteKeywordTableFull: where a folder's 26 keyword letters are
// taken, the fixed keyword "undeleted" is used if the table has it, and
// the result says so; where it has not, the messages come back untagged
// and the result says that too.
func TestUndeleteKeywordTableFull(t *testing.T) {
	l := newLive(t, "Full", "Fuller")
	full := func(folder string, last string) {
		var names []string
		for i := 0; i < maildir.MaxKeywords-1; i++ {
			names = append(names, fmt.Sprintf("kw%02d", i))
		}
		data, _ := maildir.FormatKeywords(append(names, last))
		if err := os.WriteFile(filepath.Join(l.dir(folder), maildir.KeywordsFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	full("Full", restore.UndeleteFallbackKeyword)
	full("Fuller", "kw25")
	l.deliver("Full", "a", "Sa")
	l.deliver("Fuller", "b", "S")
	t0 := l.scan()
	l.expunge("Full", "a")
	l.expunge("Fuller", "b")
	l.scan()
	res, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now})
	if err != nil || res.Messages != 2 {
		t.Fatalf("undelete: %v %+v", err, res)
	}
	if _, kw := l.info("Full", l.must("Full", "a")); !slices.Equal(kw, []string{"kw00", restore.UndeleteFallbackKeyword}) {
		t.Errorf("in the full folder the message has keywords %v, want its own and %q", kw, restore.UndeleteFallbackKeyword)
	}
	if _, kw := l.info("Fuller", l.must("Fuller", "b")); len(kw) != 0 {
		t.Errorf("in the folder without room the message has keywords %v, want none", kw)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, `folder Full: its keyword table is full (26 letters): the restored messages are tagged "undeleted"`) ||
		!strings.Contains(notes, `folder Fuller: its keyword table is full (26 letters) and has neither`) {
		t.Errorf("notes do not tell about the full tables:\n%s", notes)
	}
}

// TestUndeleteBadInput: a reversed range, a range before the first
// backup, in the future or trimmed by the purge, an unknown account and a
// folder Maildir++ cannot hold are errors naming what is wrong, and
// nothing is written.
func TestUndeleteBadInput(t *testing.T) {
	l := newLive(t)
	l.deliver("INBOX", "m1", "")
	t0 := l.scan()
	l.expunge("INBOX", "m1")
	t1 := l.scan()
	tx, err := l.repo.Catalog.Begin()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := l.repo.Catalog.AccountByName(liveAccount)
	if err := tx.RaiseExactFrom(a.ID, t0.Add(30*time.Minute).UnixNano()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	before := l.tree()
	for _, c := range []struct {
		o    restore.UndeleteOptions
		want string
	}{
		{restore.UndeleteOptions{From: t1, Until: t0.Add(time.Hour)}, "is not after its start"},
		{restore.UndeleteOptions{From: t0.Add(-time.Hour), Until: t1}, "before its first backup"},
		{restore.UndeleteOptions{From: t0.Add(time.Minute), Until: t1}, "retention purge removed its deletions before"},
		{restore.UndeleteOptions{From: t0.Add(time.Hour), Until: t1.Add(48 * time.Hour)}, "is in the future"},
		{restore.UndeleteOptions{From: t0.Add(time.Hour), Until: t1, Folder: "a.b"}, "Maildir++ uses as its separator"},
	} {
		res, err := l.undelete(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || res != nil {
			t.Errorf("undelete %+v: %v, want an error containing %q", c.o, err, c.want)
		}
	}
	_, err = restore.Undelete(context.Background(), l.repo, l.store, restore.UndeleteOptions{Account: "nobody@example.com", From: t0, Until: t1, Now: l.clock})
	if err == nil || !strings.Contains(err.Error(), "nobody@example.com") {
		t.Errorf("unknown account: %v", err)
	}
	if after := l.tree(); !slices.Equal(before, after) {
		t.Errorf("bad input wrote something:\n%v", setDiff(after, before))
	}
}

// TestRestoreItems: single versions come back with flags, keywords and
// date into their folder or into -folder (created and subscribed), never
// as a duplicate of a message still there; into another account the files
// get that account's owner.
func TestRestoreItems(t *testing.T) {
	l := newLive(t, "Work")
	l.deliver("INBOX", "m1", "FS")
	l.deliver("INBOX", "m2", "S")
	l.deliver("Work", "w1", "")
	l.scan()
	id1, id2, idw := l.itemID("INBOX", "m1"), l.itemID("INBOX", "m2"), l.itemID("Work", "w1")
	l.expunge("INBOX", "m1")
	if err := os.RemoveAll(l.dir("Work")); err != nil {
		t.Fatal(err)
	}
	l.scan()
	m2 := l.must("INBOX", "m2")

	res, err := restore.RestoreItems(context.Background(), l.repo, l.store, restore.ItemOptions{Account: liveAccount, IDs: []int64{id1, id2, idw}})
	if err != nil {
		t.Fatalf("restore item: %v", err)
	}
	if res.Messages != 2 || res.Skipped != 1 || len(res.Items) != 3 {
		t.Fatalf("restored %d, skipped %d; want 2 and 1 (m2 is still there): %+v", res.Messages, res.Skipped, res.Items)
	}
	for _, ir := range res.Items {
		if want := map[int64]string{id1: restore.OutcomeRestored, id2: restore.OutcomePresent, idw: restore.OutcomeRestored}[ir.ID]; ir.Outcome != want {
			t.Errorf("item %d: %+v, want %s", ir.ID, ir, want)
		}
	}
	if flags, _ := l.info("INBOX", l.must("INBOX", "m1")); flags != "FS" {
		t.Errorf("m1 came back with flags %q, want FS", flags)
	}
	l.must("Work", "w1")
	if _, err := os.Stat(m2); err != nil {
		t.Errorf("the message still there was touched: %v", err)
	}

	// Into a folder of another account that belongs to another user.
	other := l.account("v@example.com")
	os.Chown(other.Root, 6000, 6000)
	res, err = restore.RestoreItems(context.Background(), l.repo, l.store, restore.ItemOptions{
		Account: liveAccount, IDs: []int64{id1, id1}, To: "v@example.com", Folder: "Restored"})
	if err != nil || res.Messages != 1 || !slices.Equal(res.Subscribed, []string{"Restored"}) {
		t.Fatalf("restore item -to -folder: %v %+v", err, res)
	}
	p := filepath.Join(other.Root, ".Restored", "cur")
	ents, _ := os.ReadDir(p)
	if len(ents) != 1 {
		t.Fatalf("%s holds %d files, want 1", p, len(ents))
	}
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(p, ents[0].Name()), &st)
	if st.Uid != 6000 || st.Gid != 6000 {
		t.Errorf("the restored file belongs to %d:%d, want the target account's 6000:6000", st.Uid, st.Gid)
	}
}

// TestRestoreItemsBadInput: an unknown id, an id of another account and a
// folder Maildir++ cannot hold are errors naming them; nothing is written.
func TestRestoreItemsBadInput(t *testing.T) {
	l := newLive(t)
	l.account("v@example.com")
	l.deliver("INBOX", "m1", "")
	vroot := filepath.Join(filepath.Dir(filepath.Dir(l.acct.Root)), "v", "Maildir")
	os.WriteFile(filepath.Join(vroot, "cur", "1.M1P1.h:2,S"), []byte(content("v1")), 0o600)
	l.scan()
	id := l.itemID("INBOX", "m1")
	var vid int64
	l.repo.Catalog.DB().QueryRow(`SELECT id FROM items WHERE name = '1.M1P1.h:2,S'`).Scan(&vid)
	os.Remove(l.must("INBOX", "m1"))
	before := l.tree()
	for _, c := range []struct {
		o    restore.ItemOptions
		want string
	}{
		{restore.ItemOptions{IDs: []int64{id, 999999}}, "item 999999 (no such item)"},
		{restore.ItemOptions{IDs: []int64{vid, id}}, fmt.Sprintf("item %d (an item of v@example.com)", vid)},
		{restore.ItemOptions{IDs: []int64{id}, Folder: "../x"}, `folder "../x" cannot be written`},
		{restore.ItemOptions{IDs: []int64{id}, Folder: "\xffx"}, "is not UTF-8"},
		{restore.ItemOptions{IDs: []int64{id}, To: "bad/name"}, "contains '/'"},
		{restore.ItemOptions{}, "at least one item id"},
	} {
		c.o.Account = liveAccount
		res, err := restore.RestoreItems(context.Background(), l.repo, l.store, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || res != nil {
			t.Errorf("restore item %+v: %v, want an error containing %q", c.o, err, c.want)
		}
	}
	if after := l.tree(); !slices.Equal(before, after) {
		t.Errorf("bad input wrote something:\n%v", setDiff(after, before))
	}
}

// TestGranularDryRunWritesNothing: the three granular restores in dry-run
// mode report what they would write and write nothing.
func TestGranularDryRunWritesNothing(t *testing.T) {
	l := newLive(t, "Work")
	l.deliver("INBOX", "m1", "S")
	l.deliver("Work", "w1", "")
	t0 := l.scan()
	id := l.itemID("INBOX", "m1")
	l.expunge("INBOX", "m1")
	l.scan()
	before := l.tree()
	ctx := context.Background()
	u, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now, DryRun: true})
	if err != nil || u.Messages != 1 || u.Items[0].Outcome != restore.OutcomeWouldRestore {
		t.Errorf("undelete -dry-run: %v %+v", err, u)
	}
	i, err := restore.RestoreItems(ctx, l.repo, l.store, restore.ItemOptions{Account: liveAccount, IDs: []int64{id}, Folder: "New", DryRun: true})
	if err != nil || i.Messages != 1 || !i.Folders[0].Created {
		t.Errorf("restore item -dry-run: %v %+v", err, i)
	}
	f, err := restore.IntoFolder(ctx, l.repo, l.store, restore.IntoFolderOptions{Account: liveAccount, At: t0.Add(time.Minute), Folder: "R", DryRun: true})
	if err != nil || f.Messages != 2 || len(f.Folders) != 2 {
		t.Errorf("into-folder -dry-run: %v %+v", err, f)
	}
	if after := l.tree(); !slices.Equal(before, after) {
		t.Errorf("a dry run wrote something:\n%v", setDiff(after, before))
	}
}

// TestIntoFolder: the whole tree at an instant goes under a new folder,
// with flags, keywords and dates; live folders stay as they were; the new
// folders are subscribed; a name Maildir++ cannot hold or one that exists
// is refused.
func TestIntoFolder(t *testing.T) {
	l := newLive(t, "Work", "Work/2026")
	l.deliver("INBOX", "m1", "Sa")
	l.deliver("INBOX", "m2", "")
	l.deliver("Work/2026", "w1", "F")
	data, _ := maildir.FormatKeywords([]string{"$Important"})
	os.WriteFile(filepath.Join(l.dir("INBOX"), maildir.KeywordsFile), data, 0o600)
	t0 := l.scan()
	l.expunge("INBOX", "m1")
	l.deliver("INBOX", "m3", "")
	l.scan()
	liveBefore := l.tree()

	const name = "Restored/2026-03-01 04:00"
	res, err := restore.IntoFolder(context.Background(), l.repo, l.store, restore.IntoFolderOptions{Account: liveAccount, At: t0.Add(time.Minute), Folder: name})
	if err != nil {
		t.Fatalf("into-folder: %v", err)
	}
	if res.Messages != 3 || len(res.Folders) != 3 || len(res.Subscribed) != 3 {
		t.Fatalf("into-folder: %+v", res)
	}
	p := l.must(name+"/INBOX", "m1")
	if flags, kw := l.info(name+"/INBOX", p); flags != "S" || !slices.Equal(kw, []string{"$Important"}) {
		t.Errorf("m1 under %s: flags %q keywords %v", name, flags, kw)
	}
	l.must(name+"/INBOX", "m2")
	l.must(name+"/Work/2026", "w1")
	if l.find(name+"/INBOX", "m3") != "" {
		t.Errorf("m3, delivered after the instant, was restored")
	}
	// Every live path is as it was (only the subscriptions file and the
	// new folders are added).
	after := l.tree()
	for _, s := range liveBefore {
		if !slices.Contains(after, s) && !strings.Contains(s, maildir.SubscriptionsFile) {
			t.Errorf("live path changed: %s", s)
		}
	}
	snap, _ := l.store.Scan(l.acct)
	for _, want := range []string{name + "/INBOX", name + "/Work", name + "/Work/2026"} {
		if !slices.Contains(snap.Subscriptions, want) {
			t.Errorf("%s not subscribed: %v", want, snap.Subscriptions)
		}
	}
	for _, c := range []struct{ folder, want string }{
		{name, "exists already"},
		{"Restored.x", "Maildir++ uses as its separator"},
		{"INBOX", "not into INBOX itself"},
		{"", "needs a folder name"},
	} {
		before := l.tree()
		_, err := restore.IntoFolder(context.Background(), l.repo, l.store, restore.IntoFolderOptions{Account: liveAccount, At: t0.Add(time.Minute), Folder: c.folder})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("into-folder %q: %v, want an error containing %q", c.folder, err, c.want)
		}
		if !slices.Equal(before, l.tree()) {
			t.Errorf("into-folder %q wrote something", c.folder)
		}
	}
	_, err = restore.IntoFolder(context.Background(), l.repo, l.store, restore.IntoFolderOptions{Account: liveAccount, At: t0.Add(-time.Hour), Folder: "Early"})
	if !errors.Is(err, restore.ErrNoState) {
		t.Errorf("into-folder before the first backup: %v", err)
	}
}

// TestGranularRefusesSymlinks: a folder directory replaced by a symbolic
// link is not written through.
func TestGranularRefusesSymlinks(t *testing.T) {
	l := newLive(t, "Work")
	l.deliver("Work", "w1", "")
	l.scan()
	id := l.itemID("Work", "w1")
	// A complete folder elsewhere, and an empty directory elsewhere, each
	// linked in place of a folder.
	outside, empty := t.TempDir(), t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.Mkdir(filepath.Join(outside, sub), 0o755)
	}
	os.Chmod(outside, 0o755)
	os.Chmod(empty, 0o755)
	os.RemoveAll(l.dir("Work"))
	if err := os.Symlink(outside, l.dir("Work")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(empty, l.dir("Elsewhere")); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"", "Elsewhere"} {
		_, err := restore.RestoreItems(context.Background(), l.repo, l.store, restore.ItemOptions{Account: liveAccount, IDs: []int64{id}, Folder: folder})
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("restore through a symlinked folder %q: %v", folder, err)
		}
	}
	for _, dir := range []string{outside, empty} {
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
			t.Errorf("%s got mode %v through the link", dir, fi.Mode().Perm())
		}
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if ents, _ := os.ReadDir(filepath.Join(outside, sub)); len(ents) != 0 {
			t.Errorf("a file was written through the link into %s/%s", outside, sub)
		}
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("%d entries were created through the link in %s", len(ents), empty)
	}
}

func sha256Hex(s string) string { return fmt.Sprintf("%X", sha256.Sum256([]byte(s))) }

// TestGranularLeavesLiveFoldersAlone: writing into a live folder keeps
// its directories' modes as they are (here, different from the account
// root's); undeleting into an account removed as a whole recreates it
// owned by the mail user, subscriptions included.
func TestGranularLeavesLiveFoldersAlone(t *testing.T) {
	l := newLive(t, "Shared", "Projects")
	for _, sub := range []string{"", "cur", "new", "tmp"} {
		os.Chmod(filepath.Join(l.dir("Shared"), sub), 0o750)
	}
	l.deliver("Shared", "s1", "S")
	l.deliver("Projects", "p1", "")
	t0 := l.scan()
	l.expunge("Shared", "s1")
	l.scan()
	res, err := l.undelete(restore.UndeleteOptions{From: t0.Add(time.Minute), Until: l.now})
	if err != nil || res.Messages != 1 {
		t.Fatalf("undelete: %v %+v", err, res)
	}
	for _, sub := range []string{"", "cur", "new", "tmp"} {
		if fi, _ := os.Stat(filepath.Join(l.dir("Shared"), sub)); fi.Mode().Perm() != 0o750 {
			t.Errorf("Shared/%s has mode %v after the restore, want 0750 as it was", sub, fi.Mode().Perm())
		}
	}
	t1 := l.scan()
	if err := os.RemoveAll(l.acct.Root); err != nil {
		t.Fatal(err)
	}
	l.scan()
	res, err = l.undelete(restore.UndeleteOptions{From: t1, Until: l.now})
	if err != nil || res.Messages != 2 {
		t.Fatalf("undelete of a removed account: %v %+v", err, res)
	}
	err = filepath.WalkDir(l.acct.Root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		syscall.Lstat(p, &st)
		if st.Uid != 5000 || st.Gid != 5000 {
			t.Errorf("%s belongs to %d:%d, want the mail user 5000:5000", p, st.Uid, st.Gid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.acct.Root, maildir.SubscriptionsFile)); err != nil {
		t.Errorf("no subscriptions for the recreated folders: %v", err)
	}
}

// TestGranularGoesOnPastARefusedFolder: a granular restore whose messages
// go to two folders, one of them replaced by a symbolic link, writes the
// other folder's message, names the refused one and ends with an error
// that says why.
func TestGranularGoesOnPastARefusedFolder(t *testing.T) {
	l := newLive(t, "Work", "Home")
	l.deliver("Work", "w1", "")
	l.deliver("Home", "h1", "")
	l.scan()
	ids := []int64{l.itemID("Work", "w1"), l.itemID("Home", "h1")}
	os.Remove(l.must("Home", "h1"))
	os.Remove(l.must("Work", "w1"))
	outside := t.TempDir()
	os.RemoveAll(l.dir("Work"))
	if err := os.Symlink(outside, l.dir("Work")); err != nil {
		t.Fatal(err)
	}
	res, err := restore.RestoreItems(context.Background(), l.repo, l.store, restore.ItemOptions{Account: liveAccount, IDs: ids})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 messages could not be written") || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("restore into a refused and a good folder: %v", err)
	}
	if res.Messages != 1 || res.Failed != 1 || l.find("Home", "h1") == "" {
		t.Errorf("result %+v; Home's message restored: %v", res, l.find("Home", "h1") != "")
	}
	failed := 0
	for _, ir := range res.Items {
		if ir.Outcome == restore.OutcomeFailed {
			failed++
			if ir.ID != ids[0] || ir.Folder != "Work" || !strings.Contains(ir.Error, "symbolic link") || ir.Subject != "w1" || ir.Received == nil {
				t.Errorf("failed item %+v", ir)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed items listed: %+v", failed, res.Items)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("%d entries written through the link", len(ents))
	}
}
