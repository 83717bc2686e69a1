package restore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// TestInterruptedRestoreIsCarriedOn: a full restore cut short half-way
// leaves mail in the target; the next restore of the same state knows it
// for its own (the marker), carries the full restore on instead of
// merging, and gives exactly what an uninterrupted restore gives, UIDs,
// keywords and subscriptions included, with no duplicate; the marker is
// gone at the end.
func TestInterruptedRestoreIsCarriedOn(t *testing.T) {
	f := newFixture(t, 53, 1, 400)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	want := f.describe(name)
	const to = "interrupted@example.com"

	ctx, cancel := context.WithCancel(context.Background())
	p := &restore.Progress{}
	done := make(chan error, 1)
	go func() {
		_, err := restore.Run(ctx, f.repo, f.store, restore.Options{Account: name, To: to, At: at.Add(time.Minute), Progress: p, Workers: 2})
		done <- err
	}()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		default:
		}
		if p.ItemsDone.Load() >= 100 {
			cancel()
			err = <-done
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the restore was not cut short: %v", err)
	}
	dst, _ := f.store.Account(to)
	written := countMessages(t, dst.Root)
	if written == 0 || written >= 400 {
		t.Fatalf("the cut restore wrote %d of 400 messages; the test needs it in its middle", written)
	}
	if _, err := os.Stat(filepath.Join(dst.Root, maildir.RestoreMarkerFile)); err != nil {
		t.Fatalf("the cut restore left no marker: %v", err)
	}

	res := f.restore(name, to, at.Add(time.Minute))
	if res.Mode != "full" || !res.Resumed || res.Messages+res.Skipped != 400 || res.Skipped < written {
		t.Errorf("second restore: mode %s resumed %v, %d written, %d present (the first wrote %d)", res.Mode, res.Resumed, res.Messages, res.Skipped, written)
	}
	diffMailboxes(t, "interrupted and carried on vs the source", want, f.describe(to))
	if _, err := os.Stat(filepath.Join(dst.Root, maildir.RestoreMarkerFile)); !os.IsNotExist(err) {
		t.Errorf("the marker is still there after the restore finished: %v", err)
	}
	// Once done, the account is the user's: a later restore merges.
	if res := f.restore(name, to, at.Add(time.Minute)); res.Mode != "merge" || res.Resumed || res.Messages != 0 {
		t.Errorf("a restore after the finished one: %+v", res)
	}
}
