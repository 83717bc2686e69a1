package location

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	ms, err := Parse("maildir:/var/vmail/%d/%n/Maildir:LAYOUT=FS:INDEX=MEMORY:CONTROL=/var/control/%u:VOLATILEDIR=/run/dovecot/%{user}")
	if err != nil {
		t.Fatal(err)
	}
	want := Location{Driver: "maildir", Path: "/var/vmail/%d/%n/Maildir", Layout: "fs", Index: "MEMORY",
		Control: "/var/control/%u", VolatileDir: "/run/dovecot/%{user}"}
	if ms != want {
		t.Errorf("got %+v\nwant %+v", ms, want)
	}
	if ms, err := Parse("maildir:/m/%u"); err != nil || ms.Layout != "maildir++" {
		t.Errorf("default layout: %+v, %v", ms, err)
	}
	for _, c := range []struct{ store, err string }{
		{"/var/vmail/%u", "is not DRIVER:PATH"},
		{"maildir:", "the Maildir path is empty"},
		{"maildir:~/Maildir", "relative to the user's home directory"},
		{"maildir:/var/vmail/%h", "uses %h, which mailkeep cannot expand"},
		{"maildir:/var/vmail/%u%", "ends with a lone %"},
		{"maildir:/var/vmail/%é/%u", "uses %é, which"}, // the whole character, not half of it
		{"maildir:/m/%u:LAYOUT=index", "LAYOUT=index is not supported"},
		{"maildir:/m/%u:INDEX=/i:index=/j", "the option INDEX is given twice"},
		{"maildir:/m/%u::INDEX=/i", "empty option"},
		{"maildir:/m/%u:INDEX=relative", "INDEX \"relative\" must be absolute"},
		{"maildir:/m/%u:NOSELECT", `the option "NOSELECT" is not supported`},
	} {
		_, err := Parse(c.store)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.store, err, c.err)
		}
	}
}

func TestExpand(t *testing.T) {
	for _, c := range []struct{ template, user, domain, want string }{
		{"/var/vmail/%d/%n/Maildir", "alice", "example.com", "/var/vmail/example.com/alice/Maildir"},
		{"/var/vmail/%u", "alice", "example.com", "/var/vmail/alice@example.com"},
		{"/var/vmail/%u", "alice", "", "/var/vmail/alice"},
		{"/var/vmail/%{domain}/%{username}/100%%", "bob", "example.org", "/var/vmail/example.org/bob/100%"},
		{"/var/vmail/%{user}", "bob", "example.org", "/var/vmail/bob@example.org"},
		{"/var/%é/%n", "bob", "example.org", "/var/%é/bob"},
	} {
		if got := Expand(c.template, c.user, c.domain); got != c.want {
			t.Errorf("Expand(%q, %q, %q) = %q, want %q", c.template, c.user, c.domain, got, c.want)
		}
	}
}
