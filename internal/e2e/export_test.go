package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/internal/mboxread"
	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// TestExportMatchesIMAP: an account backed up by the realtime scanner from
// a real Dovecot is exported with `mailkeep export` as a Maildir and as
// mboxes, at the last state and at an earlier instant; what the exports
// hold is what IMAP showed then: the same folders, messages (bytes, UIDs
// and order), flags, keywords and received dates. The mboxes are read
// with Python's mailbox module.
func TestExportMatchesIMAP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob}, realtime: true})
	w := newWorkload(t, e, 5, alice.Name, bob.Name)
	w.run(historyOps / 2)
	earlier := checkpoint(e, w, alice.Name)
	w.run(historyOps / 2)
	w.logout()
	last := checkpoint(e, w, alice.Name)
	t.Logf("history: %s\n%s", w.summary(), last.snap.Summary())
	if Diff(earlier.snap, last.snap) == nil {
		t.Fatal("the two instants show the same mailbox; the test proves nothing")
	}
	flagged, keywords := 0, 0
	for _, f := range last.snap.Folders {
		for _, m := range f.Messages {
			for _, fl := range m.Flags {
				if strings.HasPrefix(fl, `\`) {
					flagged++
				} else {
					keywords++
				}
			}
		}
	}
	if last.snap.Messages() < 30 || len(last.snap.Folders) < 3 || flagged == 0 || keywords == 0 {
		t.Fatalf("the history left too little to prove anything: %d messages, %d folders, %d flags, %d keywords",
			last.snap.Messages(), len(last.snap.Folders), flagged, keywords)
	}
	out := t.TempDir()
	export := func(path string, flags ...string) {
		t.Helper()
		args := append([]string{"export", "-agent", "unix://" + e.sock, "-o", path}, flags...)
		t.Logf("%s", e.mailkeep(append(args, alice.Name)...))
	}

	md := filepath.Join(out, "maildir")
	export(md, "-format", "maildir")
	compare(t, "export -format maildir", last.snap, readExportedMaildir(t, md))

	mdEarlier := filepath.Join(out, "maildir-earlier")
	export(mdEarlier, "-format", "maildir", "-at", earlier.at.Format(time.RFC3339Nano))
	compare(t, "export -format maildir -at "+earlier.at.Format(time.RFC3339Nano), earlier.snap, readExportedMaildir(t, mdEarlier))

	mb := filepath.Join(out, "mbox")
	export(mb, "-format", "mbox")
	compare(t, "export -format mbox", last.snap, readExportedMboxes(t, mb, last.snap))
}

// imapFlags maps Maildir flag letters to IMAP system flags.
var imapFlags = map[byte]string{'S': `\Seen`, 'R': `\Answered`, 'F': `\Flagged`, 'T': `\Deleted`, 'D': `\Draft`}

// mboxFlags maps mbox Status and X-Status letters to IMAP system flags
// ('O', not recent, has none).
var mboxFlags = map[byte]string{'R': `\Seen`, 'A': `\Answered`, 'F': `\Flagged`, 'D': `\Deleted`, 'T': `\Draft`}

// crlf is a message as IMAP serves it: every bare LF as CRLF.
func crlf(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func imapMessage(uid uint32, flags []string, date time.Time, body []byte) Message {
	body = crlf(body)
	if flags == nil {
		flags = []string{}
	}
	slices.Sort(flags)
	return Message{UID: uid, Flags: flags, InternalDate: date.Truncate(time.Second).UTC(), Size: int64(len(body)), Body: body}
}

// readExportedMaildir reads an exported Maildir++ tree as an IMAP client
// would see it once a Dovecot served it: folders from the directory
// names, UIDs from dovecot-uidlist, flags from the file names, keywords
// through dovecot-keywords, dates from the mtimes.
func readExportedMaildir(t *testing.T, root string) *Snapshot {
	t.Helper()
	s := &Snapshot{}
	if b, err := os.ReadFile(filepath.Join(root, "subscriptions")); err == nil {
		s.Subscribed = maildir.ParseSubscriptions(b, maildir.LayoutMaildirPP)
		slices.Sort(s.Subscribed)
	}
	dirs := []string{""}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ents {
		if en.IsDir() && strings.HasPrefix(en.Name(), ".") {
			dirs = append(dirs, en.Name())
		}
	}
	for _, dir := range dirs {
		p := filepath.Join(root, dir)
		f := Folder{Name: maildir.FolderName(maildir.LayoutMaildirPP, dir)}
		kwData, _ := os.ReadFile(filepath.Join(p, maildir.KeywordsFile))
		table, err := maildir.ParseKeywords(kwData)
		if err != nil {
			t.Fatal(err)
		}
		uidData, err := os.ReadFile(filepath.Join(p, maildir.UIDListFile))
		if err != nil {
			t.Fatalf("exported folder %q has no uidlist: %v", f.Name, err)
		}
		l, err := maildir.ParseUIDList(uidData)
		if err != nil {
			t.Fatal(err)
		}
		f.UIDValidity, f.UIDNext = l.UIDValidity, l.Next()
		uids := map[string]uint32{}
		for _, en := range l.Entries {
			uids[en.Base] = en.UID
		}
		for _, sub := range []string{"cur", "new"} {
			files, err := os.ReadDir(filepath.Join(p, sub))
			if err != nil {
				t.Fatal(err)
			}
			for _, fe := range files {
				info := maildir.ParseInfo(fe.Name())
				var flags []string
				for i := 0; i < len(info.Flags); i++ {
					flags = append(flags, imapFlags[info.Flags[i]])
				}
				for _, c := range []byte(info.Letters) {
					flags = append(flags, table[c-'a'])
				}
				body, err := os.ReadFile(filepath.Join(p, sub, fe.Name()))
				st, serr := os.Stat(filepath.Join(p, sub, fe.Name()))
				if err != nil || serr != nil {
					t.Fatal(err, serr)
				}
				f.Messages = append(f.Messages, imapMessage(uids[info.Base], flags, st.ModTime(), body))
			}
		}
		slices.SortFunc(f.Messages, func(a, b Message) int { return int(a.UID) - int(b.UID) })
		s.Folders = append(s.Folders, f)
	}
	return s
}

// readExportedMboxes reads the FOLDER.mbox files of an export with
// Python's mailbox module. An mbox holds no UIDs, UIDVALIDITY or
// subscriptions: those are taken from want, the messages' UIDs in order,
// so that the comparison checks the order and the count.
func readExportedMboxes(t *testing.T, root string, want *Snapshot) *Snapshot {
	t.Helper()
	s := &Snapshot{Subscribed: want.Subscribed}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name, ok := strings.CutSuffix(rel, ".mbox")
		if !ok {
			t.Errorf("unexpected file %s in the mbox export", rel)
			return nil
		}
		msgs, err := mboxread.Python(p)
		if err != nil {
			return err
		}
		f := Folder{Name: name}
		wf := want.Folder(name)
		if wf != nil {
			f.UIDValidity, f.UIDNext = wf.UIDValidity, wf.UIDNext
		}
		for i, m := range msgs {
			var flags []string
			for _, c := range []byte(m.Flags) {
				if fl, ok := mboxFlags[c]; ok {
					flags = append(flags, fl)
				}
			}
			flags = append(flags, strings.Fields(m.Keywords)...)
			// "From sender asctime"
			_, date, _ := strings.Cut(m.From, " ")
			at, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", date, time.UTC)
			if err != nil {
				t.Errorf("%s message %d: From line %q: %v", name, i, m.From, err)
			}
			uid := uint32(0)
			if wf != nil && i < len(wf.Messages) {
				uid = wf.Messages[i].UID
			}
			body := mboxread.StripHeaders(mboxread.Unquote(m.Bytes), "Status", "X-Status", "X-Keywords")
			f.Messages = append(f.Messages, imapMessage(uid, flags, at, body))
		}
		s.Folders = append(s.Folders, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Folders) == 0 {
		t.Fatalf("no mbox under %s", root)
	}
	return s
}
