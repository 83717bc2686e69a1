package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestDiff checks that Diff notices every kind of difference the
// end-to-end tests rely on, so that a passing test means something.
func TestDiff(t *testing.T) {
	base := func() *Snapshot {
		return &Snapshot{Account: "a@example.com", Subscribed: []string{"INBOX", "Projects/2026"}, Folders: []Folder{
			{Name: "INBOX", UIDValidity: 7, UIDNext: 5, Messages: []Message{
				{UID: 1, Flags: []string{`\Seen`, "$Important"}, InternalDate: time.Unix(1700000000, 0), Size: 3, Body: []byte("abc")},
				{UID: 4, Flags: []string{}, InternalDate: time.Unix(1700000100, 0), Size: 3, Body: []byte("Message-ID: <x@y>\r\n\r\ndef")},
			}},
			{Name: "Projects/2026", UIDValidity: 8, UIDNext: 1},
		}}
	}
	if d := Diff(base(), base()); d != nil {
		t.Fatalf("identical snapshots differ: %v", d)
	}
	other := base()
	other.Account = "b@example.com"
	if d := Diff(base(), other); d != nil {
		t.Fatalf("the account name is compared: %v", d)
	}
	for _, c := range []struct {
		name   string
		change func(s *Snapshot)
		want   string
	}{
		{"subscription", func(s *Snapshot) { s.Subscribed = s.Subscribed[:1] }, "subscriptions"},
		{"uidvalidity", func(s *Snapshot) { s.Folders[0].UIDValidity++ }, "UIDVALIDITY"},
		{"uidnext", func(s *Snapshot) { s.Folders[1].UIDNext++ }, "UIDNEXT"},
		{"missing folder", func(s *Snapshot) { s.Folders = s.Folders[:1] }, `folder "Projects/2026" (0 messages) is missing`},
		{"extra folder", func(s *Snapshot) { s.Folders = append(s.Folders, Folder{Name: "Trash"}) }, `unexpected folder "Trash"`},
		{"missing message", func(s *Snapshot) { s.Folders[0].Messages = s.Folders[0].Messages[:1] }, "UID 4 (<x@y>, 24 bytes) is missing"},
		{"uid", func(s *Snapshot) { s.Folders[0].Messages[1].UID = 3 }, "unexpected UID 3"},
		{"flag", func(s *Snapshot) { s.Folders[0].Messages[0].Flags = []string{`\Seen`} }, "flags"},
		{"date", func(s *Snapshot) { s.Folders[0].Messages[0].InternalDate = time.Unix(1700000001, 0) }, "INTERNALDATE"},
		{"body", func(s *Snapshot) { s.Folders[0].Messages[0].Body = []byte("abd") }, "body differs"},
	} {
		got := base()
		c.change(got)
		d := Diff(base(), got)
		if len(d) == 0 || !strings.Contains(strings.Join(d, "\n"), c.want) {
			t.Errorf("%s: Diff = %q, want a line with %q", c.name, d, c.want)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	msg := []byte("From: a\r\nmessage-id:\r\n  <folded@x>\r\nSubject: s\r\n\r\nMessage-ID: <body@x>\r\n")
	if got := HeaderValue(msg, "Message-ID"); got != "<folded@x>" {
		t.Errorf("HeaderValue = %q", got)
	}
	if got := HeaderValue(msg, "Date"); got != "" {
		t.Errorf("HeaderValue(Date) = %q", got)
	}
}
