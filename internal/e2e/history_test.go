package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/history"
)

// TestHistoryDiffAndFolderDeletion: a bulk expunge and an IMAP DELETE of a
// folder, made through Dovecot under the realtime scanner, show in
// `backup history` (with when the folder's removal began) and in `backup
// diff` (each message with its subject); restoring the instant just before
// the folder's removal began gives the whole folder back, and the restore
// shows in the history of the account it was written into.
func TestHistoryDiffAndFolderDeletion(t *testing.T) {
	t.Parallel()
	target := targetUser(1)
	e := newEnv(t, envOptions{users: []dovecot.User{alice, target}, realtime: true})
	r := rand.New(rand.NewPCG(17, 0))
	for n := range 40 {
		if err := DeliverLMTP(e.dc.LMTPAddr(), "history@example.net", []string{alice.Name}, SampleMessage(r, n, alice.Name)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Dial(e.dc.IMAPAddr(), alice.Name, alice.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Create("Projects", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.SeqSetNum(31, 32, 33, 34, 35, 36, 37, 38, 39, 40), "Projects").Wait(); err != nil {
		t.Fatal(err)
	}
	e.waitRealtime(time.Now())
	before := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	from := time.Now()

	// A bulk expunge of 22 messages, then the folder deleted.
	set := imap.SeqSet{}
	set.AddRange(1, 22)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	e.waitRealtime(time.Now())
	if err := c.Delete("Projects").Wait(); err != nil {
		t.Fatal(err)
	}
	e.waitRealtime(time.Now())

	var hist struct{ Events []api.Event }
	out := e.mailkeep("backup", "history", "-json", "-agent", "unix://"+e.sock, alice.Name)
	if err := json.Unmarshal([]byte(out), &hist); err != nil {
		t.Fatalf("backup history -json: %v\n%s", err, out)
	}
	t.Logf("mailkeep backup history:\n%s", e.mailkeep("backup", "history", "-agent", "unix://"+e.sock, alice.Name))
	var bulk, gone *api.Event
	for i, ev := range hist.Events {
		switch {
		case ev.Kind == history.BulkDeletion:
			bulk = &hist.Events[i]
		case ev.Kind == history.FolderDeleted && ev.Folder == "Projects":
			gone = &hist.Events[i]
		}
	}
	if bulk == nil || bulk.Messages != 22 {
		t.Errorf("history shows no bulk deletion of the 22 expunged messages: %+v", hist.Events)
	}
	if gone == nil || gone.Began == nil || gone.Messages != 10 {
		t.Fatalf("history shows no deletion of Projects with its 10 messages and when it began: %+v", hist.Events)
	}

	var d api.Diff
	out = e.mailkeep("backup", "diff", "-json", "-agent", "unix://"+e.sock, "-from", from.Format(time.RFC3339Nano), alice.Name)
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("backup diff -json: %v\n%s", err, out)
	}
	t.Logf("mailkeep backup diff:\n%s", e.mailkeep("backup", "diff", "-agent", "unix://"+e.sock, "-from", from.Format(time.RFC3339Nano), alice.Name))
	if d.Deleted != 32 || d.Added != 0 || d.Moved != 0 {
		t.Errorf("diff: %d deleted, %d added, %d moved; want the 22 expunged and the 10 of Projects deleted", d.Deleted, d.Added, d.Moved)
	}
	for _, f := range d.Folders {
		for _, m := range f.Deleted {
			if !strings.Contains(m.Subject, "#") || m.Sender == "" || m.Date == nil {
				t.Errorf("deleted message %d of %s is listed without its sender, subject or date: %+v", m.ID, f.Folder, m.MessageSummary)
			}
		}
	}

	at := gone.Began.Add(-time.Nanosecond).Format(time.RFC3339Nano)
	t.Logf("%s", e.restoreCLI(alice.Name, "-at", at, "-to", target.Name))
	got := e.snapshot(target.Name)
	want := &Snapshot{Account: before.Account, Folders: []Folder{*before.Folder("Projects")}}
	if f := got.Folder("Projects"); f == nil {
		t.Fatalf("the restore before the folder's removal has no Projects: %s", got.Summary())
	} else if diff := Diff(want, &Snapshot{Account: before.Account, Folders: []Folder{*f}}); diff != nil {
		t.Errorf("Projects restored from just before its removal differs from what it was:\n  %s", strings.Join(diff, "\n  "))
	}

	e.waitRealtime(time.Now())
	if err := json.Unmarshal([]byte(e.mailkeep("backup", "history", "-json", "-agent", "unix://"+e.sock, target.Name)), &hist); err != nil {
		t.Fatal(err)
	}
	restored := false
	for _, ev := range hist.Events {
		restored = restored || (ev.Kind == history.Restored && ev.Restore.Source == alice.Name && ev.Messages == 28)
	}
	if !restored {
		t.Errorf("the history of %s shows no restore from %s (28 messages): %+v", target.Name, alice.Name, hist.Events)
	}
}
