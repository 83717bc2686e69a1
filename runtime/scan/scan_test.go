package scan_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// fixture is a hand-made Maildir store (root/DOMAIN/USER/Maildir) and a
// repository.
type fixture struct {
	t     *testing.T
	root  string
	store *maildir.Store
	repo  *repo.Repo
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, root: filepath.Join(dir, "vmail")}
	ms, err := location.Parse("maildir:" + f.root + "/%d/%n/Maildir")
	if err != nil {
		t.Fatal(err)
	}
	if f.store, err = maildir.Open(ms); err != nil {
		t.Fatal(err)
	}
	if f.repo, err = repo.Open(filepath.Join(dir, "backup"), repo.Options{Create: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.repo.Close() })
	return f
}

// deliver writes a message into an account's INBOX cur/.
func (f *fixture) deliver(account, base, content string) {
	f.t.Helper()
	f.deliverTo(account, "", base, content)
}

// deliverTo writes a message into cur/ of a folder directory of an
// account ("" for INBOX, ".Name" for a Maildir++ folder) and returns its
// path.
func (f *fixture) deliverTo(account, dir, base, content string) string {
	f.t.Helper()
	folder := filepath.Join(f.maildir(account), dir)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(folder, sub), 0o700); err != nil {
			f.t.Fatal(err)
		}
	}
	path := filepath.Join(folder, "cur", base+":2,S")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// maildir is the root of an account's Maildir.
func (f *fixture) maildir(account string) string {
	user, domain, _ := strings.Cut(account, "@")
	return filepath.Join(f.root, domain, user, "Maildir")
}

// deliverMany gives each of n accounts (user00@example.org, ...) its own
// perAccount messages.
func (f *fixture) deliverMany(n, perAccount int) {
	f.t.Helper()
	for a := range n {
		for m := range perAccount {
			f.deliver(fmt.Sprintf("user%02d@example.org", a), fmt.Sprintf("%d.M%dP1.host", 1000+m, a), fmt.Sprintf("message %d of account %d", m, a))
		}
	}
}

// age makes every file and directory of the store an hour old, so that
// folder stamps are trusted (they are only for changes older than the
// racy margin).
func (f *fixture) age() {
	f.t.Helper()
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(f.root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// verify fails the test on any problem Verify finds.
func (f *fixture) verify() {
	f.t.Helper()
	rep, err := f.repo.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range rep.Problems {
		f.t.Errorf("verify: %s %s: %s", p.Kind, p.Where, p.Detail)
	}
}

// hookedStore is the Maildir store with a hook in front of Open.
type hookedStore struct {
	*maildir.Store
	open func(a maildir.Account, m *maildir.Message) error
}

func (s hookedStore) Open(a maildir.Account, f *maildir.Folder, m *maildir.Message) (io.ReadCloser, error) {
	if s.open != nil {
		if err := s.open(a, m); err != nil {
			return nil, err
		}
	}
	return s.Store.Open(a, f, m)
}

// One message that cannot be read does not stop its account from being
// backed up (issue 11, finding 16): the account is recorded with the
// rest, the message is reported as skipped and is not taken for deleted,
// and the content it shares with other accounts, read concurrently, gets
// its blob row whichever account stored it. The next scan reads it.
func TestUnreadableMessageIsSkipped(t *testing.T) {
	for round := range 10 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			f := newFixture(t)
			shared := strings.Repeat("a list message everybody got\r\n", 50)
			f.deliver("a@example.org", "1000.M1P1.host", shared)
			f.deliver("a@example.org", "1001.M1P1.host", "unreadable")
			f.deliver("b@example.org", "1002.M1P1.host", shared)
			f.deliver("c@example.org", "1003.M1P1.host", shared)
			broken := round%2 == 1 // every other round, it was backed up before
			if broken {
				if _, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			// The broken scan's listing would let the next scan skip the
			// folder by its stamp, were it recorded; the unreadable
			// message must be read again.
			f.age()
			broken = true
			st := hookedStore{Store: f.store, open: func(a maildir.Account, m *maildir.Message) error {
				if broken && m.Base == "1001.M1P1.host" {
					return errors.New("injected read error")
				}
				return nil
			}}
			res, err := scan.Run(context.Background(), f.repo, st, scan.Options{Readers: 1 + round%3, Deep: round%2 == 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 || res.Accounts != 3 {
				t.Fatalf("errors %q, %d accounts; want none, 3", res.Errors, res.Accounts)
			}
			if res.Skipped["unreadable"] != 1 || len(res.SkippedItems) != 1 || res.SkippedItems[0].Account != "a@example.org" ||
				res.SkippedItems[0].Path != "cur/1001.M1P1.host:2,S" || !strings.Contains(res.SkippedItems[0].Error, "injected read error") {
				t.Fatalf("skipped %v %+v; want a@'s cur/1001.M1P1.host:2,S, unreadable", res.Skipped, res.SkippedItems)
			}
			if res.Deleted != 0 {
				t.Fatalf("%d items recorded deleted; the unreadable one is still on disk", res.Deleted)
			}
			want := map[string]int{"a@example.org": 1, "b@example.org": 1, "c@example.org": 1}
			if round%2 == 1 {
				want["a@example.org"] = 2 // backed up before, and kept
			}
			for name, n := range want {
				state, err := f.repo.Catalog.StateAt(name, time.Now().UnixNano())
				if err != nil {
					t.Fatal(err)
				}
				if len(state.Items) != n {
					t.Fatalf("%s has %d items, want %d", name, len(state.Items), n)
				}
				for _, it := range state.Items {
					ref, err := f.repo.Catalog.Blob(it.Blob)
					if err != nil {
						t.Fatalf("%s: the blob of %s: %v", name, it.Base, err)
					}
					if _, err := f.repo.Packs.Read(ref); err != nil {
						t.Fatalf("%s: reading the blob of %s: %v", name, it.Base, err)
					}
				}
			}
			f.verify()

			broken = false
			res, err = scan.Run(context.Background(), f.repo, st, scan.Options{})
			if err != nil || len(res.Errors) != 0 || len(res.Skipped) != 0 {
				t.Fatalf("second scan: %v, %q, skipped %v", err, res.Errors, res.Skipped)
			}
			if wantNew := int64(1 - round%2); res.New != wantNew || res.NewBlobs != wantNew {
				t.Fatalf("second scan: %d new items, %d new blobs; want %d", res.New, res.NewBlobs, wantNew)
			}
			f.verify()
		})
	}
}

// slowScan delivers perAccount messages to each of n accounts and starts
// a SmartScan of them on a slow disk that hands the repository over as
// soon as another writer waits. It returns once the scan recorded its
// first account; done gets the scan's error, or one about its counts.
func (f *fixture) slowScan(n, perAccount int) (*scan.Progress, <-chan error) {
	f.deliverMany(n, perAccount)
	st := hookedStore{Store: f.store, open: func(maildir.Account, *maildir.Message) error {
		time.Sleep(2 * time.Millisecond) // a slow disk
		return nil
	}}
	prog := &scan.Progress{}
	done := make(chan error, 1)
	go func() {
		res, err := scan.Run(context.Background(), f.repo, st, scan.Options{Readers: 2, BatchTime: time.Nanosecond, Progress: prog})
		if err == nil && (res.Accounts != n || res.New != int64(n*perAccount)) {
			err = fmt.Errorf("scan recorded %d accounts, %d new items; want %d, %d", res.Accounts, res.New, n, n*perAccount)
		}
		done <- err
	}()
	for prog.AccountsDone.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	return prog, done
}

// A writer that waits for the repository gets it before a long SmartScan
// ends, and the scan cannot record anything while that writer holds it.
func TestLongScanHandsTheLockOver(t *testing.T) {
	f := newFixture(t)
	const accounts, perAccount = 12, 10
	prog, done := f.slowScan(accounts, perAccount)
	f.repo.WriteMu.Lock()
	held := prog.AccountsDone.Load()
	select {
	case err := <-done:
		t.Fatalf("the scan ended (%v) before the waiting writer got the lock", err)
	default:
	}
	if held >= accounts {
		t.Fatalf("the waiting writer got the lock after all %d accounts", held)
	}
	// Everything recorded so far is committed: another writer sees it.
	known, err := f.repo.Catalog.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(known)) != held {
		t.Errorf("catalog has %d accounts committed, the scan recorded %d", len(known), held)
	}
	time.Sleep(50 * time.Millisecond)
	if now := prog.AccountsDone.Load(); now != held {
		t.Errorf("the scan recorded accounts (%d -> %d) while another writer held the lock", held, now)
	}
	f.repo.WriteMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.verify()
}

// A cancelled SmartScan keeps what it committed, leaves a consistent
// repository, and the next scan records the rest.
func TestCancelledScanResumes(t *testing.T) {
	f := newFixture(t)
	const accounts, perAccount = 8, 10
	f.deliverMany(accounts, perAccount)
	ctx, cancel := context.WithCancel(context.Background())
	var opened atomic.Int64
	st := hookedStore{Store: f.store, open: func(maildir.Account, *maildir.Message) error {
		if opened.Add(1) == 3*perAccount {
			cancel()
		}
		return nil
	}}
	first, err := scan.Run(ctx, f.repo, st, scan.Options{Readers: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan returned %v", err)
	}
	f.verify()
	second, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{})
	if err != nil || len(second.Errors) != 0 {
		t.Fatalf("second scan: %v, %q", err, second.Errors)
	}
	if first.New+second.New != accounts*perAccount || second.Unchanged != first.New {
		t.Fatalf("first scan recorded %d items, second %d new and %d unchanged; want %d in all",
			first.New, second.New, second.Unchanged, accounts*perAccount)
	}
	f.verify()
}

// With accounts larger than the read-ahead bound, accounts are taken one
// at a time, and the result is the same.
func TestLargeAccountsOneAtATime(t *testing.T) {
	defer scan.SetAheadItems(1)()
	f := newFixture(t)
	f.deliverMany(5, 3)
	for round, want := range []int64{15, 0} {
		res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{})
		if err != nil || len(res.Errors) != 0 || res.Accounts != 5 || res.New != want || res.Items != 15 {
			t.Fatalf("scan %d: %v, errors %q, %d accounts, %d new of %d items; want 5 accounts, %d new of 15",
				round+1, err, res.Errors, res.Accounts, res.New, res.Items, want)
		}
	}
	f.verify()
}

// Folders whose stamp did not change are counted, not listed, and their
// items are not read from the catalog; a message copied out of one by a
// hardlink is read (its content is not stored again).
func TestSkippedFolders(t *testing.T) {
	f := newFixture(t)
	const account = "ann@example.org"
	var archived string
	for i := range 3 {
		f.deliver(account, fmt.Sprintf("%d.M1P1.host", 100+i), fmt.Sprintf("inbox message %d", i))
		archived = f.deliverTo(account, ".Archive", fmt.Sprintf("%d.M2P1.host", 200+i), fmt.Sprintf("archived message %d", i))
	}
	f.age() // stamps are trusted only for changes older than the racy margin
	scanOK := func(what string) *scan.Result {
		t.Helper()
		res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{})
		if err != nil || len(res.Errors) != 0 {
			t.Fatalf("%s: %v, %q", what, err, res.Errors)
		}
		return res
	}
	scanOK("first scan")
	if res := scanOK("unchanged scan"); res.FoldersSkipped != 2 || res.Items != 6 || res.Unchanged != 6 || res.BytesRead != 0 {
		t.Fatalf("unchanged scan: %d folders skipped, %d items, %d unchanged, %d bytes read; want 2, 6, 6, 0",
			res.FoldersSkipped, res.Items, res.Unchanged, res.BytesRead)
	}
	copied := filepath.Join(f.maildir(account), "cur", "300.M3P1.host:2,S")
	if err := os.Link(archived, copied); err != nil {
		t.Fatal(err)
	}
	res := scanOK("scan after a copy")
	if res.FoldersSkipped != 1 || res.Items != 7 || res.New != 1 || res.NewBlobs != 0 || res.Unchanged != 6 {
		t.Fatalf("scan after a copy: %d folders skipped, %d items, %d new, %d new blobs, %d unchanged; want 1, 7, 1, 0, 6",
			res.FoldersSkipped, res.Items, res.New, res.NewBlobs, res.Unchanged)
	}
	state, err := f.repo.Catalog.StateAt(account, time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string]catalog.BlobID{}
	for _, it := range state.Items {
		blobs[it.Folder+"/"+it.Base] = it.Blob
	}
	if got, want := blobs["INBOX/300.M3P1.host"], blobs["Archive/202.M2P1.host"]; got != want || got == (catalog.BlobID{}) {
		t.Fatalf("the copy's blob %x, the original's %x: want the same", got[:4], want[:4])
	}
	f.verify()
}

// An account that appears while a long SmartScan runs, and that another
// writer records while the scan lets it in, is not taken for deleted by
// the scan (whose list of accounts predates it).
func TestAccountRecordedDuringScanStays(t *testing.T) {
	f := newFixture(t)
	_, done := f.slowScan(12, 10)
	const late = "zz-late@example.org"
	f.deliver(late, "5000.M9P9.host", "a message for an account created during the scan")
	res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Only: []string{late}})
	if err != nil || res.New != 1 {
		t.Fatalf("scan of the new account: %v, %d new", err, res.New)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a, err := f.repo.Catalog.AccountByName(late)
	if err != nil {
		t.Fatal(err)
	}
	if a.DeletedAt != 0 {
		t.Fatalf("%s was marked deleted by the scan that started before it existed", late)
	}
	f.verify()
}
