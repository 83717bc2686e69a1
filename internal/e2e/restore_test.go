package e2e

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
)

// historyOps is the length of the mailbox histories.
const historyOps = 400

// TestRealtimeRestoreDeletedAccount: the realtime scanner alone (no
// SmartScan) backs up a history of several hundred operations over three
// accounts; the account's Maildir is deleted as a user would (rm -rf);
// `mailkeep restore account -at last` brings it back, Dovecot resyncs
// through restore.post_command, and IMAP shows exactly what it showed
// before: folders, subscriptions, UIDVALIDITY, UIDNEXT, UIDs, flags,
// keywords, INTERNALDATEs and byte-identical messages. The files belong
// to the mail user without any chown by the test. The removal and the
// restore run under CPU load.
func TestRealtimeRestoreDeletedAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob, carol}, realtime: true})
	w := newWorkload(t, e, 1, alice.Name, bob.Name, carol.Name)
	w.run(historyOps)
	w.logout()
	t.Logf("history: %s", w.summary())
	e.waitRealtime(w.lastWrite)

	before := e.snapshot(alice.Name)
	others := map[string]*Snapshot{bob.Name: e.snapshot(bob.Name), carol.Name: e.snapshot(carol.Name)}
	if before.Messages() < 50 || len(before.Folders) < 4 {
		t.Fatalf("the history left too little to prove anything: %d messages in %d folders", before.Messages(), len(before.Folders))
	}
	t.Logf("%s before the deletion: %d messages in %d folders\n%s", alice.Name, before.Messages(), len(before.Folders), before.Summary())
	e.waitRealtime(time.Time{})
	if st, err := e.cl.Status(t.Context()); err != nil || st.SmartScan.LastRun != nil {
		t.Fatalf("a SmartScan ran (%+v, %v); this test is about the realtime scanner alone", st.SmartScan.LastRun, err)
	}

	// Under CPU load, as on a busy machine: the removal then reaches the
	// scanner in several batches (TestRealtimeRestoreAccountRemovedInSteps
	// spreads it on purpose).
	stopLoad := cpuLoad(t)
	if err := os.RemoveAll(e.maildir(alice.Name)); err != nil {
		t.Fatal(err)
	}
	e.waitDeleted(alice.Name)

	out := e.restoreCLI(alice.Name, "-at", "last")
	stopLoad()
	t.Logf("mailkeep restore account:\n%s", out)
	if !strings.Contains(out, "full restore") || !strings.Contains(out, "post_command") || !strings.Contains(out, ": ok") {
		t.Errorf("restore output lacks the full restore or the post_command outcome:\n%s", out)
	}
	e.checkOwnership(alice.Name)
	compare(t, "after restore -at last", before, e.snapshot(alice.Name))
	for name, want := range others {
		compare(t, "an account that was not restored", want, e.snapshot(name))
	}
}

// instant is an IMAP snapshot and the moment it was true.
type instant struct {
	snap *Snapshot
	at   time.Time
}

// checkpoint waits until the realtime scanner has recorded everything,
// takes an IMAP snapshot of the account, waits again (reading may make
// Dovecot write) and returns the snapshot with the current time.
func checkpoint(e *env, w *workload, account string) instant {
	e.t.Helper()
	e.waitRealtime(w.lastWrite)
	s := e.snapshot(account)
	e.waitRealtime(time.Time{})
	return instant{snap: s, at: time.Now()}
}

// TestRestoreAtInstants: snapshots taken at chosen instants during a
// history; restoring each instant into a fresh account (-to) gives what
// IMAP showed at that instant.
func TestRestoreAtInstants(t *testing.T) {
	t.Parallel()
	users := []dovecot.User{alice, bob}
	for i := 1; i <= 4; i++ {
		users = append(users, targetUser(i))
	}
	e := newEnv(t, envOptions{users: users, realtime: true})
	w := newWorkload(t, e, 2, alice.Name, bob.Name)
	var instants []instant
	for phase := 0; phase < 4; phase++ {
		w.run(historyOps / 4)
		instants = append(instants, checkpoint(e, w, alice.Name))
	}
	w.logout()
	t.Logf("history: %s", w.summary())
	for i, in := range instants {
		if i > 0 && Diff(instants[i-1].snap, in.snap) == nil {
			t.Fatalf("instants %d and %d show the same mailbox; the test proves nothing", i, i+1)
		}
		to := targetUser(i + 1).Name
		at := in.at.Format(time.RFC3339Nano)
		if i%2 == 0 {
			t.Logf("%s", restoreSummary(e.restoreAPI(alice.Name, at, to)))
		} else {
			t.Logf("%s", e.restoreCLI(alice.Name, "-at", at, "-to", to))
		}
		e.checkOwnership(to)
		got := e.snapshot(to)
		t.Logf("instant %d (%s): %d messages in %d folders", i+1, at, got.Messages(), len(got.Folders))
		compare(t, "restore -at "+at+" -to "+to, in.snap, got)
	}
}

// TestRestoreToOtherAccount: -to gives another account the source's
// content without touching the source: into an account that does not
// exist yet (a full restore: the same UIDs), and into one that has mail
// of its own (a merge: its messages stay as they were, the source's are
// added).
func TestRestoreToOtherAccount(t *testing.T) {
	t.Parallel()
	copyUser := targetUser(1)
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob, copyUser}, realtime: true})
	w := newWorkload(t, e, 3, alice.Name, bob.Name)
	w.run(historyOps * 3 / 4)
	w.logout()
	e.waitRealtime(w.lastWrite)
	src := e.snapshot(alice.Name)
	bobBefore := e.snapshot(bob.Name)
	e.waitRealtime(time.Time{})

	op := e.restoreAPI(alice.Name, "", copyUser.Name)
	t.Logf("restore -to: %s", restoreSummary(op))
	e.checkOwnership(copyUser.Name)
	compare(t, "restore -to a new account", src, e.snapshot(copyUser.Name))
	compare(t, "the source after restore -to", src, e.snapshot(alice.Name))

	// The merge goes into a live account: a mail client has its INBOX
	// open meanwhile, and must see the restored messages arrive.
	live, err := Dial(e.dc.IMAPAddr(), bob.Name, bob.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	sel, err := live.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := e.restoreCLI(alice.Name, "-to", bob.Name)
	t.Logf("restore -to %s:\n%s", bob.Name, out)
	if !strings.Contains(out, "merge restore") {
		t.Errorf("a restore into an account with mail is not a merge:\n%s", out)
	}
	if err := live.Noop().Wait(); err != nil {
		t.Fatalf("the live IMAP session after the merge: %v", err)
	}
	e.checkOwnership(bob.Name)
	compare(t, "the source after restore -to another account with mail", src, e.snapshot(alice.Name))
	after := e.snapshot(bob.Name)
	checkMerged(t, bobBefore, src, after)
	if n := live.Mailbox().NumMessages; n != uint32(len(after.Folder("INBOX").Messages)) || n <= sel.NumMessages {
		t.Errorf("the IMAP session that had INBOX open during the merge sees %d messages (had %d); a fresh login sees %d",
			n, sel.NumMessages, len(after.Folder("INBOX").Messages))
	}
	live.Logout().Wait()
}

// checkMerged checks a merge of src into an account that held before:
// every message the target had is still there unchanged (same UID, flags,
// date and body); every message of src is in the folder of the same name,
// either as a new message with the source's flags, date and body (under a
// new UID) or, when the target already had the same message (LMTP stores a
// message delivered to several accounts once, with the same file name), as
// that message, left alone; and nothing else was added.
func checkMerged(t *testing.T, before, src, after *Snapshot) {
	t.Helper()
	var problems []string
	type key struct {
		folder string
		uid    uint32
	}
	old := map[key]bool{}
	for _, wf := range before.Folders {
		af := after.Folder(wf.Name)
		if af == nil {
			problems = append(problems, fmt.Sprintf("folder %q of the target is gone", wf.Name))
			continue
		}
		if af.UIDValidity != wf.UIDValidity {
			problems = append(problems, fmt.Sprintf("folder %q of the target: UIDVALIDITY changed from %d to %d", wf.Name, wf.UIDValidity, af.UIDValidity))
		}
		for _, m := range wf.Messages {
			old[key{wf.Name, m.UID}] = true
			var am *Message
			for i := range af.Messages {
				if af.Messages[i].UID == m.UID {
					am = &af.Messages[i]
				}
			}
			switch {
			case am == nil:
				problems = append(problems, fmt.Sprintf("the target's message %q UID %d (%s) is gone", wf.Name, m.UID, m.describe()))
			case !slices.Equal(am.Flags, m.Flags) || !am.InternalDate.Equal(m.InternalDate) || !bytes.Equal(am.Body, m.Body):
				problems = append(problems, fmt.Sprintf("the target's message %q UID %d changed: flags %q date %s, were %q %s", wf.Name, m.UID, am.Flags, am.InternalDate, m.Flags, m.InternalDate))
			}
		}
	}
	used := map[key]bool{}
	leftAlone := 0
	for _, sf := range src.Folders {
		af := after.Folder(sf.Name)
		if af == nil {
			problems = append(problems, fmt.Sprintf("the source's folder %q is not in the target", sf.Name))
			continue
		}
	next:
		for _, m := range sf.Messages {
			for _, am := range af.Messages {
				k := key{sf.Name, am.UID}
				if !old[k] && !used[k] && bytes.Equal(am.Body, m.Body) && slices.Equal(am.Flags, m.Flags) && am.InternalDate.Equal(m.InternalDate) {
					used[k] = true
					continue next
				}
			}
			for _, am := range af.Messages {
				if old[key{sf.Name, am.UID}] && bytes.Equal(am.Body, m.Body) {
					leftAlone++
					continue next
				}
			}
			problems = append(problems, fmt.Sprintf("the source's message %s in %q with flags %q is not in the target", m.describe(), sf.Name, m.Flags))
		}
	}
	if want := before.Messages() + src.Messages() - leftAlone; after.Messages() != want {
		problems = append(problems, fmt.Sprintf("the target holds %d messages, want %d (its own %d, the source's %d, %d of them already there)",
			after.Messages(), want, before.Messages(), src.Messages(), leftAlone))
	}
	if len(problems) > 10 {
		problems = append(problems[:10], fmt.Sprintf("... %d more", len(problems)-10))
	}
	if len(problems) > 0 {
		t.Errorf("merge into %s:\n  %s", after.Account, strings.Join(problems, "\n  "))
	}
	t.Logf("merge into %s: %d messages of its own kept, %d of the source's added, %d already there", after.Account, before.Messages(), src.Messages()-leftAlone, leftAlone)
}

// TestSmartScanRestoreDeletedAccount is TestRealtimeRestoreDeletedAccount
// with the realtime scanner off: a SmartScan backs the history up before
// the account is deleted.
func TestSmartScanRestoreDeletedAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob, carol}, realtime: false})
	w := newWorkload(t, e, 4, alice.Name, bob.Name, carol.Name)
	w.run(historyOps)
	w.logout()
	t.Logf("history: %s", w.summary())
	before := e.snapshot(alice.Name)
	if st, err := e.cl.Status(t.Context()); err != nil || st.Realtime.State != "off" {
		t.Fatalf("realtime scanner: %+v, %v", st.Realtime, err)
	}
	if ls, err := e.cl.Accounts(t.Context(), ""); err != nil || len(ls) != 0 {
		t.Fatalf("something was backed up before the SmartScan: %+v, %v", ls, err)
	}
	e.mailkeep("smartscan", "-agent", "unix://"+e.sock, "-wait")

	if err := os.RemoveAll(e.maildir(alice.Name)); err != nil {
		t.Fatal(err)
	}
	out := e.restoreCLI(alice.Name, "-at", "last")
	t.Logf("mailkeep restore account:\n%s", out)
	if !strings.Contains(out, "full restore") {
		t.Errorf("not a full restore:\n%s", out)
	}
	e.checkOwnership(alice.Name)
	compare(t, "after SmartScan, deletion and restore -at last", before, e.snapshot(alice.Name))
}

// TestRestoreAfterMailArrivedForDeletedAccount: mail keeps arriving for an
// account whose Maildir was deleted, so Dovecot recreates it with the new
// mail; restoring the instant before the deletion merges the old mailbox
// back without touching the new mail. (Once the account is back, `-at
// last` means now, which holds only the new mail: the instant before the
// deletion must be named.)
func TestRestoreAfterMailArrivedForDeletedAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob}, realtime: true})
	w := newWorkload(t, e, 9, alice.Name, bob.Name)
	w.run(historyOps / 2)
	w.logout()
	e.waitRealtime(w.lastWrite)
	before := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	stopLoad := cpuLoad(t) // the removal then reaches the backup in several steps
	if err := os.RemoveAll(e.maildir(alice.Name)); err != nil {
		t.Fatal(err)
	}
	e.waitDeleted(alice.Name)
	stopLoad()
	// The instant to restore is the one before the removal *began*: under
	// load the rm -rf reaches the backup in several steps, and the instant
	// before the account was recorded deleted already lacks most of it.
	ls, err := e.cl.Accounts(t.Context(), alice.Name)
	if err != nil || len(ls) != 1 || ls[0].DeletionBegan == nil {
		t.Fatalf("backup ls of the deleted account: %+v, %v", ls, err)
	}
	began := *ls[0].DeletionBegan
	for i := 0; i < 3; i++ {
		if err := DeliverLMTP(e.dc.LMTPAddr(), "late@example.net", []string{alice.Name}, SampleMessage(w.r, 9000+i, alice.Name)); err != nil {
			t.Fatal(err)
		}
	}
	e.waitRealtime(time.Now())
	recreated := e.snapshot(alice.Name)
	if recreated.Messages() != 3 {
		t.Fatalf("the recreated account holds %d messages, want the 3 delivered", recreated.Messages())
	}
	e.waitRealtime(time.Time{})
	if ls, err := e.cl.Accounts(t.Context(), alice.Name); err != nil || len(ls) != 1 || ls[0].DeletionBegan == nil || !ls[0].DeletionBegan.Equal(began) {
		t.Fatalf("backup ls of the recreated account does not keep when its last deletion began (%s): %+v, %v", began, ls, err)
	}
	out := e.restoreCLI(alice.Name, "-at", began.Add(-time.Nanosecond).Format(time.RFC3339Nano))
	t.Logf("%s", out)
	e.checkOwnership(alice.Name)
	checkMerged(t, recreated, before, e.snapshot(alice.Name))
	if t.Failed() {
		t.Logf("the history as recorded (removal began %s):\n%s", began.Format(time.RFC3339Nano), e.steps(alice.Name))
	}
}
