package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixedDir: the Writer follows links only in the directories of the
// mail_store path before its first variable.
func TestFixedDir(t *testing.T) {
	for path, want := range map[string]string{
		"/var/vmail/%d/%n/Maildir": "/var/vmail",
		"/var/vmail/%u":            "/var/vmail",
		"/srv/mail-%d/%n":          "/srv",
		"/%u/Maildir":              "/",
		"/var//vmail/%{domain}/%n": "/var/vmail",
		"/var/control":             "/var",
	} {
		tm, err := parseTemplate("test", path)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.fixedDir(); got != want {
			t.Errorf("fixedDir(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestWriterFollowsOnlyTheAdministratorsLinks: a link in the part of the
// path the administrator wrote is followed; one at a level a variable
// names (the domain, the user) or below is refused, naming it, and
// nothing is created through it.
func TestWriterFollowsOnlyTheAdministratorsLinks(t *testing.T) {
	real, outside := t.TempDir(), t.TempDir()
	link := filepath.Join(t.TempDir(), "vmail")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, "maildir:"+link+"/%d/%n/Maildir")
	a, _ := s.Account("ann@example.com")
	if err := s.Writer(a).Folder(FolderSpec{Name: "INBOX"}); err != nil {
		t.Fatalf("a link in the administrator's part was not followed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(real, "example.com", "ann", "Maildir", "cur")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(real, "example.org")); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Account("bob@example.org")
	err := s.Writer(b).Folder(FolderSpec{Name: "INBOX"})
	if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), filepath.Join(link, "example.org")) {
		t.Errorf("Folder through a linked domain directory: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("%d entries were created through the link", len(ents))
	}
}
