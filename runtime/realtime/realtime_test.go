package realtime

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// rig is a store followed by a realtime scanner.
type rig struct {
	t     *testing.T
	root  string
	store *maildir.Store
	repo  *repo.Repo
	s     *Scanner

	mu      sync.Mutex
	batches int
	// restoring is what the scanner's Busy reports for every account.
	restoring atomic.Bool
	// lastSeen describes what the last condition checked saw, for the
	// failure message of eventually.
	lastSeen string
}

func newRig(t *testing.T, accounts, messages int) *rig {
	t.Helper()
	m := mailrepo.New(t, corpus.Options{Seed: 31, Accounts: accounts, Messages: messages, MaxSize: 64 << 10}, repo.Options{Durable: true})
	g := &rig{t: t, root: m.Root, store: m.Store, repo: m.Repo}
	var err error
	g.s, err = Start(context.Background(), g.repo, g.store, Options{
		Settle: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnRecord: func(Batch) { g.mu.Lock(); g.batches++; g.mu.Unlock() },
		Busy:     func(string) bool { return g.restoring.Load() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.s.Stop)
	return g
}

// eventually polls cond for up to thirty seconds (generous: a loaded CI machine must not fail it).
func (g *rig) eventually(what string, cond func() bool) {
	g.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	g.t.Fatalf("realtime scanner: %s did not happen within 30s (last seen: %s); status %+v", what, g.lastSeen, g.s.Status())
}

// firstAccount returns the store's first account by name.
func (g *rig) firstAccount() maildir.Account {
	g.t.Helper()
	accounts, err := g.store.Accounts()
	if err != nil || len(accounts) == 0 {
		g.t.Fatalf("accounts: %v %v", accounts, err)
	}
	return accounts[0]
}

// items counts the current items of every account in the catalog.
func (g *rig) items() int64 {
	stats, err := g.repo.Catalog.Stats("")
	if err != nil {
		return -1
	}
	var n int64
	for _, s := range stats {
		if s.DeletedAt == 0 {
			n += s.Items
		}
	}
	return n
}

func (g *rig) account(name string) catalog.AccountStats {
	stats, err := g.repo.Catalog.Stats(name)
	if err != nil || len(stats) != 1 {
		return catalog.AccountStats{}
	}
	return stats[0]
}

func TestRealtimeFollowsChanges(t *testing.T) {
	g := newRig(t, 2, 80)
	g.eventually("the first pass", func() bool { return g.items() == 80 })

	if _, err := corpus.Deliver(g.root, 5, 1); err != nil {
		t.Fatal(err)
	}
	g.eventually("recording 5 deliveries", func() bool { return g.items() == 85 })

	n, err := corpus.RenameFlags(g.root, 0.2, 2)
	if err != nil {
		t.Fatal(err)
	}
	var versions int64
	var statsErr error
	g.eventually(fmt.Sprintf("recording %d flag changes (item versions: want %d)", n, 85+n), func() bool {
		versions = 0
		var stats []catalog.AccountStats
		stats, statsErr = g.repo.Catalog.Stats("")
		for _, s := range stats {
			versions += s.Versions
		}
		g.lastSeen = fmt.Sprintf("%d versions, stats error %v", versions, statsErr)
		// At least one new version per renamed message (a delivery
		// recorded before Dovecot-style UID bookkeeping settled may add
		// one more), and the catalog's current names are the store's.
		return versions >= int64(85+n) && g.namesMatch()
	})

	if _, err := corpus.Delete(g.root, 0.1, 3); err != nil {
		t.Fatal(err)
	}
	g.eventually("recording deletions", func() bool { return g.items() < 85 })

	// A new account appears (with a new domain), then an account goes.
	newRoot := filepath.Join(g.root, "example.net", "zoe", "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(newRoot, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(newRoot, "new", "1700000000.M1P1.test"), []byte("Subject: hi\n\nhello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.eventually("recording a new account", func() bool { return g.account("zoe@example.net").Items == 1 })

	accounts, _ := g.store.Accounts()
	victim := accounts[0]
	if err := os.RemoveAll(victim.Root); err != nil {
		t.Fatal(err)
	}
	g.eventually("recording a deleted account", func() bool { return g.account(victim.Name).DeletedAt != 0 })

	rep, err := g.repo.Verify(context.Background(), repo.VerifyOptions{})
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if st := g.s.Status(); st.State != "running" || st.LastChange == nil || st.Watches == 0 {
		t.Errorf("status: %+v", st)
	}
}

// TestRealtimeRecoversFromLostEvents: changes made while events are lost
// are all recorded by the rescan that follows, and status says so.
func TestRealtimeRecoversFromLostEvents(t *testing.T) {
	g := newRig(t, 2, 60)
	g.eventually("the first pass", func() bool { return g.items() == 60 })
	// Stop watching (as if the kernel dropped the events), change the
	// store, then signal the overflow the kernel would have reported.
	g.s.w.Close()
	if _, err := corpus.Deliver(g.root, 7, 9); err != nil {
		t.Fatal(err)
	}
	g.s.overflow(fsnotify.ErrEventOverflow)
	g.eventually("recording what changed while events were lost", func() bool { return g.items() == 67 })
	st := g.s.Status()
	if st.Overflows != 1 || st.LastRescan == "" {
		t.Errorf("status after an overflow: %+v", st)
	}
}

// namesMatch reports whether the catalog's current message file names are
// exactly those in the store.
func (g *rig) namesMatch() bool {
	accounts, err := g.store.Accounts()
	if err != nil {
		return false
	}
	for _, a := range accounts {
		snap, err := g.store.Scan(a)
		if err != nil {
			return false
		}
		st, err := g.repo.Catalog.StateAt(a.Name, time.Now().UnixNano())
		if err != nil {
			return false
		}
		want := map[string]bool{}
		for _, f := range snap.Folders {
			for _, m := range f.Messages {
				want[f.Name+"/"+m.Name] = true
			}
		}
		if len(st.Items) != len(want) {
			return false
		}
		for _, it := range st.Items {
			if !want[it.Folder+"/"+it.Name] {
				return false
			}
		}
	}
	return true
}

// TestRealtimeRecordsRootRemovalAlone: when the last step of an account's
// removal, the rmdir of its emptied root, is the only event left and the
// directory above the root is not watched (a home created while the
// scanner was starting), the account is still recorded deleted.
func TestRealtimeRecordsRootRemovalAlone(t *testing.T) {
	g := newRig(t, 2, 40)
	g.eventually("the first pass", func() bool { return g.items() == 40 })
	victim := g.firstAccount()
	home := filepath.Dir(victim.Root)
	g.s.mu.Lock()
	_, watched := g.s.dirOf[home]
	delete(g.s.dirOf, home)
	g.s.mu.Unlock()
	if !watched {
		t.Fatalf("the rig does not watch %s; the test proves nothing", home)
	}
	if err := g.s.w.Remove(home); err != nil {
		t.Fatal(err)
	}

	// Empty the root, and wait until the empty account is recorded.
	ents, err := os.ReadDir(victim.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(victim.Root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	g.eventually("recording the emptied account", func() bool {
		st := g.account(victim.Name)
		g.lastSeen = fmt.Sprintf("%+v", st)
		return st.Items == 0 && st.DeletedAt == 0 && g.s.Status().Pending == 0
	})

	if err := os.Remove(victim.Root); err != nil {
		t.Fatal(err)
	}
	g.eventually("recording the account deleted", func() bool {
		st := g.account(victim.Name)
		g.lastSeen = fmt.Sprintf("%+v", st)
		return st.DeletedAt != 0
	})
}

// TestRealtimeRetriesFailedAccounts: an account that a batch could not
// record is rescanned later by itself, without another event, and status
// counts the failures.
func TestRealtimeRetriesFailedAccounts(t *testing.T) {
	g := newRig(t, 1, 10)
	g.eventually("the first pass", func() bool { return g.items() == 10 })
	a := g.firstAccount()
	// A Maildir root that cannot be read (here, a file where the
	// directory was) fails the account's listing; the account is not
	// taken for deleted. (An unreadable file or folder below the root no
	// longer fails it: it is skipped and reported.)
	if err := os.Rename(a.Root, a.Root+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.Root, []byte("not a Maildir"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.eventually("the failure counted", func() bool { return g.s.Status().Errors >= 1 })
	// Once the events are consumed, the account is listed again by itself.
	g.eventually("the events consumed", func() bool { return g.s.Status().Pending == 0 })
	errs := g.s.Status().Errors
	g.eventually("the account rescanned without an event", func() bool { return g.s.Status().Errors > errs })
	if st := g.s.Status(); st.LastErr == "" || !strings.Contains(st.LastErr, a.Name) {
		t.Errorf("status does not name the failed account: %+v", st)
	}
	if n := g.items(); n != 10 {
		t.Errorf("%d items current, want the 10 of the failed account kept", n)
	}
}

// TestRealtimeWaitsForARestore: changes to an account a restore is
// writing into are not recorded while it runs (its half-written state
// would be), and are recorded once it is over without any further event.
func TestRealtimeWaitsForARestore(t *testing.T) {
	g := newRig(t, 1, 10)
	g.eventually("the first pass", func() bool { return g.items() == 10 })
	g.restoring.Store(true)
	g.mu.Lock()
	before := g.batches
	g.mu.Unlock()
	if _, err := corpus.Deliver(g.root, 3, 4); err != nil {
		t.Fatal(err)
	}
	g.eventually("a batch during the restore", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.batches > before
	})
	if n := g.items(); n != 10 {
		t.Fatalf("%d items recorded during the restore, want the 10 of before", n)
	}
	g.restoring.Store(false)
	g.eventually("the deliveries recorded after the restore", func() bool { return g.items() == 13 })
}
