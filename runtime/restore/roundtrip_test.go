package restore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
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

// fixture is a generated store, its repository and a controllable clock.
type fixture struct {
	t     testing.TB
	root  string
	store *maildir.Store
	repo  *repo.Repo
	now   time.Time
}

func newFixture(t testing.TB, seed int64, accounts, messages int) *fixture {
	t.Helper()
	m := mailrepo.New(t, corpus.Options{Seed: seed, Accounts: accounts, Messages: messages, MaxSize: 256 << 10}, repo.Options{})
	return &fixture{t: t, root: m.Root, store: m.Store, repo: m.Repo, now: time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)}
}

// smartScan runs a SmartScan at the fixture's clock and advances it.
func (f *fixture) smartScan() (time.Time, *scan.Result) {
	f.t.Helper()
	at := f.now
	res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Now: func() time.Time { return at }})
	if err != nil {
		f.t.Fatalf("SmartScan at %s: %v", at, err)
	}
	f.now = f.now.Add(time.Hour)
	return at, res
}

func (f *fixture) restore(account, to string, at time.Time) *restore.Result {
	f.t.Helper()
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{Account: account, To: to, At: at})
	if err != nil {
		f.t.Fatalf("restore %s at %s into %s: %v", account, at, to, err)
	}
	return res
}

// mailbox is an account as an IMAP client would see it, in a form that
// compares with ==: folders with their UID state and keywords, messages
// with flags, keywords, UID, received date and content.
type mailbox struct {
	Subscriptions string
	Folders       []string
	Messages      []string
}

func (f *fixture) describe(name string) mailbox {
	f.t.Helper()
	a, err := f.store.Account(name)
	if err != nil {
		f.t.Fatal(err)
	}
	snap, err := f.store.Scan(a)
	if err != nil {
		f.t.Fatalf("scanning %s: %v", name, err)
	}
	mb := mailbox{Subscriptions: string(snap.SubscriptionsRaw)}
	for _, fo := range snap.Folders {
		mb.Folders = append(mb.Folders, fmt.Sprintf("%s uidvalidity=%d next=%d keywords=%v owner=%v",
			fo.Name, fo.UIDValidity, fo.NextUID, fo.Keywords, fo.Owner))
		for _, m := range fo.Messages {
			data, err := os.ReadFile(filepath.Join(a.Root, fo.Dir, m.Subdir, m.Name))
			if err != nil {
				f.t.Fatal(err)
			}
			kw := slices.Clone(m.Keywords)
			sort.Strings(kw)
			mb.Messages = append(mb.Messages, fmt.Sprintf("%s %s/%s flags=%s kw=%v uid=%d mtime=%d size=%d owner=%v sha=%x",
				fo.Name, m.Subdir, m.Base, m.Flags, kw, m.UID, m.MTime.UnixNano(), m.Size, m.Owner, sha256.Sum256(data)))
		}
	}
	sort.Strings(mb.Messages)
	return mb
}

func (f *fixture) accounts() []string {
	f.t.Helper()
	list, err := f.store.Accounts()
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	return names
}

func diffMailboxes(t *testing.T, what string, want, got mailbox) {
	t.Helper()
	if want.Subscriptions != got.Subscriptions {
		t.Errorf("%s: subscriptions differ:\nwant %q\ngot  %q", what, want.Subscriptions, got.Subscriptions)
	}
	if !slices.Equal(want.Folders, got.Folders) {
		t.Errorf("%s: folders differ:\nwant %v\ngot  %v", what, want.Folders, got.Folders)
	}
	if !slices.Equal(want.Messages, got.Messages) {
		missing, extra := setDiff(want.Messages, got.Messages), setDiff(got.Messages, want.Messages)
		t.Errorf("%s: %d messages missing, %d unexpected; first missing %v; first unexpected %v",
			what, len(missing), len(extra), first(missing), first(extra))
	}
}

func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return s[0]
}

// toggleKeyword adds or removes the first keyword of a folder's table on a
// few messages, by renaming them as Dovecot does.
func toggleKeyword(t *testing.T, root string, r *rand.Rand) {
	t.Helper()
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "cur" {
			kw := filepath.Join(filepath.Dir(filepath.Dir(p)), "dovecot-keywords")
			if _, err := os.Stat(kw); err == nil {
				files = append(files, p)
			}
		}
		return nil
	})
	sort.Strings(files)
	for i := 0; i < 5 && len(files) > 0; i++ {
		p := files[r.IntN(len(files))]
		base, info, _ := strings.Cut(filepath.Base(p), ":2,")
		if strings.Contains(info, "a") {
			info = strings.ReplaceAll(info, "a", "")
		} else {
			info += "a"
		}
		if err := os.Rename(p, filepath.Join(filepath.Dir(p), base+":2,"+info)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// TestRestoreAnyScannedInstant is the property test of the engine: random
// sequences of deliveries, flag and keyword changes, moves and deletions,
// with a SmartScan after each step; restoring any account at any scanned
// instant gives back exactly the mailbox as it was then.
func TestRestoreAnyScannedInstant(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			f := newFixture(t, seed, 3, 240)
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			type point struct {
				at    time.Time
				state map[string]mailbox
			}
			var points []point
			record := func() {
				at, _ := f.smartScan()
				p := point{at: at, state: map[string]mailbox{}}
				for _, name := range f.accounts() {
					p.state[name] = f.describe(name)
				}
				points = append(points, p)
			}
			record()
			for step := 0; step < 6; step++ {
				s := seed*100 + int64(step)
				var err error
				switch r.IntN(5) {
				case 0:
					_, err = corpus.Deliver(f.root, 1+r.IntN(20), s)
				case 1:
					_, err = corpus.RenameFlags(f.root, 0.1, s)
				case 2:
					_, err = corpus.Move(f.root, 0.05, s)
				case 3:
					_, err = corpus.Delete(f.root, 0.05, s)
				case 4:
					toggleKeyword(t, f.root, r)
				}
				if err != nil {
					t.Fatal(err)
				}
				record()
			}
			for i, p := range points {
				for name, want := range p.state {
					user, domain, _ := strings.Cut(name, "@")
					to := fmt.Sprintf("%s-r%d@%s", user, i, domain)
					f.restore(name, to, p.at.Add(30*time.Minute))
					diffMailboxes(t, fmt.Sprintf("%s at point %d restored into %s", name, i, to), want, f.describe(to))
				}
			}
			rep, err := f.repo.Verify(context.Background(), repo.VerifyOptions{Deep: true})
			if err != nil || len(rep.Problems) > 0 {
				t.Fatalf("verify: %v %v", err, rep.Problems)
			}
		})
	}
}

// TestRestoreIntoLiveAccount restores into an account that has mail: what
// is missing comes back, what is there is left alone, nothing doubles.
func TestRestoreIntoLiveAccount(t *testing.T) {
	f := newFixture(t, 7, 1, 120)
	name := f.accounts()[0]
	at, _ := f.smartScan()
	before := f.describe(name)
	if _, err := corpus.Delete(f.root, 0.2, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := corpus.RenameFlags(f.root, 0.2, 6); err != nil {
		t.Fatal(err)
	}
	changed := f.describe(name)
	res := f.restore(name, "", at.Add(time.Minute))
	if res.Mode != "merge" {
		t.Fatalf("mode %q, want merge", res.Mode)
	}
	after := f.describe(name)
	deleted := len(before.Messages) - len(changed.Messages)
	if res.Messages != deleted {
		t.Errorf("restored %d messages, want the %d deleted ones", res.Messages, deleted)
	}
	if len(after.Messages) != len(before.Messages) {
		t.Errorf("after the restore the account has %d messages, want %d", len(after.Messages), len(before.Messages))
	}
	// A second restore finds everything present.
	res = f.restore(name, "", at.Add(time.Minute))
	if res.Messages != 0 || res.Skipped != len(before.Messages) {
		t.Errorf("second restore wrote %d and skipped %d, want 0 and %d", res.Messages, res.Skipped, len(before.Messages))
	}
}

// TestUnchangedRescanReadsNothing checks the change detection: an unchanged
// store is not read at all, and renames (flag changes) are recognised
// without reading.
func TestUnchangedRescanReadsNothing(t *testing.T) {
	f := newFixture(t, 11, 2, 200)
	_, first := f.smartScan()
	if first.New != first.Items || first.BytesRead == 0 {
		t.Fatalf("first scan: %+v", first)
	}
	_, again := f.smartScan()
	if again.BytesRead != 0 || again.Unchanged != first.Items {
		t.Errorf("unchanged rescan read %d bytes, %d unchanged of %d", again.BytesRead, again.Unchanged, first.Items)
	}
	n, err := corpus.RenameFlags(f.root, 0.3, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, renamed := f.smartScan()
	if renamed.BytesRead != 0 || renamed.Changed != int64(n) {
		t.Errorf("rename storm of %d: read %d bytes, %d changed", n, renamed.BytesRead, renamed.Changed)
	}
	m, err := corpus.Move(f.root, 0.1, 4)
	if err != nil {
		t.Fatal(err)
	}
	_, moved := f.smartScan()
	if moved.BytesRead != 0 || moved.Moved != int64(m) || moved.Deleted != int64(m) {
		t.Errorf("move of %d: read %d bytes, %d moved, %d deleted", m, moved.BytesRead, moved.Moved, moved.Deleted)
	}
}

// TestDeepScanReportsSilentChanges: a message whose content changed while
// its name, size, mtime and inode stayed is only seen by a deep scan,
// which reports it and backs the new content up.
func TestDeepScanReportsSilentChanges(t *testing.T) {
	f := newFixture(t, 13, 1, 50)
	f.smartScan()
	var victim string
	filepath.WalkDir(f.root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && victim == "" && filepath.Base(filepath.Dir(p)) == "cur" {
			victim = p
		}
		return nil
	})
	st, _ := os.Stat(victim)
	fd, err := os.OpenFile(victim, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd.WriteAt([]byte("X"), 10) // same size, same inode
	fd.Close()
	os.Chtimes(victim, st.ModTime(), st.ModTime())
	_, quick := f.smartScan()
	if quick.BytesRead != 0 || len(quick.Mismatches) != 0 {
		t.Fatalf("a quick scan read %d bytes and reported %v", quick.BytesRead, quick.Mismatches)
	}
	at := f.now
	res, err := scan.Run(context.Background(), f.repo, f.store, scan.Options{Deep: true, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 1 || !strings.HasPrefix(filepath.Base(victim), res.Mismatches[0].Name) {
		t.Fatalf("deep scan mismatches: %+v (victim %s)", res.Mismatches, victim)
	}
	if res.BytesRead == 0 || res.Changed != 1 {
		t.Errorf("deep scan: %+v", res)
	}
}

// TestPostCommand runs restore.post_command with %u replaced and reports
// its outcome; a failing command fails the restore after writing it.
func TestPostCommand(t *testing.T) {
	f := newFixture(t, 17, 1, 20)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	out := filepath.Join(t.TempDir(), "ran")
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{
		Account: name, To: "other@example.com", At: at.Add(time.Minute),
		PostCommand: []string{"sh", "-c", "echo \"$0\" > " + out, "%u"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); strings.TrimSpace(string(got)) != "other@example.com" || res.PostCommand.Outcome() != "ok" {
		t.Errorf("post_command ran with %q, outcome %q", got, res.PostCommand.Outcome())
	}
	res, err = restore.Run(context.Background(), f.repo, f.store, restore.Options{
		Account: name, To: "third@example.com", At: at.Add(time.Minute),
		PostCommand: []string{"sh", "-c", "echo resync failed >&2; exit 3"},
	})
	if err == nil || res.PostCommand.ExitCode != 3 || !strings.Contains(err.Error(), "resync failed") || res.Messages == 0 {
		t.Errorf("failing post_command: %v %+v", err, res)
	}
}

// TestPostCommandUser runs restore.post_command as
// restore.post_command_user, with that user's groups, and refuses an
// unknown user after writing the restore.
func TestPostCommandUser(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 23, 1, 10)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{
		Account: name, To: "other@example.com", At: at.Add(time.Minute),
		PostCommand: []string{"sh", "-c", `echo "$(id -u) $(id -g) $(id -G) $HOME $USER"`}, PostCommandUser: "nobody",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s %s %s %s nobody", nobody.Uid, nobody.Gid, nobody.Gid, nobody.HomeDir)
	if got := strings.TrimSpace(res.PostCommand.Output); got != want {
		t.Errorf("post_command as nobody printed %q, want %q", got, want)
	}
	res, err = restore.Run(context.Background(), f.repo, f.store, restore.Options{
		Account: name, To: "third@example.com", At: at.Add(time.Minute),
		PostCommand: []string{"true"}, PostCommandUser: "no-such-user-mk",
	})
	if err == nil || res == nil || res.Messages == 0 || !strings.Contains(err.Error(), `restore.post_command_user "no-such-user-mk"`) {
		t.Errorf("post_command as an unknown user: %v %+v", err, res)
	}
}

// TestDryRunWritesNothing lists what a restore would do without writing.
func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(t, 19, 1, 30)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	res, err := restore.Run(context.Background(), f.repo, f.store, restore.Options{Account: name, To: "dry@example.com", At: at.Add(time.Minute), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 30 || !res.DryRun {
		t.Errorf("dry run: %+v", res)
	}
	a, _ := f.store.Account("dry@example.com")
	if _, err := os.Stat(a.Root); !os.IsNotExist(err) {
		t.Errorf("a dry run created %s", a.Root)
	}
}

// touch sets the mtime of every directory and control file of the store
// to at.
func touch(t *testing.T, root string, at time.Time) {
	t.Helper()
	old := at
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), "dovecot-") {
			return os.Chtimes(p, old, old)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnchangedFoldersAreNotListed: a folder whose new/, cur/ and control
// files did not change since its last listing is skipped altogether; a
// change in it (a rename) is still seen; a folder changed too recently to
// trust its timestamps is always listed.
func TestUnchangedFoldersAreNotListed(t *testing.T) {
	f := newFixture(t, 29, 2, 300)
	// Folders changed just now are too recent to skip: a change in the
	// same timestamp tick would not move their mtimes.
	touch(t, f.root, time.Now())
	_, first := f.smartScan()
	if first.FoldersSkipped != 0 {
		t.Fatalf("the first scan skipped %d folders", first.FoldersSkipped)
	}
	_, recent := f.smartScan()
	if recent.FoldersSkipped != 0 || recent.Unchanged != first.Items {
		t.Fatalf("recent folders were skipped: %+v", recent)
	}
	touch(t, f.root, time.Now().Add(-time.Hour))
	_, listed := f.smartScan() // new stamps: listed, and recorded
	if listed.FoldersSkipped != 0 {
		t.Fatalf("folders whose stamps changed were skipped: %+v", listed)
	}
	_, skipped := f.smartScan()
	if skipped.FoldersSkipped == 0 || skipped.Unchanged != first.Items || skipped.Items != first.Items {
		t.Fatalf("aged, unchanged folders were listed: %+v (previous %+v)", skipped, listed)
	}
	n, err := corpus.RenameFlags(f.root, 0.1, 8)
	if err != nil {
		t.Fatal(err)
	}
	_, renamed := f.smartScan()
	if renamed.Changed != int64(n) || renamed.Items != first.Items {
		t.Errorf("a rename in a skipped folder was missed: %d renames, %+v", n, renamed)
	}
	rep, err := f.repo.Verify(context.Background(), repo.VerifyOptions{})
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
}

// TestLastDeletionOfARecreatedAccount: an account whose Maildir is deleted
// and then recreated (as a mail server does at the next delivery) shows
// when it was deleted, and restoring an instant before that brings its old
// mail back into the new one.
func TestLastDeletionOfARecreatedAccount(t *testing.T) {
	f := newFixture(t, 37, 1, 40)
	at, _ := f.smartScan()
	name := f.accounts()[0]
	a, _ := f.store.Account(name)
	if err := os.RemoveAll(a.Root); err != nil {
		t.Fatal(err)
	}
	deletedScan, _ := f.smartScan()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(a.Root, sub), 0o700)
	}
	os.WriteFile(filepath.Join(a.Root, "new", "1800000000.M1P1.new"), []byte("Subject: new\n\nnew mail\n"), 0o600)
	f.smartScan()
	stats, err := f.repo.Catalog.Stats(name)
	if err != nil || len(stats) != 1 {
		t.Fatal(err)
	}
	if stats[0].DeletedAt != 0 || stats[0].LastDeletion != deletedScan.UnixNano() || stats[0].Items != 1 {
		t.Fatalf("recreated account: %+v (deleted at %s)", stats[0], deletedScan)
	}
	res := f.restore(name, "", at.Add(time.Minute))
	if res.Mode != "merge" || res.Messages != 40 {
		t.Errorf("restoring before the deletion into the recreated account: %+v", res)
	}
}
