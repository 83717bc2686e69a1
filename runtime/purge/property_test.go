package purge

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// storeFixture is a generated mail store backed up by daily SmartScans on
// a controllable clock, from t0 on.
type storeFixture struct {
	t        *testing.T
	root     string // the mail store
	backup   string // the repository
	store    *maildir.Store
	accounts []string // as generated, sorted
	scans    []time.Time
	deleted  map[string]time.Time // account -> deleted_at
}

// buildStoreFixture generates a store and runs days+1 daily SmartScans
// (day 0 first), with random mutations before each later one, each in its
// own repository session (so its contents go to their own pack). Account 1
// is deleted from the store on day 2, account 2 excluded by the accounts
// block from day 4 on, account 4 deleted on day 6.
func buildStoreFixture(t *testing.T, seed int64, days int) *storeFixture {
	t.Helper()
	dir := t.TempDir()
	f := &storeFixture{t: t, root: filepath.Join(dir, "vmail"), backup: filepath.Join(dir, "backup"), deleted: map[string]time.Time{}}
	if _, err := corpus.Generate(f.root, corpus.Options{Seed: seed, Accounts: 5, Messages: 400, MaxSize: 32 << 10, FoldersPerAccount: 3}); err != nil {
		t.Fatal(err)
	}
	f.store = mailrepo.Store(t, f.root)
	list, err := f.store.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		f.accounts = append(f.accounts, a.Name)
	}
	slices.Sort(f.accounts)
	r := rand.New(rand.NewPCG(uint64(seed), 5))
	var exclude []string
	for day := 0; day <= days; day++ {
		at := t0.Add(time.Duration(day) * Day)
		if day > 0 {
			s := seed*1000 + int64(day)
			steps := []func() error{
				func() error { _, err := corpus.Deliver(f.root, 10+r.IntN(30), s); return err },
				func() error { _, err := corpus.RenameFlags(f.root, 0.05, s); return err },
				func() error { _, err := corpus.Move(f.root, 0.03, s); return err },
				func() error { _, err := corpus.Delete(f.root, 0.08, s); return err },
			}
			for _, i := range r.Perm(len(steps))[:2+r.IntN(3)] {
				if err := steps[i](); err != nil {
					t.Fatal(err)
				}
			}
		}
		switch day {
		case 2, 6:
			name := f.accounts[map[int]int{2: 1, 6: 4}[day]]
			a, _ := f.store.Account(name)
			if err := os.RemoveAll(filepath.Dir(a.Root)); err != nil {
				t.Fatal(err)
			}
			f.deleted[name] = at
		case 4:
			exclude = []string{f.accounts[2]}
			f.deleted[f.accounts[2]] = at
		}
		r, err := repo.Open(f.backup, repo.Options{Create: true, Purpose: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scan.Run(context.Background(), r, f.store, scan.Options{Now: func() time.Time { return at }, Exclude: exclude}); err != nil {
			t.Fatalf("SmartScan of day %d: %v", day, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		f.scans = append(f.scans, at)
	}
	return f
}

// openCopy copies the fixture's repository and opens the copy.
func (f *storeFixture) openCopy(t *testing.T) *repo.Repo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backup")
	copyTree(t, f.backup, dir)
	r, err := repo.Open(dir, repo.Options{Purpose: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// describeMailbox is an account of the store as an IMAP client sees it.
func (f *storeFixture) describeMailbox(name string) string {
	f.t.Helper()
	a, err := f.store.Account(name)
	if err != nil {
		f.t.Fatal(err)
	}
	snap, err := f.store.Scan(a)
	if err != nil {
		f.t.Fatalf("scanning %s: %v", name, err)
	}
	lines := []string{fmt.Sprintf("subscriptions %q", snap.SubscriptionsRaw)}
	for _, fo := range snap.Folders {
		lines = append(lines, fmt.Sprintf("folder %s uidvalidity=%d next=%d keywords=%v", fo.Name, fo.UIDValidity, fo.NextUID, fo.Keywords))
		for _, m := range fo.Messages {
			data, err := os.ReadFile(filepath.Join(a.Root, fo.Dir, m.Subdir, m.Name))
			if err != nil {
				f.t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("msg %s %s/%s flags=%s kw=%v uid=%d mtime=%d sha=%x",
				fo.Name, m.Subdir, m.Name, m.Flags, m.Keywords, m.UID, m.MTime.UnixNano(), sha256.Sum256(data)))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// restoreMailbox restores an account at an instant into a new account of
// the store and describes it.
func (f *storeFixture) restoreMailbox(r *repo.Repo, name, to string, at time.Time) string {
	f.t.Helper()
	if _, err := restore.Run(context.Background(), r, f.store, restore.Options{Account: name, To: to, At: at}); err != nil {
		f.t.Fatalf("restore %s at %s: %v", name, at, err)
	}
	return f.describeMailbox(to)
}

// TestRestoreExactInsideWindow is the property test of purge: on random
// histories (deliveries, flag changes, moves, deletions, a deleted account,
// an excluded one, one on legal hold), every account restores after the
// purge exactly as before it, at every instant inside the retention window:
// the scan instants and just before them, the window's first instant, and
// random ones; for a deleted account still kept, the item retention before
// its deletion. Accounts past the account retention are gone. Instants
// before the window may differ, and do.
func TestRestoreExactInsideWindow(t *testing.T) {
	configs := []struct{ items, accounts int }{{4, 5}, {2, 0}, {0, 3}}
	for _, seed := range []int64{1, 2} {
		f := buildStoreFixture(t, seed, 9)
		now := f.scans[len(f.scans)-1].Add(time.Hour)
		for _, cfg := range configs {
			t.Run(fmt.Sprintf("seed%d/items%d/accounts%d", seed, cfg.items, cfg.accounts), func(t *testing.T) {
				f.t = t
				r := f.openCopy(t)
				held := f.accounts[3]
				rnd := rand.New(rand.NewPCG(uint64(seed), uint64(cfg.items*10+cfg.accounts)))
				// The instants each account must keep, and those before the window.
				windows := map[string][]time.Time{}
				var early []time.Time
				for _, name := range f.accounts {
					a, err := r.Catalog.AccountByName(name)
					if err != nil {
						t.Fatal(err)
					}
					end := now
					if a.DeletedAt != 0 {
						end = time.Unix(0, a.DeletedAt)
					}
					start := time.Unix(0, a.FirstSeen)
					if cfg.items > 0 && name != held {
						start = end.Add(-time.Duration(cfg.items) * Day)
					}
					if cfg.accounts > 0 && name != held && a.DeletedAt != 0 && end.Before(now.Add(-time.Duration(cfg.accounts)*Day)) {
						continue // purged whole
					}
					ins := []time.Time{start, start.Add(1), end.Add(-1)}
					for _, s := range f.scans {
						if !s.Before(start) && s.Before(end) {
							ins = append(ins, s, s.Add(-1), s.Add(time.Minute))
						}
					}
					for range 5 {
						ins = append(ins, start.Add(time.Duration(rnd.Int64N(int64(end.Sub(start))))))
					}
					windows[name] = ins
				}
				for _, s := range f.scans {
					early = append(early, s.Add(time.Minute))
				}
				before := map[string]string{}
				st := newStater(t, r)
				for name, ins := range windows {
					for _, at := range ins {
						before[fmt.Sprint(name, at.UnixNano())] = st.describe(name, at.UnixNano())
					}
				}
				var earlyBefore []string
				for _, at := range early {
					earlyBefore = append(earlyBefore, st.describe(f.accounts[0], at.UnixNano()))
				}
				// Real restores, before the purge, of two instants per kept account.
				restored := map[string]string{}
				for i, name := range f.accounts {
					ins, ok := windows[name]
					if !ok {
						continue
					}
					for j, at := range []time.Time{ins[1], ins[len(ins)-1]} {
						user, domain, _ := strings.Cut(name, "@")
						to := fmt.Sprintf("%s-b%d-%d-%d-%d@%s", user, seed, cfg.items, cfg.accounts, j, domain)
						restored[fmt.Sprint(i, j)] = f.restoreMailbox(r, name, to, at)
					}
				}

				res, err := Run(context.Background(), r, Options{
					Now: now, ItemRetentionDays: cfg.items, AccountRetentionDays: cfg.accounts,
					LegalHold: []string{held}, Exclude: []string{f.accounts[2]}, RepackThreshold: 0.2,
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("removed %d items, %d versions, %d accounts, %d blobs; %d packs deleted, %d rewritten, %d bytes freed",
					res.Items, res.Versions, res.Accounts, res.BlobsFreed, res.PacksDeleted, res.PacksRewritten, res.BytesFreed)
				if cfg.items > 0 && (res.Items == 0 || res.Versions == 0) {
					t.Errorf("nothing purged: %+v", res)
				}
				if cfg.accounts > 0 && res.Accounts == 0 {
					t.Errorf("no account purged: %+v", res.RemovedAccounts)
				}
				verifyClean(t, r, true)

				st = newStater(t, r)
				for name, ins := range windows {
					for _, at := range ins {
						if got, want := st.describe(name, at.UnixNano()), before[fmt.Sprint(name, at.UnixNano())]; got != want {
							t.Errorf("%s at %s changed:\nbefore:\n%s\nafter:\n%s", name, at, want, got)
						}
					}
				}
				for _, name := range f.accounts {
					if _, ok := windows[name]; !ok {
						if got := describeState(t, r, name, t0.UnixNano()); got != "" {
							t.Errorf("%s, past the account retention, is still there", name)
						}
					}
				}
				for i, name := range f.accounts {
					ins, ok := windows[name]
					if !ok {
						continue
					}
					for j, at := range []time.Time{ins[1], ins[len(ins)-1]} {
						user, domain, _ := strings.Cut(name, "@")
						to := fmt.Sprintf("%s-a%d-%d-%d-%d@%s", user, seed, cfg.items, cfg.accounts, j, domain)
						if got := f.restoreMailbox(r, name, to, at); got != restored[fmt.Sprint(i, j)] {
							t.Errorf("restore of %s at %s differs after the purge", name, at)
						}
					}
				}
				if cfg.items > 0 {
					differ := 0
					for i, at := range early {
						if st.describe(f.accounts[0], at.UnixNano()) != earlyBefore[i] {
							differ++
						}
					}
					if differ == 0 {
						t.Error("no instant before the window changed: the purge dropped no history")
					}
				}
			})
		}
	}
}

// A restore at an instant whose history the purge trimmed is refused with
// the instant from which restores are whole again; that instant itself
// restores, and so does any instant of an account the purge left alone.
func TestRestoreBeforeTheWindowIsRefused(t *testing.T) {
	f := buildStoreFixture(t, 3, 9)
	f.t = t
	r := f.openCopy(t)
	now := f.scans[len(f.scans)-1].Add(time.Hour)
	const days = 3
	res, err := Run(context.Background(), r, Options{Now: now, ItemRetentionDays: days})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items == 0 && res.Versions == 0 {
		t.Fatal("the purge removed nothing: the fixture cannot show a trimmed history")
	}
	trimmed := 0
	for _, name := range f.accounts {
		a, err := r.Catalog.AccountByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if a.ExactFrom == 0 {
			if _, err := restore.Run(context.Background(), r, f.store, restore.Options{Account: name, To: "untrimmed-" + name, At: time.Unix(0, a.FirstSeen), DryRun: true}); err != nil {
				t.Errorf("%s: nothing purged, but a restore at its first backup failed: %v", name, err)
			}
			continue
		}
		trimmed++
		end := now
		if a.DeletedAt != 0 {
			end = time.Unix(0, a.DeletedAt)
		}
		if want := end.Add(-days * Day).UnixNano(); a.ExactFrom != want {
			t.Errorf("%s: exact from %d, want the cutoff %d", name, a.ExactFrom, want)
		}
		from := time.Unix(0, a.ExactFrom)
		_, err = restore.Run(context.Background(), r, f.store, restore.Options{Account: name, To: "early-" + name, At: from.Add(-time.Nanosecond)})
		if !errors.Is(err, restore.ErrPurged) || !strings.Contains(err.Error(), from.UTC().Format(time.RFC3339Nano)) {
			t.Errorf("%s: restore just before the window: %v; want ErrPurged naming %s", name, err, from.UTC().Format(time.RFC3339Nano))
		}
		if _, err := restore.Run(context.Background(), r, f.store, restore.Options{Account: name, To: "window-" + name, At: from, DryRun: true}); err != nil {
			t.Errorf("%s: restore at the window's first instant: %v", name, err)
		}
	}
	if trimmed == 0 {
		t.Fatal("no account had its history trimmed")
	}
}
