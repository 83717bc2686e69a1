package maildir

// Tests against a real Dovecot (internal/dovecot): Dovecot writes the
// Maildirs with doveadm, and what Scan sees must be what doveadm reports.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
)

// layouts are the mail_location variants the real-Dovecot tests cover.
var layouts = []struct {
	name string
	opts dovecot.Options
}{
	{"maildir++", dovecot.Options{}},
	{"maildir++ CONTROL", dovecot.Options{Control: true}},
	{"fs CONTROL INDEX", dovecot.Options{Layout: "fs", Control: true, Index: true}},
}

const srcUser, dstUser = "alice@example.com", "restored@example.com"

func doveadm(t *testing.T, s *dovecot.Server, args ...string) {
	t.Helper()
	if _, err := s.Doveadm(args...); err != nil {
		t.Fatal(err)
	}
}

func testMessage(i int) []byte {
	return []byte(fmt.Sprintf("From: sender%d@example.net\r\nTo: %s\r\nSubject: message %d\r\nMessage-ID: <%d@mailkeep.test>\r\nDate: Mon, 5 Jan 2026 10:%02d:00 +0000\r\n\r\nBody of message %d.\r\nÜmlaut line.\r\n", i, srcUser, i, i, i%60, i))
}

// populate drives Dovecot through the life of a mailbox: nested and
// non-ASCII folders, deliveries, flags and keywords, a flag removal, a
// move, a copy, expunges and subscriptions.
func populate(t *testing.T, s *dovecot.Server, u string) {
	t.Helper()
	doveadm(t, s, "mailbox", "create", "-u", u, "Projects/2026", "Projects/2026/Q1", "Entwürfe", "A&B", "日本語")
	n := 0
	save := func(folder string, count int) {
		for i := 0; i < count; i++ {
			n++
			if err := s.SaveMessage(u, folder, testMessage(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	save("INBOX", 7)
	save("Projects/2026", 2)
	save("Entwürfe", 1)
	save("Projects/2026/Q1", 1)
	doveadm(t, s, "flags", "add", "-u", u, `\Seen $Important`, "mailbox", "INBOX", "uid", "1")
	doveadm(t, s, "flags", "add", "-u", u, `Junk \Flagged`, "mailbox", "INBOX", "uid", "2")
	doveadm(t, s, "flags", "add", "-u", u, `\Answered \Draft $label1 $Important`, "mailbox", "INBOX", "uid", "3")
	doveadm(t, s, "flags", "add", "-u", u, `\Seen \Deleted`, "mailbox", "INBOX", "uid", "4")
	doveadm(t, s, "flags", "remove", "-u", u, `$Important`, "mailbox", "INBOX", "uid", "3")
	doveadm(t, s, "flags", "add", "-u", u, `\Seen NonJunk`, "mailbox", "Projects/2026", "uid", "1")
	doveadm(t, s, "move", "-u", u, "Projects/2026", "mailbox", "INBOX", "uid", "2")
	doveadm(t, s, "copy", "-u", u, "Entwürfe", "mailbox", "INBOX", "uid", "1")
	doveadm(t, s, "expunge", "-u", u, "mailbox", "INBOX", "uid", "7")
	doveadm(t, s, "expunge", "-u", u, "mailbox", "Projects/2026/Q1", "all")
	doveadm(t, s, "mailbox", "subscribe", "-u", u, "INBOX", "Entwürfe", "Projects/2026", "日本語")
}

func openStore(t *testing.T, location string) *Store {
	t.Helper()
	ms, err := parseLocation(location)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ms)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// imapFlags renders Maildir flags and keywords as doveadm prints them,
// sorted, without \Recent. ('P', passed, has no IMAP flag in Dovecot and
// populate never sets it.)
func imapFlags(flags string, keywords []string) string {
	names := map[byte]string{'D': `\Draft`, 'F': `\Flagged`, 'R': `\Answered`, 'S': `\Seen`, 'T': `\Deleted`}
	var out []string
	for i := 0; i < len(flags); i++ {
		out = append(out, names[flags[i]])
	}
	out = append(out, keywords...)
	sort.Strings(out)
	return strings.Join(out, " ")
}

func doveadmFlags(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if f != `\Recent` {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// doveadmView is what doveadm reports of an account: per "folder uid" the
// flags, received date, GUID (the base name, for Maildir), size and,
// when asked, the full text; per folder "uidvalidity uidnext"; the
// subscribed folders.
type doveadmView struct {
	Messages map[string]string
	Texts    map[string]string
	Folders  map[string]string
	Subs     []string
}

func viewDoveadm(t *testing.T, s *dovecot.Server, u string, withText bool) doveadmView {
	t.Helper()
	fields := "mailbox uid flags date.received.unixtime guid size.physical"
	if withText {
		fields += " text"
	}
	var rows []map[string]string
	if err := s.DoveadmJSON(&rows, "fetch", "-u", u, fields, "ALL"); err != nil {
		t.Fatal(err)
	}
	v := doveadmView{Messages: map[string]string{}, Texts: map[string]string{}, Folders: map[string]string{}}
	for _, r := range rows {
		key := r["mailbox"] + " " + r["uid"]
		v.Messages[key] = fmt.Sprintf("flags=%q received=%s guid=%s size=%s", doveadmFlags(r["flags"]), r["date.received.unixtime"], r["guid"], r["size.physical"])
		v.Texts[key] = r["text"]
	}
	var status []map[string]string
	if err := s.DoveadmJSON(&status, "mailbox", "status", "-u", u, "uidvalidity uidnext", "*"); err != nil {
		t.Fatal(err)
	}
	for _, r := range status {
		v.Folders[r["mailbox"]] = fmt.Sprintf("uidvalidity=%s uidnext=%s", r["uidvalidity"], r["uidnext"])
	}
	var subs []map[string]string
	if err := s.DoveadmJSON(&subs, "mailbox", "list", "-u", u, "-s"); err != nil {
		t.Fatal(err)
	}
	for _, r := range subs {
		v.Subs = append(v.Subs, r["mailbox"])
	}
	sort.Strings(v.Subs)
	return v
}

// viewScan renders a Snapshot the way viewDoveadm renders doveadm.
func viewScan(t *testing.T, snap *Snapshot) doveadmView {
	t.Helper()
	v := doveadmView{Messages: map[string]string{}, Folders: map[string]string{}}
	for _, f := range snap.Folders {
		v.Folders[f.Name] = fmt.Sprintf("uidvalidity=%d uidnext=%d", f.UIDValidity, f.NextUID)
		for _, m := range f.Messages {
			if m.UID == 0 {
				t.Errorf("%s %s/%s has no UID", f.Name, m.Subdir, m.Name)
			}
			key := f.Name + " " + strconv.FormatUint(uint64(m.UID), 10)
			v.Messages[key] = fmt.Sprintf("flags=%q received=%d guid=%s size=%d", imapFlags(m.Flags, m.Keywords), m.MTime.Unix(), m.Base, m.Size)
		}
	}
	v.Subs = append([]string(nil), snap.Subscriptions...)
	sort.Strings(v.Subs)
	return v
}

func compareViews(t *testing.T, what string, got, want doveadmView) {
	t.Helper()
	if !reflect.DeepEqual(got.Folders, want.Folders) {
		t.Errorf("%s: folders\n got %v\nwant %v", what, got.Folders, want.Folders)
	}
	if !reflect.DeepEqual(got.Messages, want.Messages) {
		var keys []string
		for k := range want.Messages {
			keys = append(keys, k)
		}
		for k := range got.Messages {
			if _, ok := want.Messages[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if got.Messages[k] != want.Messages[k] {
				t.Errorf("%s: message %s\n got %s\nwant %s", what, k, got.Messages[k], want.Messages[k])
			}
		}
	}
	if !reflect.DeepEqual(got.Subs, want.Subs) {
		t.Errorf("%s: subscriptions got %q, want %q", what, got.Subs, want.Subs)
	}
}

func TestScanMatchesDoveadm(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			s := dovecot.Start(t, l.opts)
			populate(t, s, srcUser)
			want := viewDoveadm(t, s, srcUser, false)
			st := openStore(t, s.MailLocation())
			accts, err := st.Accounts()
			if err != nil {
				t.Fatal(err)
			}
			if len(accts) != 1 || accts[0].Name != srcUser {
				t.Fatalf("Accounts = %+v", accts)
			}
			snap, err := st.Scan(accts[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Warnings) > 0 {
				t.Errorf("warnings: %v", snap.Warnings)
			}
			compareViews(t, "Scan vs doveadm", viewScan(t, snap), want)

			// Sanity of the comparison itself: the messages it covered.
			if len(want.Messages) != 10 || len(want.Folders) != 6 {
				t.Errorf("doveadm reports %d messages in %d folders, want 10 in 6: %v %v", len(want.Messages), len(want.Folders), want.Messages, want.Folders)
			}
			uid, gid := s.MailOwner()
			if snap.Owner.UID != uid || snap.Owner.GID != gid || snap.Owner.Mode != 0o700 {
				t.Errorf("root owner %+v, want %d:%d 0700", snap.Owner, uid, gid)
			}
			if l.opts.Control {
				// Dovecot keeps INBOX's files in <control>/.INBOX or
				// <control>/INBOX, not in the control root.
				p := filepath.Join(st.ControlDir(accts[0], ""), UIDListFile)
				if _, err := os.Stat(p); err != nil {
					t.Errorf("INBOX's uidlist is not where ControlDir says: %v", err)
				}
			}
			logDovecotFacts(t, snap)
		})
	}
}

// TestLockHoldsDovecotOff checks that Writer.Lock speaks Dovecot's
// dovecot-uidlist.lock protocol. While mailkeep holds the lock, a delivery
// (doveadm save) still stores its file but assigns no UID, and a mailbox
// sync (doveadm fetch) waits; once the lock is released the sync assigns
// the next UID.
func TestLockHoldsDovecotOff(t *testing.T) {
	s := dovecot.Start(t, dovecot.Options{})
	if err := s.SaveMessage(srcUser, "INBOX", testMessage(1)); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, s.MailLocation())
	a, _ := st.Account(srcUser)
	unlock, err := st.Writer(a).Lock("")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage(srcUser, "INBOX", testMessage(2)); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	if ms := snap.Folders[0].Messages; len(ms) != 2 || ms[0].UID != 1 || ms[1].UID != 0 {
		t.Fatalf("INBOX while locked: %+v", ms)
	}

	const hold = 1500 * time.Millisecond
	start := time.Now()
	type result struct {
		rows []map[string]string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = s.DoveadmJSON(&r.rows, "fetch", "-u", srcUser, "uid guid", "mailbox", "INBOX", "ALL")
		done <- r
	}()
	select {
	case r := <-done:
		t.Fatalf("doveadm fetch finished while mailkeep held the lock: %v, %v", r.rows, r.err)
	case <-time.After(hold):
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("doveadm fetch did not finish after the lock was released")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if waited := time.Since(start); waited < hold {
		t.Errorf("doveadm fetch took %v, less than the %v the lock was held", waited, hold)
	}
	if len(r.rows) != 2 || r.rows[1]["uid"] != "2" || r.rows[1]["guid"] != snap.Folders[0].Messages[1].Base {
		t.Errorf("after the release Dovecot reports %v", r.rows)
	}
}

// logDovecotFacts records in the test log how Dovecot laid out what
// populate did (how a copy looks on disk).
func logDovecotFacts(t *testing.T, snap *Snapshot) {
	byBase := map[string][]string{}
	for _, f := range snap.Folders {
		for _, m := range f.Messages {
			byBase[m.Base] = append(byBase[m.Base], fmt.Sprintf("%s:%s/%s ino=%d", f.Name, m.Subdir, m.Name, m.Ino))
		}
	}
	var bases []string
	for b, places := range byBase {
		if len(places) > 1 {
			bases = append(bases, b)
		}
	}
	sort.Strings(bases)
	for _, b := range bases {
		t.Logf("one message in several folders: %s", strings.Join(byBase[b], ", "))
	}
}

// TestRoundTripThroughDovecot scans an account Dovecot wrote, writes it
// into another account with the Writer, lets Dovecot resync, and checks
// that doveadm sees the same folders, UIDs, UIDVALIDITY, flags, keywords,
// dates, bodies and subscriptions, and that Dovecot goes on numbering
// where the source left off.
func TestRoundTripThroughDovecot(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			s := dovecot.Start(t, l.opts)
			populate(t, s, srcUser)
			st := openStore(t, s.MailLocation())
			src, err := st.Account(srcUser)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := st.Scan(src)
			if err != nil {
				t.Fatal(err)
			}
			dst, err := st.Account(dstUser)
			if err != nil {
				t.Fatal(err)
			}
			if err := Copy(st, src, snap, st.Writer(dst)); err != nil {
				t.Fatal(err)
			}
			doveadm(t, s, "force-resync", "-u", dstUser, "*")

			want := viewDoveadm(t, s, srcUser, true)
			got := viewDoveadm(t, s, dstUser, true)
			if !reflect.DeepEqual(got.Texts, want.Texts) {
				t.Errorf("message texts differ:\n got %q\nwant %q", got.Texts, want.Texts)
			}
			compareViews(t, "restored vs source", got, want)

			// Everything restored belongs to the mail user, as the source.
			uid, gid := s.MailOwner()
			filepath.Walk(filepath.Dir(dst.Root), func(p string, fi os.FileInfo, err error) error {
				if err != nil {
					return err
				}
				if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
					t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
				}
				return nil
			})

			// Dovecot can deliver into the restored account and numbers on.
			if err := s.SaveMessage(dstUser, "INBOX", testMessage(99)); err != nil {
				t.Fatal(err)
			}
			var rows []map[string]string
			if err := s.DoveadmJSON(&rows, "fetch", "-u", dstUser, "uid", "mailbox", "INBOX", "HEADER", "Message-ID", "<99@mailkeep.test>"); err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || "uidnext="+rows[0]["uid"] != strings.Fields(want.Folders["INBOX"])[1] {
				t.Errorf("new delivery got %v; source INBOX had %s", rows, want.Folders["INBOX"])
			}

			// Restoring again into the live account holds the lock and
			// refuses to duplicate what is there.
			err = Copy(st, src, snap, st.Writer(dst))
			if !errors.Is(err, ErrExists) {
				t.Errorf("second restore: %v, want ErrExists", err)
			}
		})
	}
}
