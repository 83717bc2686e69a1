package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestAccountRootThroughALink: a mail user who replaces its Maildir (or
// its home, or its domain directory) with a link to another directory
// gets nothing read through it: those levels lie below the
// administrator's part of mail_store (/base of /base/%d/%n/Maildir). With
// mail_store_symlinks = "within_store" the administrator allows links and
// the account is read; links in the administrator's part are always
// followed.
func TestAccountRootThroughALink(t *testing.T) {
	for _, level := range []string{"Maildir", "user", "domain"} {
		t.Run(level, func(t *testing.T) {
			real := t.TempDir()
			elsewhere := filepath.Join(t.TempDir(), "elsewhere")
			maildir(t, elsewhere, "")
			writeAt(t, elsewhere, "cur/1.M1.h:2,S", "not this account's mail", t0)
			base := filepath.Join(real, "vmail")
			// The administrator's part itself is a link: followed.
			link := filepath.Join(t.TempDir(), "vmail")
			must(t, os.MkdirAll(base, 0o700))
			must(t, os.Symlink(base, link))
			target := map[string]string{"Maildir": elsewhere, "user": filepath.Dir(elsewhere), "domain": filepath.Dir(filepath.Dir(elsewhere))}[level]
			if level != "Maildir" {
				// The link's target must hold the levels below it.
				sub := map[string]string{"user": "Maildir", "domain": "alice/Maildir"}[level]
				must(t, os.MkdirAll(filepath.Join(target, filepath.Dir(sub)), 0o700))
				must(t, os.Rename(elsewhere, filepath.Join(target, sub)))
			}
			at := map[string]string{"Maildir": "example.com/alice/Maildir", "user": "example.com/alice", "domain": "example.com"}[level]
			must(t, os.MkdirAll(filepath.Dir(filepath.Join(base, at)), 0o700))
			must(t, os.Symlink(target, filepath.Join(base, at)))

			s := mustOpen(t, "maildir:"+link+"/%d/%n/Maildir")
			a, err := s.Account("alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Scan(a); !errors.Is(err, ErrRootLink) {
				t.Fatalf("Scan of an account reached through a link at %s: %v", level, err)
			}
			follow, err := OpenWith(s.ms, Options{Symlinks: SymlinksWithinStore})
			if err != nil {
				t.Fatal(err)
			}
			snap, err := follow.Scan(a)
			if err != nil {
				t.Fatalf("Scan with within_store: %v", err)
			}
			if n := len(snap.Folders[0].Messages); n != 1 {
				t.Fatalf("with within_store the account's INBOX has %d messages", n)
			}
		})
	}
}
