package maildir

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/maildir/location"
)

func TestFolderNameAndDir(t *testing.T) {
	cases := []struct{ layout, name, dir string }{
		{LayoutMaildirPP, "INBOX", ""},
		{LayoutMaildirPP, "Projects/2026", ".Projects.2026"},
		{LayoutMaildirPP, "Entwürfe", ".Entw&APw-rfe"},
		{LayoutMaildirPP, "A&B/Ünter", ".A&-B.&ANw-nter"},
		{LayoutFS, "INBOX", ""},
		{LayoutFS, "Projects/2026", "Projects/2026"},
		{LayoutFS, "Entwürfe/a.b", "Entw&APw-rfe/a.b"},
	}
	for _, c := range cases {
		dir, err := FolderDir(c.layout, c.name)
		if err != nil || dir != c.dir {
			t.Errorf("FolderDir(%s, %q) = %q, %v; want %q", c.layout, c.name, dir, err, c.dir)
		}
		if got := FolderName(c.layout, c.dir); got != c.name {
			t.Errorf("FolderName(%s, %q) = %q, want %q", c.layout, c.dir, got, c.name)
		}
		if err := checkFolderDir(c.layout, c.dir); err != nil {
			t.Errorf("checkFolderDir(%s, %q): %v", c.layout, c.dir, err)
		}
	}
	if dir, _ := FolderDir(LayoutMaildirPP, "inbox"); dir != "" {
		t.Errorf("inbox is %q", dir)
	}
	// A directory that is not modified UTF-7 keeps its name.
	if got := FolderName(LayoutMaildirPP, ".caf\xc3\xa9"); got != "caf\xc3\xa9" {
		t.Errorf("FolderName of 8-bit dir = %q", got)
	}
	for _, bad := range []struct{ layout, name string }{
		{LayoutMaildirPP, ""}, {LayoutMaildirPP, "a//b"}, {LayoutMaildirPP, "a.b"}, {LayoutMaildirPP, "../x"},
		{LayoutMaildirPP, "a\nb"}, {LayoutFS, "a/../b"}, {LayoutFS, "a/cur"}, {LayoutFS, ".hidden"},
	} {
		if dir, err := FolderDir(bad.layout, bad.name); err == nil {
			t.Errorf("FolderDir(%s, %q) = %q, want an error", bad.layout, bad.name, dir)
		}
	}
	for _, bad := range []struct{ layout, dir string }{
		{LayoutMaildirPP, "Projects"}, {LayoutMaildirPP, "."}, {LayoutMaildirPP, ".."}, {LayoutMaildirPP, "../.x"},
		{LayoutMaildirPP, ".a/b"}, {LayoutMaildirPP, "/abs"}, {LayoutFS, "a/../b"}, {LayoutFS, "a//b"}, {LayoutFS, "a/new"},
		{LayoutFS, ".x"},
	} {
		if err := checkFolderDir(bad.layout, bad.dir); err == nil {
			t.Errorf("checkFolderDir(%s, %q) gave no error", bad.layout, bad.dir)
		}
	}
}

func mustOpen(t *testing.T, location string) *Store {
	t.Helper()
	ms, err := parseLocation(location)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ms)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parseLocation is location.Parse, under a name the parameters called
// location do not shadow.
var parseLocation = location.Parse

func TestOpenErrors(t *testing.T) {
	for _, ms := range []location.Location{
		{Driver: "mbox", Path: "/var/mail/%u"},
		{Driver: "maildir", Path: "relative/%u"},
		{Driver: "maildir", Path: "/var/vmail/Maildir"},
		{Driver: "maildir", Path: "/var/vmail/%h"},
		{Driver: "maildir", Path: "/var/vmail/%u", Layout: "imapdir"},
		{Driver: "maildir", Path: "/var/vmail/%u", Control: "ctl/%u"},
	} {
		if _, err := Open(ms); err == nil {
			t.Errorf("Open(%+v) gave no error", ms)
		}
	}
}

func TestAccount(t *testing.T) {
	s := mustOpen(t, "maildir:/var/vmail/%d/%n/Maildir:CONTROL=/var/ctl/%{domain}/%{username}:INDEX=/var/idx/%u")
	a, err := s.Account("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := Account{Name: "alice@example.com", User: "alice", Domain: "example.com",
		Root: "/var/vmail/example.com/alice/Maildir", Control: "/var/ctl/example.com/alice", Index: "/var/idx/alice@example.com"}
	if a != want {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
	if got := s.ControlDir(a, ""); got != "/var/ctl/example.com/alice/.INBOX" {
		t.Errorf("ControlDir(INBOX) = %q", got)
	}
	if got := s.ControlDir(a, ".Projects.2026"); got != "/var/ctl/example.com/alice/.Projects.2026" {
		t.Errorf("ControlDir = %q", got)
	}
	for _, bad := range []string{"", "alice", "@example.com", "alice@", "../x@y", "a/b@c", ".alice@x", "alice@.x", "al\x00ice@x", "a..b@x"} {
		if a, err := s.Account(bad); err == nil {
			t.Errorf("Account(%q) = %+v, want an error", bad, a)
		}
	}

	// Split at the first '@', as Dovecot does (doveadm user 'a@@b' with
	// mail_location = maildir:/m/%d/%n gives /m/@b/a).
	for name, root := range map[string]string{"a@@b": "/var/vmail/@b/a/Maildir", "a@b@c": "/var/vmail/b@c/a/Maildir"} {
		if a, err := s.Account(name); err != nil || a.Root != root || a.Name != name {
			t.Errorf("Account(%q) = %+v, %v; want the root %s", name, a, err, root)
		}
	}

	plain := mustOpen(t, "maildir:/home/%n/Maildir:LAYOUT=fs")
	a, err = plain.Account("bob")
	if err != nil || a.Root != "/home/bob/Maildir" || a.Control != a.Root || a.Domain != "" {
		t.Fatalf("Account(bob) = %+v, %v", a, err)
	}
	if _, err := plain.Account("bob@example.com"); err == nil {
		t.Error("user@domain accepted by a template without a domain variable")
	}
	if got := plain.ControlDir(a, ""); got != "/home/bob/Maildir" {
		t.Errorf("ControlDir without CONTROL= = %q", got)
	}
	fsctl := mustOpen(t, "maildir:/home/%n/Maildir:LAYOUT=fs:CONTROL=/ctl/%n")
	a, _ = fsctl.Account("bob")
	if got := fsctl.ControlDir(a, ""); got != "/ctl/bob/INBOX" {
		t.Errorf("ControlDir(INBOX, fs) = %q", got)
	}

	full := mustOpen(t, "maildir:/var/mail/%u")
	for name, want := range map[string]Account{
		"carol@example.org": {Name: "carol@example.org", User: "carol", Domain: "example.org", Root: "/var/mail/carol@example.org", Control: "/var/mail/carol@example.org"},
		"carol":             {Name: "carol", User: "carol", Root: "/var/mail/carol", Control: "/var/mail/carol"},
	} {
		if a, err := full.Account(name); err != nil || a != want {
			t.Errorf("Account(%q) = %+v, %v; want %+v", name, a, err, want)
		}
	}
}

func TestTemplateMatch(t *testing.T) {
	cases := []struct {
		tmpl, path, user, domain string
		ok                       bool
	}{
		{"/v/%d/%n/Maildir", "/v/example.com/alice/Maildir", "alice", "example.com", true},
		{"/v/%d/%n/Maildir", "/v/example.com/alice/Other", "", "", false},
		{"/v/%u", "/v/alice@example.com", "alice", "example.com", true},
		{"/v/%u", "/v/alice", "alice", "", true},
		{"/v/%u", "/v/a@@b", "a", "@b", true},
		{"/v/%n/%u", "/v/a/a@@b", "a", "@b", true},
		{"/v/%d/%u", "/v/example.com/alice@example.com", "alice", "example.com", true},
		{"/v/%d/%u", "/v/example.org/alice@example.com", "", "", false},
		{"/v/%n/%n.d", "/v/a/a.d", "a", "", true},
		{"/v/%n/%n.d", "/v/a/b.d", "", "", false},
		{"/v/[x]*/%n", "/v/[x]*/bob", "bob", "", true},
		{"/v/%n/%%/m", "/v/bob/%/m", "bob", "", true},
	}
	for _, c := range cases {
		tm, err := parseTemplate("t", c.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		u, d, ok := tm.match(c.path)
		if ok != c.ok || u != c.user || d != c.domain {
			t.Errorf("%s match %s = %q %q %v; want %q %q %v", c.tmpl, c.path, u, d, ok, c.user, c.domain, c.ok)
		}
	}
	tm, _ := parseTemplate("t", "/v/[x]*/%n?/%{domain}")
	if got := tm.glob(); got != `/v/\[x]\*/*\?/*` {
		t.Errorf("glob = %q", got)
	}
}

func TestAccounts(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{
		"example.com/alice/Maildir", "example.com/bob/Maildir", "example.org/carol/Maildir",
		"example.org/.hidden/Maildir", "example.org/dave/NotMaildir",
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A file where a Maildir should be is not an account.
	os.MkdirAll(filepath.Join(root, "example.org/erin"), 0o700)
	os.WriteFile(filepath.Join(root, "example.org/erin/Maildir"), nil, 0o600)
	s := mustOpen(t, "maildir:"+root+"/%d/%n/Maildir")
	accts, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accts {
		names = append(names, a.Name)
		if !strings.HasPrefix(a.Root, root) {
			t.Errorf("root %q", a.Root)
		}
	}
	if want := []string{"alice@example.com", "bob@example.com", "carol@example.org"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("accounts = %q, want %q", names, want)
	}
}
