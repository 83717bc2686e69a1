// Package mailrepo is the fixture most engine tests start from: a
// generated mail store, the Maildir driver over it, and a repository
// beside it. It is imported by tests only.
package mailrepo

import (
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Template is the mail_location the fixture's store is opened with, for a
// corpus generated at root: one Maildir per account, below its domain.
func Template(root string) string { return "maildir:" + root + "/%d/%n/Maildir" }

// Fixture is a generated mail store, its driver and a repository.
type Fixture struct {
	// Dir is the test's directory; Root (Dir/vmail) holds the mail and
	// Backup (Dir/backup) the repository.
	Dir, Root, Backup string
	// Corpus says what was generated.
	Corpus corpus.Stats
	Store  *maildir.Store
	Repo   *repo.Repo
}

// New generates a corpus with copts in a new temporary directory, opens
// the Maildir driver over it and creates a repository with ropts (Create
// is implied); the repository is closed when the test ends.
func New(t testing.TB, copts corpus.Options, ropts repo.Options) *Fixture {
	t.Helper()
	dir := t.TempDir()
	f := &Fixture{Dir: dir, Root: filepath.Join(dir, "vmail"), Backup: filepath.Join(dir, "backup")}
	var err error
	if f.Corpus, err = corpus.Generate(f.Root, copts); err != nil {
		t.Fatal(err)
	}
	f.Store = Store(t, f.Root)
	ropts.Create = true
	if f.Repo, err = repo.Open(f.Backup, ropts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Repo.Close() })
	return f
}

// Store opens the Maildir driver over a corpus generated at root.
func Store(t testing.TB, root string) *maildir.Store {
	t.Helper()
	loc, err := location.Parse(Template(root))
	if err != nil {
		t.Fatal(err)
	}
	st, err := maildir.Open(loc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
