package dovecot

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const testMessage = "From: sender@example.net\r\nTo: alice@example.com\r\nSubject: hello\r\nMessage-ID: <1@example.net>\r\n\r\nHello, Alice.\r\n"

func TestStartServesIMAPLMTPAndDoveadm(t *testing.T) {
	s := Start(t, Options{})
	if err := greets(s.IMAPAddr(), "* OK"); err != nil {
		t.Fatal(err)
	}
	if err := greets(s.LMTPAddr(), "220 "); err != nil {
		t.Fatal(err)
	}
	if len(s.Users()) != len(DefaultUsers) {
		t.Fatalf("users = %v", s.Users())
	}
	if want := "maildir:" + s.Dir() + "/vmail/%d/%n/Maildir"; s.MailLocation() != want {
		t.Errorf("MailLocation = %q, want %q", s.MailLocation(), want)
	}
	out, err := s.Doveadm("user", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), s.Home("alice@example.com")) {
		t.Errorf("doveadm user: %s", out)
	}
	if err := s.SaveMessage("alice@example.com", "INBOX", []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]string
	if err := s.DoveadmJSON(&msgs, "fetch", "-u", "alice@example.com", "mailbox uid hdr.subject", "ALL"); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0]["mailbox"] != "INBOX" || msgs[0]["uid"] != "1" || !strings.Contains(msgs[0]["hdr.subject"], "hello") {
		t.Fatalf("fetch = %v", msgs)
	}
	// The mail belongs to the unprivileged mail user.
	root := filepath.Join(s.Home("alice@example.com"), "Maildir")
	fi, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid := s.MailOwner()
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid || uid == 0 {
		t.Errorf("%s owned by %d:%d, want %s (%d:%d)", root, st.Uid, st.Gid, MailUser, uid, gid)
	}
	// An unknown user is an error that names it.
	if _, err := s.Doveadm("mailbox", "list", "-u", "nobody@example.com"); err == nil {
		t.Error("doveadm for an unknown user succeeded")
	}
	s.Stop()
	s.Stop()
	if err := greets(s.IMAPAddr(), "* OK"); err == nil {
		t.Error("IMAP still answers after Stop")
	}
	if data, err := os.ReadFile(s.LogPath()); err != nil || !strings.Contains(string(data), "starting up") {
		t.Errorf("log: %q, %v", data, err)
	}
}

func TestStartWithLayoutOptions(t *testing.T) {
	s := Start(t, Options{Layout: "fs", Control: true, Index: true, Users: []User{{Name: "dave@example.net", Password: "pw"}}})
	for _, want := range []string{":LAYOUT=fs", ":CONTROL=" + s.Dir() + "/control/%d/%n", ":INDEX=" + s.Dir() + "/index/%d/%n"} {
		if !strings.Contains(s.MailLocation(), want) {
			t.Errorf("MailLocation %q lacks %q", s.MailLocation(), want)
		}
	}
	if _, err := s.Doveadm("mailbox", "create", "-u", "dave@example.net", "Projects/2026"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage("dave@example.net", "Projects/2026", []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"vmail/example.net/dave/Maildir/Projects/2026/new",
		"control/example.net/dave/Projects/2026/dovecot-uidlist",
		"index/example.net/dave/Projects/2026",
	} {
		if _, err := os.Stat(filepath.Join(s.Dir(), p)); err != nil {
			t.Errorf("Dovecot did not write %s: %v", p, err)
		}
	}
}

func TestTwoServersAtOnce(t *testing.T) {
	t.Parallel()
	a := Start(t, Options{})
	b := Start(t, Options{})
	if a.IMAPAddr() == b.IMAPAddr() || a.Dir() == b.Dir() {
		t.Fatalf("servers share %s / %s", a.IMAPAddr(), a.Dir())
	}
	for _, s := range []*Server{a, b} {
		if err := s.SaveMessage("bob@example.com", "INBOX", []byte(testMessage)); err != nil {
			t.Fatal(err)
		}
	}
}
