package restore_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// faulty reopens the repository with its packs behind a fault-injecting
// backend.
func (f *fixture) faulty() *faultbackend.Backend {
	f.t.Helper()
	var fb *faultbackend.Backend
	f.repo, fb = mailrepo.Faulty(f.t, f.repo, 7, repo.Options{})
	return fb
}

// tmpFiles lists the files left in the tmp/ directories below root.
func tmpFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && filepath.Base(filepath.Dir(p)) == "tmp" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A restore given EIO reading some messages' packs keeps to the contract
// of a restore with damaged messages: it writes every other message,
// names each one it could not write with the pack and the error, counts
// only what it wrote, ends with an error, and leaves no half-written file
// in the live Maildir (nothing in tmp/, no partial message in cur/ or
// new/). Once the disk reads again, a restore is complete and exact.
func TestRestoreGivenEIOOnRead(t *testing.T) {
	f := newFixture(t, 11, 1, 60)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	fb := f.faulty()
	fb.Fail(faultbackend.Rule{Op: faultbackend.ReadAt, Prob: 0.1})

	const to = "eio@example.com"
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{Account: name, To: to, At: at.Add(time.Minute)})
	failed := fb.Injected()
	if failed == 0 || failed > 30 {
		t.Fatalf("%d reads failed; the seed should fail a few of 60", failed)
	}
	if err == nil || !strings.Contains(err.Error(), "could not be written") {
		t.Fatalf("restore given EIO: %v; want an error saying messages could not be written", err)
	}
	t.Logf("%d reads failed; the restore ended with: %v", failed, err)
	if res == nil {
		t.Fatal("no result")
	}
	dst, _ := f.store.Account(to)
	if got := countMessages(t, dst.Root); res.Failed != failed || res.Messages != 60-failed || got != res.Messages {
		t.Errorf("result: %d written, %d failed; %d files on disk; want %d written, %d failed", res.Messages, res.Failed, got, 60-failed, failed)
	}
	for _, fm := range res.FailedItems {
		if !strings.Contains(fm.Error, "input/output error") || !strings.Contains(fm.Error, pack.PackName(1)) || fm.Name == "" || fm.Folder == "" {
			t.Errorf("failed item %+v does not name the message, the pack and the EIO", fm)
		}
	}
	if len(res.FailedItems) != failed {
		t.Errorf("%d failed items listed, want %d", len(res.FailedItems), failed)
	}
	if left := tmpFiles(t, dst.Root); len(left) != 0 {
		t.Errorf("half-written files left in the live Maildir: %v", left)
	}
	want, got := f.describe(name), f.describe(to)
	if missing := setDiff(want.Messages, got.Messages); len(missing) != failed {
		t.Errorf("%d messages missing or different, want the %d that failed: %v", len(missing), failed, missing)
	}

	fb.Heal()
	const healed = "healed@example.com"
	f.restore(name, healed, at.Add(time.Minute))
	diffMailboxes(t, "the restore once the disk reads again", f.describe(name), f.describe(healed))
}
