package e2e

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/internal/killtest"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// leftovers lists what a killed restore leaves in a Maildir: the folders'
// dovecot-uidlist.lock, the files staged in tmp/ and the restore marker.
type leftovers struct {
	locks, temps []string
	marker       bool
}

func findLeftovers(t *testing.T, root string) leftovers {
	t.Helper()
	var l leftovers
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Name() == maildir.UIDListLockFile:
			l.locks = append(l.locks, p)
		case d.Name() == maildir.RestoreMarkerFile:
			l.marker = true
		case !d.IsDir() && filepath.Base(filepath.Dir(p)) == "tmp":
			l.temps = append(l.temps, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return l
}

// TestRestoreKilledAndRunAgain: the agent (the real binary) is killed
// with SIGKILL in the middle of a full restore, holding a folder's
// dovecot-uidlist.lock with files staged in tmp/. Restarted, the same
// restore does not wait on its own dead lock, removes its half-written
// files, carries the full restore on, and leaves exactly what an
// uninterrupted restore leaves, as Dovecot shows it over IMAP: folders,
// UIDVALIDITY, UIDNEXT, UIDs, flags, dates and bodies, nothing doubled.
func TestRestoreKilledAndRunAgain(t *testing.T) {
	t.Parallel()
	whole, killed := targetUser(1), targetUser(2)
	e := newEnv(t, envOptions{users: []dovecot.User{alice, whole, killed}, process: true})
	seedMailboxes(t, e, []string{alice.Name})
	e.smartScan()
	e.restoreAPI(alice.Name, "", whole.Name)

	// make campaign raises the rounds: each kills a restore at another
	// point, drawn from the seed, into a fresh target.
	seed := killtest.Seed(3)
	r := rand.New(rand.NewPCG(seed, 17))
	rounds := killtest.Rounds(1)
	for round := 0; round < rounds; round++ {
		frac := 0.2 + 0.6*r.Float64()
		if round > 0 {
			if err := os.RemoveAll(e.maildir(killed.Name)); err != nil {
				t.Fatal(err)
			}
		}
		// Kill in the middle: once a share (20% to 80%) of the messages are written. A
		// kill that happens to land between two folders (no lock held) or
		// between two batches (nothing staged) is tried again on a fresh
		// target, at another point.
		var left leftovers
		for attempt := 0; ; attempt++ {
			if attempt == 5 {
				t.Fatalf("no kill of 5 landed while a folder was locked with files staged (last: %+v)", left)
			}
			op, err := e.cl.Start(t.Context(), api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: alice.Name, To: killed.Name}})
			if err != nil {
				t.Fatal(err)
			}
			for {
				cur, err := e.cl.Operation(t.Context(), op.ID, 0)
				if err != nil {
					t.Fatal(err)
				}
				if cur.State != api.StateRunning {
					t.Fatalf("the restore ended before the kill: %s %s", cur.State, cur.Error)
				}
				if p := cur.Progress; p.ItemsTotal > 0 && p.ItemsDone >= int64(frac*float64(p.ItemsTotal))/(1+int64(attempt)) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			e.proc.kill()
			left = findLeftovers(t, e.maildir(killed.Name))
			t.Logf("attempt %d: killed with %d locks, %d files in tmp/, marker %v", attempt+1, len(left.locks), len(left.temps), left.marker)
			e.proc = e.startProcess()
			e.waitModule(false)
			if len(left.locks) > 0 && len(left.temps) > 0 && left.marker {
				break
			}
			if err := os.RemoveAll(e.maildir(killed.Name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range left.locks {
			data, _ := os.ReadFile(l)
			t.Logf("left behind: %s holding %q", l, data)
		}

		start := time.Now()
		op := e.runOp(api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: alice.Name, To: killed.Name}})
		took := time.Since(start)
		var res api.RestoreResult
		if b, _ := json.Marshal(op.Result); json.Unmarshal(b, &res) != nil || op.State != api.StateSucceeded {
			t.Fatalf("the restore after the kill: %s %s %+v", op.State, op.Error, op.Result)
		}
		t.Logf("the restore after the kill took %s: %d written, %d already there, mode %s, resumed %v", took, res.Messages, res.Skipped, res.Mode, res.Resumed)
		if took >= maildir.LockStale {
			t.Errorf("the restore after the kill took %s: it waited on its own dead lock", took)
		}
		if res.Mode != "full" || !res.Resumed {
			t.Errorf("the restore after the kill is a %s restore (resumed %v), want the full restore carried on", res.Mode, res.Resumed)
		}
		if after := findLeftovers(t, e.maildir(killed.Name)); len(after.locks) > 0 || after.marker || len(after.temps) > 0 {
			t.Errorf("left behind after the second restore: %+v", after)
		}
		want := e.snapshot(whole.Name)
		compare(t, "restored after a SIGKILL vs restored whole", want, e.snapshot(killed.Name))
		compare(t, "restored whole vs the source", e.snapshot(alice.Name), want)
		if want.Messages() < 1000 {
			t.Errorf("only %d messages restored; the test proves little", want.Messages())
		}
		if strings.TrimSpace(res.To) != killed.Name {
			t.Errorf("result names %q", res.To)
		}
	}
	if !t.Failed() {
		killtest.Report(t, "restore", rounds, rounds, seed)
	}
}
