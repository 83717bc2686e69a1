package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestSearchBackup: messages with known headers are delivered over LMTP
// to the real Dovecot among others, backed up, and found by `mailkeep
// backup search` by sender, recipient, subject and Message-ID with the
// folder, UID and INTERNALDATE IMAP shows; after an IMAP expunge the same
// item id is listed as deleted, and -at an instant before it shows it
// present.
func TestSearchBackup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob}})
	known := []struct {
		to   []string
		msg  string
		mid  string
		from string
		subj string
	}{
		{[]string{alice.Name}, "From: =?UTF-8?Q?Chlo=C3=A9_Dupr=C3=A9?= <chloe@example.net>\r\nTo: " + alice.Name +
			"\r\nSubject: =?ISO-8859-1?Q?R=E9union_budget?=\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\nMessage-ID: <known.1@search.test>\r\n\r\nHallo\r\n",
			"known.1@search.test", "Chloé Dupré <chloe@example.net>", "Réunion budget"},
		{[]string{alice.Name, bob.Name}, "From: Dmitri <dmitri@example.com>\r\nTo: " + alice.Name + "\r\nCc: Bob <" + bob.Name +
			">\r\nSubject: Contract renewal\r\n\tsecond line\r\nMessage-ID: <known.2@search.test>\r\n\r\nbody\r\n",
			"known.2@search.test", "Dmitri <dmitri@example.com>", "Contract renewal second line"},
	}
	r := rand.New(rand.NewPCG(10, 1))
	for i := range 20 {
		if err := DeliverLMTP(e.dc.LMTPAddr(), "noise@example.net", []string{alice.Name}, SampleMessage(r, i, alice.Name)); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			for _, k := range known {
				if err := DeliverLMTP(e.dc.LMTPAddr(), "sender@example.net", k.to, []byte(k.msg)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e.smartScan()
	snap := e.snapshot(alice.Name)
	inbox := snap.Folder("INBOX")
	byMID := map[string]Message{}
	for _, m := range inbox.Messages {
		byMID[strings.Trim(HeaderValue(m.Body, "Message-ID"), "<>")] = m
	}

	search := func(args ...string) api.SearchResponse {
		t.Helper()
		out := e.mailkeep(append([]string{"backup", "search", "-json", "-agent", "unix://" + e.sock}, args...)...)
		var res api.SearchResponse
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("backup search %v: %v\n%s", args, err, out)
		}
		return res
	}
	ids := map[string]int64{}
	for _, k := range known {
		for _, q := range [][]string{
			{"-message-id", "<" + k.mid + ">"},
			{"-sender", strings.ToUpper(k.from[:4]), "-subject", strings.ToLower(k.subj)},
		} {
			res := search(append([]string{alice.Name}, q...)...)
			if res.Count != 1 {
				t.Fatalf("search %v: %d messages, want 1: %+v", q, res.Count, res.Messages)
			}
			m := res.Messages[0]
			live := byMID[k.mid]
			if m.From != k.from || m.Subject != k.subj || m.MessageID != k.mid || m.Folder != "INBOX" || m.Deleted ||
				m.UID != live.UID || !m.Received.Truncate(time.Second).Equal(live.InternalDate) || m.Size == 0 {
				t.Errorf("search %v: %+v; IMAP shows UID %d INTERNALDATE %s", q, m, live.UID, live.InternalDate)
			}
			if id, ok := ids[k.mid]; ok && id != m.ID {
				t.Errorf("%s found as item %d and %d", k.mid, id, m.ID)
			}
			ids[k.mid] = m.ID
		}
	}
	// Recipient in Cc, for both accounts (one delivery to two accounts).
	for _, acct := range []string{alice.Name, bob.Name} {
		if res := search(acct, "-recipient", "bob <"+bob.Name); res.Count != 1 || res.Messages[0].MessageID != "known.2@search.test" {
			t.Errorf("%s -recipient bob: %+v", acct, res.Messages)
		}
	}
	if res := search(alice.Name); res.Count != len(inbox.Messages) || res.Unindexed != 0 {
		t.Errorf("the whole account: %d messages, IMAP shows %d", res.Count, len(inbox.Messages))
	}

	// Expunge the first known message over IMAP; back up again.
	beforeExpunge := time.Now() // the next SmartScan records the expunge later
	c, err := Dial(e.dc.IMAPAddr(), alice.Name, alice.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	set := imap.UIDSetNum(imap.UID(byMID["known.1@search.test"].UID))
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDExpunge(set).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	e.smartScan()

	res := search(alice.Name, "-deleted")
	if res.Count != 1 || res.Messages[0].MessageID != "known.1@search.test" || !res.Messages[0].Deleted || res.Messages[0].DeletedAt == nil {
		t.Fatalf("-deleted after the expunge: %+v", res.Messages)
	}
	if res.Messages[0].ID != ids["known.1@search.test"] {
		t.Errorf("the expunged message is item %d, was item %d: the version backed up before the expunge keeps its id",
			res.Messages[0].ID, ids["known.1@search.test"])
	}
	at := beforeExpunge.Format(time.RFC3339Nano)
	if res := search(alice.Name, "-at", at, "-message-id", "known.1@search.test"); res.Count != 1 || res.Messages[0].ID != ids["known.1@search.test"] ||
		!res.Messages[0].Deleted {
		t.Errorf("-at %s: %+v", at, res.Messages)
	}
	if res := search(alice.Name, "-at", "last", "-message-id", "known.1@search.test"); res.Count != 0 {
		t.Errorf("-at last still shows the expunged message: %+v", res.Messages)
	}

	// The human listing, and bad input: exit 1 with the reason.
	// (Selecting INBOX moved its messages from new/ to cur/: a rename,
	// so the others have a new version, with a new item id, since.)
	cur := search(alice.Name, "-message-id", "known.2@search.test")
	if cur.Count != 1 || cur.Messages[0].ID < ids["known.2@search.test"] {
		t.Fatalf("known.2 after the second backup: %+v", cur.Messages)
	}
	list := exec.Command(mailkeepBinary(t), "backup", "search", "-agent", "unix://"+e.sock, alice.Name, "-subject", "contract")
	out, err := list.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprint(cur.Messages[0].ID)) || !strings.Contains(string(out), "Dmitri") {
		t.Errorf("backup search listing %v (%v): %q", list.Args, err, out)
	}
	cmd := exec.Command(mailkeepBinary(t), "backup", "search", "-agent", "unix://"+e.sock, "nobody@example.com")
	if b, err := cmd.CombinedOutput(); err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(b), "nobody@example.com") {
		t.Errorf("unknown account: exit %d: %s", cmd.ProcessState.ExitCode(), b)
	}
}
