package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
)

// cpuLoad keeps every processor of the machine busy with spinning
// processes until the test ends or the returned function is called, so
// that the agent works as on a loaded server (or a busy CI machine).
func cpuLoad(t *testing.T) (stop func()) {
	t.Helper()
	var procs []*exec.Cmd
	for range 2 * runtime.NumCPU() {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting CPU load: %v", err)
		}
		procs = append(procs, cmd)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestRealtimeRestoreAccountRemovedInSteps is the deletion case of
// TestRealtimeRestoreDeletedAccount with the removal spread on purpose,
// under CPU load: the account's folders are removed one at a time, each
// removal recorded by the realtime scanner in batches of its own, before
// the rest of the Maildir goes. `restore account` without -at gives the
// whole account back, as it was before the removal began, and `backup ls`
// lists it so.
func TestRealtimeRestoreAccountRemovedInSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice, bob}, realtime: true})
	w := newWorkload(t, e, 11, alice.Name, bob.Name)
	w.run(historyOps / 2)
	w.logout()
	e.waitRealtime(w.lastWrite)
	before := e.snapshot(alice.Name)
	e.waitRealtime(time.Time{})
	if len(before.Folders) < 3 {
		t.Fatalf("the history left %d folders; the test needs at least 3", len(before.Folders))
	}

	stopLoad := cpuLoad(t)
	root := e.maildir(alice.Name)
	dirs, err := filepath.Glob(filepath.Join(root, ".*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	steps := 0
	for _, dir := range dirs {
		if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
			continue
		}
		// Half the folder's messages first, then the folder.
		msgs, _ := filepath.Glob(filepath.Join(dir, "cur", "*"))
		for _, m := range msgs[:len(msgs)/2] {
			if err := os.Remove(m); err != nil {
				t.Fatal(err)
			}
		}
		if len(msgs) > 1 {
			e.waitRealtime(time.Now())
			steps++
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		e.waitRealtime(time.Now())
		steps++
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	e.waitDeleted(alice.Name)
	t.Logf("the removal reached the backup in %d recorded steps before the deletion", steps)

	ls := e.mailkeep("backup", "ls", "-agent", "unix://"+e.sock, alice.Name)
	t.Logf("mailkeep backup ls:\n%s", ls)
	list, err := e.cl.Accounts(t.Context(), alice.Name)
	if err != nil || len(list) != 1 {
		t.Fatalf("backup ls: %+v %v", list, err)
	}
	if l := list[0]; l.DeletionBegan == nil || !l.DeletionBegan.Before(*l.DeletedAt) || l.Items != int64(before.Messages()) {
		t.Errorf("the deleted account is listed with %d items, deletion began %v, deleted %v; want %d items and a beginning before the deletion",
			l.Items, l.DeletionBegan, l.DeletedAt, before.Messages())
	}
	if !strings.Contains(ls, "removal began") {
		t.Errorf("backup ls does not say when the removal began:\n%s", ls)
	}

	out := e.restoreCLI(alice.Name) // no -at: the default is "last"
	t.Logf("mailkeep restore account:\n%s", out)
	stopLoad()
	e.checkOwnership(alice.Name)
	compare(t, "after a removal in steps and restore account", before, e.snapshot(alice.Name))
}
