package restore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/testkit"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// symlinkProbe is an account backed up with a folder that has messages,
// and a directory outside the store that a hostile mail user points a
// link at.
type symlinkProbe struct {
	f       *fixture
	account string
	acct    maildir.Account
	folder  maildir.Folder
	at      time.Time
	outside string
}

func newSymlinkProbe(t *testing.T) *symlinkProbe {
	t.Helper()
	f := newFixture(t, 43, 1, 60)
	p := &symlinkProbe{f: f, account: f.accounts()[0], outside: t.TempDir()}
	p.at, _ = f.smartScan()
	var err error
	if p.acct, err = f.store.Account(p.account); err != nil {
		t.Fatal(err)
	}
	snap, err := f.store.Scan(p.acct)
	if err != nil {
		t.Fatal(err)
	}
	for _, fo := range snap.Folders {
		if fo.Dir != "" && len(fo.Messages) > 0 {
			p.folder = fo
			break
		}
	}
	if p.folder.Dir == "" {
		t.Fatal("the corpus account has no sub-folder with messages")
	}
	if err := os.Chmod(p.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// path is a path below the probe folder's directory.
func (p *symlinkProbe) path(rel ...string) string {
	return filepath.Join(append([]string{p.acct.Root, p.folder.Dir}, rel...)...)
}

// replaceWithLink replaces a directory of the account by a link to dst.
func (p *symlinkProbe) replaceWithLink(t *testing.T, path, dst string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dst, path); err != nil {
		t.Fatal(err)
	}
}

// restoreRefused restores the account at the probe's instant into to and
// checks that the restore failed naming the link, and that nothing was
// written or changed below the outside directory.
func (p *symlinkProbe) restoreRefused(t *testing.T, to, link string) *restore.Result {
	t.Helper()
	before := testkit.Tree(t, p.outside)
	res, err := restore.Run(context.Background(), p.f.repo, p.f.store, restore.Options{Account: p.account, To: to, At: p.at.Add(time.Minute)})
	if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("restore through the link %s: %v; want a refusal naming it", link, err)
	}
	if after := testkit.Tree(t, p.outside); !slices.Equal(before, after) {
		t.Errorf("the restore wrote through the link into %s:\nbefore %v\nafter  %v", p.outside, before, after)
	}
	return res
}

// TestRestoreRefusesSymlinkedCur is the probe of issue 11: with the
// folder's cur/ replaced by a link to another directory, restoring the
// account as it was writes nothing into that directory and says why.
func TestRestoreRefusesSymlinkedCur(t *testing.T) {
	p := newSymlinkProbe(t)
	p.replaceWithLink(t, p.path("cur"), p.outside)
	p.restoreRefused(t, "", p.path("cur"))
}

// TestRestoreRefusesSymlinkedFolder: a folder directory replaced by a link
// to a complete Maildir folder elsewhere is not written through.
func TestRestoreRefusesSymlinkedFolder(t *testing.T) {
	p := newSymlinkProbe(t)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(p.outside, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.replaceWithLink(t, p.path(), p.outside)
	p.restoreRefused(t, "", p.path())
}

// TestRestoreRefusesSymlinkedTmp: a folder's tmp/ replaced by a link gets
// no staged file.
func TestRestoreRefusesSymlinkedTmp(t *testing.T) {
	p := newSymlinkProbe(t)
	// Something to write: the folder's messages are gone.
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(p.path(sub))
		for _, e := range ents {
			os.Remove(p.path(sub, e.Name()))
		}
	}
	p.replaceWithLink(t, p.path("tmp"), p.outside)
	p.restoreRefused(t, "", p.path("tmp"))
}

// TestRestoreReplacesPlantedLinks: in an empty account prepared by its
// user with links at the folder's dovecot-uidlist and dovecot-keywords,
// a full restore replaces the links with its files and leaves their
// targets alone; a link planted as dovecot-uidlist.lock is refused at
// once, naming it, instead of being waited on as a lock.
func TestRestoreReplacesPlantedLinks(t *testing.T) {
	p := newSymlinkProbe(t)
	const to = "planted@example.com"
	dst, err := p.f.store.Account(to)
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(p.outside, "secret")
	if err := os.WriteFile(secret, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dst.Root, p.folder.Dir)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{maildir.UIDListFile, maildir.KeywordsFile} {
		if err := os.Symlink(secret, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	before := testkit.Tree(t, p.outside)
	res, err := restore.Run(context.Background(), p.f.repo, p.f.store, restore.Options{Account: p.account, To: to, At: p.at.Add(time.Minute)})
	if err != nil || res.Mode != "full" {
		t.Fatalf("full restore into the prepared account: %v (%+v)", err, res)
	}
	for _, name := range []string{maildir.UIDListFile, maildir.KeywordsFile} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if name == maildir.KeywordsFile && len(p.folder.Keywords) == 0 {
			continue // no table to write: the link stays, unused
		}
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s after the restore: %v, %v; want a regular file", name, fi, err)
		}
	}
	if data, _ := os.ReadFile(secret); string(data) != "root's\n" || !slices.Equal(before, testkit.Tree(t, p.outside)) {
		t.Errorf("the link's target was changed: %q", data)
	}

	const locked = "locked@example.com"
	la, _ := p.f.store.Account(locked)
	ldir := filepath.Join(la.Root, p.folder.Dir)
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(ldir, sub), 0o700)
	}
	if err := os.Symlink(secret, filepath.Join(ldir, maildir.UIDListLockFile)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.restoreRefused(t, locked, filepath.Join(ldir, maildir.UIDListLockFile))
	if d := time.Since(start); d > maildir.LockStale/2 {
		t.Errorf("the planted lock link was waited on for %s", d)
	}
}

// TestRestoreRefusesSymlinkedRoot: the account's Maildir root itself
// replaced by a link (below the part of mail_store the administrator
// wrote) is not written through either.
func TestRestoreRefusesSymlinkedRoot(t *testing.T) {
	p := newSymlinkProbe(t)
	p.replaceWithLink(t, p.acct.Root, p.outside)
	p.restoreRefused(t, "", p.acct.Root)
}
