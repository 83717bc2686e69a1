package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// mailbox drives one IMAP session of a granular test.
type mailbox struct {
	t *testing.T
	e *env
	c *imapclient.Client
	// lastWrite is when the last change ended.
	lastWrite time.Time
}

func openMailbox(t *testing.T, e *env, account string) *mailbox {
	t.Helper()
	c, err := Dial(e.dc.IMAPAddr(), account, e.users[account])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &mailbox{t: t, e: e, c: c, lastWrite: time.Now()}
}

// granularMessage is message n: its Message-ID is <gn@e2e.test>.
func granularMessage(n int) []byte {
	return []byte(fmt.Sprintf("From: sender%d@example.net\r\nTo: alice@example.com\r\nSubject: message %d\r\nMessage-ID: <g%d@e2e.test>\r\n"+
		"Date: Mon, 02 Mar 2026 10:%02d:00 +0000\r\n\r\nThis is message %d.\r\n", n, n, n, n%60, n))
}

// appendDate is message n's INTERNALDATE.
func appendDate(n int) time.Time { return time.Date(2025, 6, 1, 0, n, 0, 0, time.UTC) }

func msgID(n int) string { return fmt.Sprintf("<g%d@e2e.test>", n) }

func (m *mailbox) create(folder string) {
	m.t.Helper()
	if err := m.c.Create(folder, nil).Wait(); err != nil {
		m.t.Fatalf("CREATE %s: %v", folder, err)
	}
	m.lastWrite = time.Now()
}

// append APPENDs message n with flags and an INTERNALDATE of its own.
func (m *mailbox) append(folder string, n int, flags ...imap.Flag) {
	m.t.Helper()
	msg := granularMessage(n)
	cmd := m.c.Append(folder, int64(len(msg)), &imap.AppendOptions{Flags: flags, Time: appendDate(n)})
	if _, err := cmd.Write(msg); err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		m.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		m.t.Fatalf("APPEND %s %d: %v", folder, n, err)
	}
	m.lastWrite = time.Now()
}

// uid selects a folder and returns the UID of message n in it.
func (m *mailbox) uid(folder string, n int) imap.UID {
	m.t.Helper()
	if _, err := m.c.Select(folder, nil).Wait(); err != nil {
		m.t.Fatalf("SELECT %s: %v", folder, err)
	}
	data, err := m.c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: msgID(n)}}}, nil).Wait()
	if err != nil {
		m.t.Fatal(err)
	}
	uids := data.AllUIDs()
	if len(uids) != 1 {
		m.t.Fatalf("%s: %d messages with Message-ID %s", folder, len(uids), msgID(n))
	}
	return uids[0]
}

// expunge flags message n \Deleted in a folder and expunges it.
func (m *mailbox) expunge(folder string, n int) {
	m.t.Helper()
	uid := m.uid(folder, n)
	if err := m.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		m.t.Fatal(err)
	}
	if err := m.c.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
		m.t.Fatal(err)
	}
	m.lastWrite = time.Now()
}

func (m *mailbox) move(from string, n int, to string) {
	m.t.Helper()
	if _, err := m.c.Move(imap.UIDSetNum(m.uid(from, n)), to).Wait(); err != nil {
		m.t.Fatalf("UID MOVE %s → %s: %v", from, to, err)
	}
	m.lastWrite = time.Now()
}

func (m *mailbox) flag(folder string, n int, f imap.Flag) {
	m.t.Helper()
	if err := m.c.Store(imap.UIDSetNum(m.uid(folder, n)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{f}}, nil).Close(); err != nil {
		m.t.Fatal(err)
	}
	m.lastWrite = time.Now()
}

// settle unselects and waits until the realtime scanner recorded every
// change.
func (m *mailbox) settle() {
	m.t.Helper()
	if err := m.c.Unselect().Wait(); err != nil && !strings.Contains(err.Error(), "No mailbox selected") {
		m.t.Logf("UNSELECT: %v", err)
	}
	m.e.waitRealtime(m.lastWrite)
}

// find returns the message with Message-ID n in a snapshot's folder.
func find(s *Snapshot, folder string, n int) *Message {
	f := s.Folder(folder)
	if f == nil {
		return nil
	}
	for i := range f.Messages {
		if HeaderValue(f.Messages[i].Body, "Message-ID") == msgID(n) {
			return &f.Messages[i]
		}
	}
	return nil
}

// untouched checks that every message of every folder of want is in got
// with the same UID, flags, date and content.
func untouched(t *testing.T, what string, want, got *Snapshot) {
	t.Helper()
	for _, wf := range want.Folders {
		gf := got.Folder(wf.Name)
		if gf == nil {
			t.Errorf("%s: folder %s is gone", what, wf.Name)
			continue
		}
		if gf.UIDValidity != wf.UIDValidity {
			t.Errorf("%s: folder %s UIDVALIDITY changed", what, wf.Name)
		}
		for _, wm := range wf.Messages {
			i := slices.IndexFunc(gf.Messages, func(m Message) bool { return m.UID == wm.UID })
			if i < 0 {
				t.Errorf("%s: %s UID %d (%s) is gone", what, wf.Name, wm.UID, wm.describe())
				continue
			}
			gm := gf.Messages[i]
			if !slices.Equal(gm.Flags, wm.Flags) || !bytes.Equal(gm.Body, wm.Body) || !gm.InternalDate.Equal(wm.InternalDate) {
				t.Errorf("%s: %s UID %d changed: flags %v → %v", what, wf.Name, wm.UID, wm.Flags, gm.Flags)
			}
		}
	}
}

// cliFails runs mailkeep expecting exit status 1 and returns its stderr.
func (e *env) cliFails(args ...string) string {
	e.t.Helper()
	cmd := exec.Command(mailkeepBinary(e.t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		e.t.Fatalf("mailkeep %s: %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stderr.String()
}

// itemIDs returns the catalog ids of the current versions of messages
// n... in a folder, recognised by their received date (backup search
// will list them; until then, the catalog).
func (e *env) itemIDs(account, folder string, ns ...int) []int64 {
	e.t.Helper()
	c, err := catalog.Open(filepath.Join(e.dir, "backup", repo.CatalogFile), catalog.Options{ReadOnly: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	a, err := c.AccountByName(account)
	if err != nil {
		e.t.Fatal(err)
	}
	items, err := c.OpenItems(a.ID, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for _, n := range ns {
		found := false
		for _, it := range items {
			if it.Folder != folder {
				continue
			}
			if it.MTime == appendDate(n).UnixNano() {
				ids = append(ids, it.ID)
				found = true
				break
			}
		}
		if !found {
			e.t.Fatalf("no current item of %s in %s", msgID(n), folder)
		}
	}
	return ids
}

// TestGranularRestores, against a real Dovecot with the realtime scanner:
// messages expunged through IMAP, some after a move to Trash, come back
// with restore undelete into the folder they were deleted from, tagged,
// without \Deleted, while untouched messages keep their UIDs; restore item
// brings single messages into a folder; restore account -into-folder
// writes the whole tree of an earlier instant under a new folder, leaving
// the live folders as they were. Every restore holds Dovecot's locks and
// resyncs it through post_command; the files belong to the mail user.
func TestGranularRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice}, realtime: true})
	target := []string{"-agent", "unix://" + e.sock}
	m := openMailbox(t, e, alice.Name)
	m.create("Work")
	m.create("Trash")
	for n := 1; n <= 8; n++ {
		flags := []imap.Flag{imap.FlagSeen}
		if n%2 == 0 {
			flags = append(flags, "$Label1")
		}
		m.append("INBOX", n, flags...)
	}
	for n := 11; n <= 14; n++ {
		m.append("Work", n)
	}
	m.append("Trash", 21, imap.FlagSeen)
	m.settle()
	original := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	t1 := time.Now()

	m.expunge("INBOX", 1)
	m.expunge("INBOX", 2)
	m.move("INBOX", 3, "Trash")
	m.move("Work", 11, "Trash")
	m.flag("INBOX", 4, imap.FlagFlagged) // a flag change is not a deletion
	m.move("Work", 12, "INBOX")          // nor is a move
	m.settle()
	for _, n := range []int{3, 11, 21} {
		m.expunge("Trash", n)
	}
	m.settle()
	mid := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	t2 := time.Now()

	// Bad input: nothing written, exit 1.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "undelete", alice.Name, "-from", t2.Format(time.RFC3339Nano), "-to", t1.Format(time.RFC3339Nano)}, "is not after its start"},
		{[]string{"restore", "undelete", alice.Name, "-from", "30d", "-to", t2.Format(time.RFC3339Nano)}, "before the backup history"},
		{[]string{"restore", "item", alice.Name, "987654321"}, "item 987654321 (no such item)"},
		{[]string{"restore", "account", "-into-folder", "Bad.Name", alice.Name}, "Maildir++ uses as its separator"},
	} {
		if out := e.cliFails(append(c.args, target...)...); !strings.Contains(out, c.want) {
			t.Errorf("mailkeep %v: %q, want %q", c.args, out, c.want)
		}
	}
	compare(t, "after refused restores", mid, e.snapshot(alice.Name))

	out := e.mailkeep(append([]string{"restore", "undelete", "-wait", alice.Name, "-from", t1.Format(time.RFC3339Nano), "-to", t2.Format(time.RFC3339Nano)}, target...)...)
	t.Logf("restore undelete:\n%s", out)
	tag := "undelete_" + time.Now().Format("2006-01-02")
	if !strings.Contains(out, "Restored 5 messages") || !strings.Contains(out, "tagged "+tag) || !strings.Contains(out, ": ok") {
		t.Errorf("undelete output:\n%s", out)
	}
	after := e.snapshot(alice.Name)
	untouched(t, "undelete", mid, after)
	for _, c := range []struct {
		folder string
		n      int
	}{{"INBOX", 1}, {"INBOX", 2}, {"INBOX", 3}, {"Work", 11}, {"Trash", 21}} {
		got := find(after, c.folder, c.n)
		if got == nil {
			t.Errorf("message %d did not come back into %s", c.n, c.folder)
			continue
		}
		var orig *Message
		for _, f := range []string{"INBOX", "Work", "Trash"} {
			if orig == nil {
				orig = find(original, f, c.n)
			}
		}
		want := slices.Clone(orig.Flags)
		want = append(want, tag)
		slices.Sort(want)
		if !slices.Equal(got.Flags, want) || !got.InternalDate.Equal(orig.InternalDate) || !bytes.Equal(got.Body, orig.Body) {
			t.Errorf("message %d in %s: flags %v date %s, want %v %s", c.n, c.folder, got.Flags, got.InternalDate, want, orig.InternalDate)
		}
		if got.UID < mid.Folder(c.folder).UIDNext {
			t.Errorf("message %d in %s got UID %d, below the folder's UIDNEXT %d before the restore", c.n, c.folder, got.UID, mid.Folder(c.folder).UIDNext)
		}
	}
	for _, n := range []int{3, 11} {
		if find(after, "Trash", n) != nil {
			t.Errorf("message %d came back into Trash, not into the folder it was in before", n)
		}
	}
	if find(after, "Work", 12) != nil || find(after, "INBOX", 4) == nil || len(after.Folder("INBOX").Messages) != len(mid.Folder("INBOX").Messages)+3 {
		t.Errorf("a moved or re-flagged message was restored: INBOX has %d messages, had %d", len(after.Folder("INBOX").Messages), len(mid.Folder("INBOX").Messages))
	}
	e.checkOwnership(alice.Name)
	e.waitRealtime(time.Time{})

	// restore item: three messages into a new folder; then one into its
	// own folder, where it still is: left alone.
	ids := e.itemIDs(alice.Name, "Work", 13, 14)
	own := e.itemIDs(alice.Name, "INBOX", 5)
	before := e.snapshot(alice.Name)
	args := []string{"restore", "item", "-wait", "-json", "-folder", "Recovered", alice.Name}
	for _, id := range append(ids, own...) {
		args = append(args, fmt.Sprint(id))
	}
	var op api.Operation
	if err := json.Unmarshal([]byte(e.mailkeep(append(args, target...)...)), &op); err != nil {
		t.Fatal(err)
	}
	var res restore.LiveResult
	b, _ := json.Marshal(op.Result)
	json.Unmarshal(b, &res)
	if res.Messages != 3 || res.Skipped != 0 || !slices.Equal(res.Subscribed, []string{"Recovered"}) {
		t.Errorf("restore item -folder: %+v", res)
	}
	args = []string{"restore", "item", "-wait", "-json", alice.Name, fmt.Sprint(own[0])}
	op = api.Operation{}
	json.Unmarshal([]byte(e.mailkeep(append(args, target...)...)), &op)
	b, _ = json.Marshal(op.Result)
	res = restore.LiveResult{}
	json.Unmarshal(b, &res)
	if res.Messages != 0 || res.Skipped != 1 || res.Items[0].Outcome != restore.OutcomePresent {
		t.Errorf("restore item of a message still there: %+v", res)
	}
	afterItems := e.snapshot(alice.Name)
	untouched(t, "restore item", before, afterItems)
	for _, n := range []int{13, 14, 5} {
		if got, orig := find(afterItems, "Recovered", n), find(before, "Work", n); got == nil {
			t.Errorf("message %d is not in Recovered", n)
		} else if orig != nil && (!slices.Equal(got.Flags, orig.Flags) || !got.InternalDate.Equal(orig.InternalDate)) {
			t.Errorf("message %d in Recovered: flags %v date %s, want %v %s", n, got.Flags, got.InternalDate, orig.Flags, orig.InternalDate)
		}
	}
	if !slices.Contains(afterItems.Subscribed, "Recovered") {
		t.Errorf("Recovered is not subscribed: %v", afterItems.Subscribed)
	}
	e.waitRealtime(time.Time{})

	// restore account -into-folder: the tree as it was at t1.
	name := "Restored/" + t1.Format("2006-01-02 15:04:05")
	out = e.mailkeep(append([]string{"restore", "account", "-wait", "-into-folder", name, "-at", t1.Format(time.RFC3339Nano), alice.Name}, target...)...)
	t.Logf("restore account -into-folder:\n%s", out)
	final := e.snapshot(alice.Name)
	untouched(t, "into-folder", afterItems, final)
	for _, of := range original.Folders {
		rf := final.Folder(name + "/" + of.Name)
		if rf == nil {
			t.Errorf("folder %s was not restored under %s", of.Name, name)
			continue
		}
		if len(rf.Messages) != len(of.Messages) {
			t.Errorf("%s/%s has %d messages, want %d", name, of.Name, len(rf.Messages), len(of.Messages))
		}
		for _, om := range of.Messages {
			n := 0
			fmt.Sscanf(HeaderValue(om.Body, "Message-ID"), "<g%d@", &n)
			got := find(final, rf.Name, n)
			if got == nil || !slices.Equal(got.Flags, om.Flags) || !got.InternalDate.Equal(om.InternalDate) || !bytes.Equal(got.Body, om.Body) {
				t.Errorf("%s: message %d differs from %s as it was: %+v", rf.Name, n, of.Name, got)
			}
		}
		if !slices.Contains(final.Subscribed, rf.Name) {
			t.Errorf("%s is not subscribed", rf.Name)
		}
	}
	e.checkOwnership(alice.Name)
}
