package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/internal/killtest"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// deliveryInterval is the steady LMTP delivery rate of the kill test:
// 20 messages a second.
const deliveryInterval = 50 * time.Millisecond

// killRounds is how many SmartScans the kill test interrupts with SIGKILL
// (make campaign raises it).
var killRounds = killtest.Rounds(4)

// deliverer delivers mail through LMTP at a steady rate and remembers when
// each message was stored.
type deliverer struct {
	mu        sync.Mutex
	delivered map[string]time.Time // Message-ID → when LMTP confirmed it
	err       error
	stop      chan struct{}
	done      chan struct{}
}

func startDeliverer(addr string, accounts []string, seed uint64) *deliverer {
	d := &deliverer{delivered: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	r := rand.New(rand.NewPCG(seed, 20))
	go func() {
		defer close(d.done)
		tick := time.NewTicker(deliveryInterval)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			to := accounts[n%len(accounts)]
			msg := SampleMessage(r, 100000+n, to)
			id := HeaderValue(msg, "Message-ID")
			if err := DeliverLMTP(addr, "feed@example.net", []string{to}, msg); err != nil {
				d.mu.Lock()
				d.err = err
				d.mu.Unlock()
				return
			}
			d.mu.Lock()
			d.delivered[id] = time.Now()
			d.mu.Unlock()
		}
	}()
	return d
}

// finish stops the deliveries and returns what was delivered, or the
// delivery error.
func (d *deliverer) finish() (map[string]time.Time, error) {
	close(d.stop)
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered, d.err
}

func (d *deliverer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.delivered)
}

// TestKillDuringSmartScanWhileDelivering: Dovecot receives 20 messages a
// second through LMTP while SmartScans run and the agent (the real binary)
// is killed with SIGKILL in the middle of them and restarted. After a final
// SmartScan that completes, the repository verifies, and restoring every
// account (-to a fresh account) gives every message delivered before that
// scan started, with its UID, flags, date and body, and nothing that the
// account never held.
//
// It runs with the realtime scanner off (the SmartScans alone record the
// mail) and on (the scanner also records every delivery, and is killed in
// the middle of its batches too).
func TestKillDuringSmartScanWhileDelivering(t *testing.T) {
	t.Parallel()
	for _, realtime := range []bool{false, true} {
		t.Run(map[bool]string{false: "realtime off", true: "realtime on"}[realtime], func(t *testing.T) {
			t.Parallel()
			killDuringSmartScan(t, realtime)
		})
	}
}

func killDuringSmartScan(t *testing.T, realtime bool) {
	users := []dovecot.User{alice, bob, carol, targetUser(1), targetUser(2), targetUser(3)}
	e := newEnv(t, envOptions{users: users, realtime: realtime, process: true})
	sources := []string{alice.Name, bob.Name, carol.Name}
	seeded := seedMailboxes(t, e, sources)

	d := startDeliverer(e.dc.LMTPAddr(), sources, 5)
	defer func() {
		select {
		case <-d.done:
		default:
			d.finish()
		}
	}()
	seed := killtest.Seed(5)
	r := rand.New(rand.NewPCG(seed, 9))
	midScan := 0
	for round := 0; round < killRounds; round++ {
		// Kill when the SmartScan has read a random share (15% to 90%) of
		// what the repository does not hold yet: always in its middle,
		// sometimes after it finished an account or two.
		ls, err := e.cl.Accounts(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		remaining := seeded
		for _, a := range ls {
			remaining -= a.Bytes
		}
		threshold := int64((0.15 + 0.75*r.Float64()) * float64(max(remaining, 1<<20)))
		op, err := e.cl.Start(t.Context(), api.OperationRequest{Type: "smartscan"})
		if err != nil {
			t.Fatal(err)
		}
		running := false
		var progress api.Progress
		for {
			cur, err := e.cl.Operation(t.Context(), op.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			progress = cur.Progress
			if cur.State != api.StateRunning {
				break
			}
			if cur.Progress.Bytes >= threshold {
				running = true
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		e.proc.kill()
		if running {
			midScan++
		}
		if d.count() == 0 {
			_, derr := d.finish()
			t.Fatalf("no delivery: %v", derr)
		}
		t.Logf("round %d: agent killed after %d deliveries, SmartScan running: %v (read %d MiB of %d MiB not yet backed up; %s)",
			round+1, d.count(), running, progress.Bytes>>20, remaining>>20, progress.Phase)
		e.proc = e.startProcess()
		e.waitModule(realtime)
	}
	// With the realtime scanner on, it records most of the mail itself and
	// SmartScan skips the folders it finds unchanged, so kills land in the
	// scanner's batches rather than in SmartScans; the realtime-off run is
	// the one that must kill SmartScans in their middle.
	if !realtime && midScan < killRounds-1 {
		t.Fatalf("only %d of %d kills landed during a SmartScan; the test proves little", midScan, killRounds)
	}
	// A SmartScan that completes while mail keeps arriving.
	time.Sleep(time.Second)
	final := e.smartScan()
	time.Sleep(300 * time.Millisecond)
	delivered, err := d.finish()
	if err != nil {
		t.Fatalf("delivery: %v", err)
	}
	before := 0
	for _, at := range delivered {
		if at.Before(final.Started) {
			before++
		}
	}
	t.Logf("%d messages delivered through LMTP, %d before the final SmartScan started at %s", len(delivered), before, final.Started.Format(time.RFC3339Nano))

	t0 := time.Now()
	op := e.runOp(api.OperationRequest{Type: "verify", Deep: true})
	t.Logf("verify took %s", time.Since(t0))
	var rep api.VerifyReport
	if b, _ := json.Marshal(op.Result); json.Unmarshal(b, &rep) != nil || op.State != api.StateSucceeded || len(rep.Problems) > 0 {
		t.Fatalf("deep verify after the kills: %s %s %+v", op.State, op.Error, rep.Problems)
	}

	for i, src := range sources {
		to := targetUser(i + 1).Name
		t0 := time.Now()
		e.restoreAPI(src, "", to)
		t1 := time.Now()
		e.checkOwnership(to)
		a, b := e.snapshot(src), e.snapshot(to)
		t.Logf("restore %s, snapshots %s", t1.Sub(t0), time.Since(t1))
		checkNothingLost(t, a, b, delivered, final.Started)
	}
	if !t.Failed() {
		killtest.Report(t, map[bool]string{false: "e2e-smartscan", true: "e2e-realtime"}[realtime], killRounds, killRounds, seed)
	}
}

// seedMailboxes gives each account a few thousand messages generated by
// internal/corpus (Dovecot's Maildir++ with its dovecot-uidlist), owned by
// the mail user, so that a SmartScan takes long enough to be killed in its
// middle.
func seedMailboxes(t *testing.T, e *env, accounts []string) (bytes int64) {
	t.Helper()
	uid, gid := e.dc.MailOwner()
	root := filepath.Join(e.dir, "corpus")
	st, err := corpus.Generate(root, corpus.Options{Seed: 6, Accounts: len(accounts), Messages: 1700 * len(accounts),
		MaxSize: 1 << 20, Owner: &corpus.Owner{UID: int(uid), GID: int(gid)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range accounts {
		home := e.dc.Home(a)
		for _, dir := range []string{filepath.Dir(home), home} {
			if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
			if err := os.Chown(dir, int(uid), int(gid)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Rename(st.PerAccount[i].Maildir, filepath.Join(home, "Maildir")); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(root)
	t.Logf("seeded %d messages (%d MiB) into %s", st.Messages, st.Bytes>>20, strings.Join(accounts, ", "))
	return st.Bytes
}

// checkNothingLost compares a restored account with its source: every
// message of the source is in the restored account, under the same folder
// and UID with the same flags, date and body, unless it was delivered
// after the last SmartScan started; and every restored message is one of
// the source's.
func checkNothingLost(t *testing.T, src, restored *Snapshot, delivered map[string]time.Time, lastScan time.Time) {
	t.Helper()
	type key struct {
		folder string
		uid    uint32
	}
	got := map[key]*Message{}
	for _, f := range restored.Folders {
		for i := range f.Messages {
			got[key{f.Name, f.Messages[i].UID}] = &f.Messages[i]
		}
	}
	var problems []string
	checked, late := 0, 0
	for _, f := range src.Folders {
		rf := restored.Folder(f.Name)
		if rf != nil && rf.UIDValidity != f.UIDValidity {
			problems = append(problems, fmt.Sprintf("folder %q: UIDVALIDITY %d, want %d", f.Name, rf.UIDValidity, f.UIDValidity))
		}
		for i := range f.Messages {
			m := &f.Messages[i]
			k := key{f.Name, m.UID}
			g, ok := got[k]
			delete(got, k)
			at, ours := delivered[HeaderValue(m.Body, "Message-ID")]
			if ours && !at.Before(lastScan) {
				late++
				if ok && !bytes.Equal(g.Body, m.Body) {
					problems = append(problems, fmt.Sprintf("%q UID %d: restored body differs", f.Name, m.UID))
				}
				continue
			}
			checked++
			switch {
			case !ok:
				when := "before any scan"
				if ours {
					when = "delivered at " + at.Format(time.RFC3339Nano)
				}
				problems = append(problems, fmt.Sprintf("%q UID %d (%s, %s) is missing", f.Name, m.UID, m.describe(), when))
			case !bytes.Equal(g.Body, m.Body) || !g.InternalDate.Equal(m.InternalDate) || strings.Join(g.Flags, " ") != strings.Join(m.Flags, " "):
				problems = append(problems, fmt.Sprintf("%q UID %d (%s) differs: flags %q date %s, want %q %s", f.Name, m.UID, m.describe(), g.Flags, g.InternalDate, m.Flags, m.InternalDate))
			}
		}
	}
	for k, m := range got {
		problems = append(problems, fmt.Sprintf("%q UID %d (%s) was restored but the source never had it", k.folder, k.uid, m.describe()))
	}
	if len(problems) > 15 {
		problems = append(problems[:15], fmt.Sprintf("... %d more", len(problems)-15))
	}
	if len(problems) > 0 {
		t.Errorf("%s restored into %s lost or changed mail:\n  %s", src.Account, restored.Account, strings.Join(problems, "\n  "))
	}
	t.Logf("%s: %d messages checked, %d delivered after the last SmartScan started (%d of them restored)", src.Account, checked, late, late-(src.Messages()-restored.Messages()))
}
