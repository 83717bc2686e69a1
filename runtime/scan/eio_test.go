package scan_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// faulty reopens the repository with its packs behind a fault-injecting
// backend.
func (f *fixture) faulty() *faultbackend.Backend {
	f.t.Helper()
	var fb *faultbackend.Backend
	f.repo, fb = mailrepo.Faulty(f.t, f.repo, 1, repo.Options{})
	return fb
}

// SmartScan given EIO on the packs (creating, writing or fsyncing one,
// at the first commit or a later one) stops with an error that says what
// failed on which pack; what it committed is durable and verifies clean;
// and the next scan, the disk healed, stores everything: nothing is lost.
func TestScanGivenEIOOnPacks(t *testing.T) {
	const accounts, each = 6, 4
	for _, rule := range []faultbackend.Rule{
		{Op: faultbackend.Create, Times: 1},
		{Op: faultbackend.Write, Times: 1},
		{Op: faultbackend.Sync, Times: 1},
		{Op: faultbackend.Sync, After: 2, Times: 1},
		{Op: faultbackend.Write, After: 2, Times: 1},
	} {
		t.Run(fmt.Sprintf("%s after %d", rule.Op, rule.After), func(t *testing.T) {
			f := newFixture(t)
			f.deliverMany(accounts, each)
			fb := f.faulty()
			fb.Fail(rule)
			opts := scan.Options{BatchItems: 1, Readers: 1} // a commit per account
			res, err := scan.Run(context.Background(), f.repo, f.store, opts)
			if fb.Injected() != 1 {
				t.Fatalf("%d faults injected, want 1 (the scan made %d fsyncs, %d writes)", fb.Injected(), fb.Calls(faultbackend.Sync), fb.Calls(faultbackend.Write))
			}
			if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), ".pack") || !strings.Contains(err.Error(), "input/output error") {
				t.Fatalf("scan given EIO: %v (result %+v); want an error naming the pack and the EIO", err, res)
			}
			t.Logf("the scan stopped with: %v", err)
			// What is committed is readable and whole.
			stored := 0
			for a := range accounts {
				account := fmt.Sprintf("user%02d@example.org", a)
				state, err := f.repo.Catalog.StateAt(account, time.Now().UnixNano())
				if errors.Is(err, catalog.ErrNotFound) {
					continue // not recorded before the fault
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(state.Items) != each {
					t.Errorf("%s was committed with %d items, want all %d or none", account, len(state.Items), each)
				}
				stored += len(f.items(account)) // reads every blob
			}
			if rule.After == 0 && stored != 0 {
				t.Errorf("%d items committed although the first commit's packs failed", stored)
			}
			// A commit writes and fsyncs whatever records are buffered
			// when it syncs, which may be more than one account's when the
			// scan runs ahead of its commits (and a commit that finds them
			// already durable needs no write): the third write or fsync
			// failing leaves at least the first two accounts committed,
			// each whole, and never all of them.
			if rule.After == 2 && (stored < 2*each || stored >= accounts*each) {
				t.Errorf("%d items committed before the third %s failed, want at least the first two accounts' %d and not all %d", stored, rule.Op, 2*each, accounts*each)
			}
			f.verify()

			fb.Heal()
			res, err = scan.Run(context.Background(), f.repo, f.store, opts)
			if err != nil || len(res.Errors) != 0 {
				t.Fatalf("scan once the disk is healed: %v, %q", err, res.Errors)
			}
			for a := range accounts {
				account := fmt.Sprintf("user%02d@example.org", a)
				items := f.items(account)
				if len(items) != each {
					t.Fatalf("%s has %d items after the healed scan, want %d: %q", account, len(items), each, items)
				}
				for _, it := range items {
					if !strings.HasSuffix(it, fmt.Sprintf("of account %d", a)) {
						t.Errorf("%s: item %q has another account's content", account, it)
					}
				}
			}
			f.verify()
		})
	}
}
