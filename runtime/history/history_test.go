package history_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/history"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

const account = "ann@example.org"

// mailbox is one hand-written Maildir account, its repository and a
// clock that each scan advances by an hour.
type mailbox struct {
	t     *testing.T
	root  string
	store *maildir.Store
	repo  *repo.Repo
	now   time.Time
}

func newMailbox(t *testing.T) *mailbox {
	dir := t.TempDir()
	m := &mailbox{t: t, root: filepath.Join(dir, "vmail", "example.org", "ann", "Maildir"), now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	ms, err := location.Parse("maildir:" + filepath.Join(dir, "vmail") + "/%d/%n/Maildir")
	m.check(err)
	m.store, err = maildir.Open(ms)
	m.check(err)
	m.repo, err = repo.Open(filepath.Join(dir, "backup"), repo.Options{Create: true})
	m.check(err)
	t.Cleanup(func() { m.repo.Close() })
	return m
}

func (m *mailbox) check(err error) {
	m.t.Helper()
	if err != nil {
		m.t.Fatal(err)
	}
}

// folder creates a Maildir++ folder ("" is INBOX).
func (m *mailbox) folder(dir string) {
	for _, sub := range []string{"cur", "new", "tmp"} {
		m.check(os.MkdirAll(filepath.Join(m.root, dir, sub), 0o700))
	}
	if dir != "" {
		m.check(os.WriteFile(filepath.Join(m.root, dir, "maildirfolder"), nil, 0o600))
	}
}

// deliver writes message n into a folder's cur/ with the given flags.
func (m *mailbox) deliver(dir string, n int) {
	body := fmt.Sprintf("From: Sender %d <s%d@example.net>\r\nTo: ann@example.org\r\nSubject: =?utf-8?q?n=C2=B0_%d?=\r\nDate: Mon, 4 May 2026 09:%02d:00 +0000\r\n\r\nmessage %d\r\n", n, n, n, n%60, n)
	m.check(os.WriteFile(filepath.Join(m.root, dir, "cur", name(n, "")), []byte(body), 0o600))
}

func name(n int, flags string) string {
	return fmt.Sprintf("17000000%02d.M%dP1.host:2,%s", n, n, flags)
}

// scan records the store at the mailbox's clock and returns that instant.
func (m *mailbox) scan() time.Time {
	m.t.Helper()
	at := m.now
	_, err := scan.Run(context.Background(), m.repo, m.store, scan.Options{Now: func() time.Time { return at }})
	m.check(err)
	m.now = m.now.Add(time.Hour)
	return at
}

func kinds(events []history.Event) []string {
	var out []string
	for _, e := range events {
		s := e.Kind
		if e.Folder != "" {
			s += " " + e.Folder
		}
		if e.From != "" {
			s += " from " + e.From
		}
		out = append(out, fmt.Sprintf("%s (%d)", s, e.Messages))
	}
	return out
}

// TestEventsAndDiff follows one account through the changes an
// administrator asks about, and checks what history and diff say of them.
func TestEventsAndDiff(t *testing.T) {
	m := newMailbox(t)
	m.folder("")
	m.folder(".Work")
	m.folder(".Old")
	for n := range 30 {
		m.deliver("", n)
	}
	for n := 30; n < 35; n++ {
		m.deliver(".Work", n)
	}
	for n := 35; n < 38; n++ {
		m.deliver(".Old", n)
	}
	created := m.scan()
	m.folder(".New")
	m.scan()
	m.check(os.Rename(filepath.Join(m.root, ".Work"), filepath.Join(m.root, ".Projects")))
	renamed := m.scan()
	// A flag change, and a move (a new file with the same content).
	m.check(os.Rename(filepath.Join(m.root, "cur", name(0, "")), filepath.Join(m.root, "cur", name(0, "S"))))
	data, err := os.ReadFile(filepath.Join(m.root, "cur", name(1, "")))
	m.check(err)
	m.check(os.WriteFile(filepath.Join(m.root, ".Projects", "cur", name(90, "")), data, 0o600))
	m.check(os.Remove(filepath.Join(m.root, "cur", name(1, ""))))
	m.scan()
	// 25 messages expunged at once, then a folder removed.
	for n := 2; n < 27; n++ {
		m.check(os.Remove(filepath.Join(m.root, "cur", name(n, ""))))
	}
	bulk := m.scan()
	m.check(os.RemoveAll(filepath.Join(m.root, ".Old")))
	folderGone := m.scan()
	m.check(m.repo.Catalog.LogRestore(catalog.Restore{Account: account, Source: account, Kind: "account",
		Instant: bulk.UnixNano() - 1, Started: folderGone.Add(time.Minute).UnixNano(), Finished: folderGone.Add(2 * time.Minute).UnixNano(), Messages: 25, Outcome: "ok", Operation: "op1"}))

	events, err := history.Events(m.repo.Catalog, account, time.Time{})
	m.check(err)
	want := []string{"account_created (38)", "folder_created New (0)", "folder_renamed Projects from Work (0)",
		"bulk_deletion (25)", "folder_deleted Old (3)", "restore (25)"}
	if got := kinds(events); !slices.Equal(got, want) {
		t.Fatalf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if !events[0].At.Equal(created) || events[0].Folders != 3 || !events[2].At.Equal(renamed) {
		t.Errorf("created %v with %d folders, renamed %v; want %v with 3, %v", events[0].At, events[0].Folders, events[2].At, created, renamed)
	}
	if e := events[3]; !e.At.Equal(bulk) || len(e.PerFolder) != 1 || e.PerFolder[0].Folder != "INBOX" {
		t.Errorf("bulk deletion %+v, want at %v in INBOX", e, bulk)
	}
	if e := events[4]; !e.At.Equal(folderGone) || e.Began == nil || !e.Began.Equal(folderGone) {
		t.Errorf("folder deletion %+v, want at and begun at %v", e, folderGone)
	}
	if r := events[5].Restore; r == nil || r.Kind != "account" || r.Operation != "op1" || r.Instant == nil {
		t.Errorf("restore event %+v", events[5])
	}
	if since, err := history.Events(m.repo.Catalog, account, bulk); err != nil || len(since) != 3 {
		t.Errorf("events since the bulk deletion: %v %v, want its 3 last", kinds(since), err)
	}

	d, err := history.Compare(m.repo.Catalog, account, created, m.now, history.FromRepo(m.repo))
	m.check(err)
	if d.Added != 0 || d.Deleted != 28 || d.Moved != 6 || d.Reflagged != 1 {
		t.Fatalf("diff: %d added, %d deleted, %d moved, %d re-flagged; want 0, 28 (25 expunged, 3 with Old), 6 (5 with the rename, 1 moved), 1",
			d.Added, d.Deleted, d.Moved, d.Reflagged)
	}
	byName := map[string]history.FolderDiff{}
	for _, f := range d.Folders {
		byName[f.Folder] = f
	}
	inbox, projects := byName["INBOX"], byName["Projects"]
	if len(inbox.Deleted) != 25 || len(inbox.MovedOut) != 1 || inbox.MovedOut[0].Other != "Projects" || len(inbox.Reflagged) != 1 {
		t.Errorf("INBOX diff: %d deleted, moved out %+v, %d re-flagged", len(inbox.Deleted), inbox.MovedOut, len(inbox.Reflagged))
	}
	if r := inbox.Reflagged; len(r) == 1 && (*r[0].OldFlags != "" || r[0].Flags != "S") {
		t.Errorf("re-flagged %q -> %q, want \"\" -> S", *r[0].OldFlags, r[0].Flags)
	}
	if len(projects.MovedIn) != 6 || len(byName["Work"].MovedOut) != 5 || len(byName["Old"].Deleted) != 3 {
		t.Errorf("Projects moved in %d, Work moved out %d, Old deleted %d", len(projects.MovedIn), len(byName["Work"].MovedOut), len(byName["Old"].Deleted))
	}
	first := inbox.Deleted[0]
	if first.Sender != "Sender 2 <s2@example.net>" || first.Subject != "n° 2" || first.Date == nil || !first.Date.Equal(time.Date(2026, 5, 4, 9, 2, 0, 0, time.UTC)) {
		t.Errorf("the first deleted message reads %+v, want sender, decoded subject and date of message 2", first.Summary)
	}
	// A repository from before the header index: the diff reads the
	// messages themselves.
	if _, err := m.repo.Catalog.DB().Exec(`DELETE FROM blob_headers`); err != nil {
		t.Fatal(err)
	}
	d, err = history.Compare(m.repo.Catalog, account, created, m.now, history.FromRepo(m.repo))
	m.check(err)
	for _, f := range d.Folders {
		if f.Folder == "INBOX" && (len(f.Deleted) == 0 || f.Deleted[0].Subject != first.Subject || f.Deleted[0].Sender != first.Sender || !f.Deleted[0].Date.Equal(*first.Date)) {
			t.Errorf("without the header index, the first deleted message reads %+v, want %+v", f.Deleted[0].Summary, first.Summary)
		}
	}
	if _, err := history.Compare(m.repo.Catalog, account, m.now, created, nil); err == nil || !strings.Contains(err.Error(), "before") {
		t.Errorf("a diff whose end is before its start: %v", err)
	}

	// The account goes: its deletion, with what it held.
	m.check(os.RemoveAll(m.root))
	deleted := m.scan()
	events, err = history.Events(m.repo.Catalog, account, deleted)
	m.check(err)
	if len(events) != 1 || events[0].Kind != history.AccountDeleted || events[0].Messages != 10 || events[0].Folders != 3 {
		t.Fatalf("after the account's removal: %v %+v, want its deletion holding 10 messages in 3 folders", kinds(events), events)
	}
	if _, err := history.Events(m.repo.Catalog, "nobody@example.org", time.Time{}); err == nil || !strings.Contains(err.Error(), "nobody@example.org") {
		t.Errorf("history of an unknown account: %v", err)
	}
}
