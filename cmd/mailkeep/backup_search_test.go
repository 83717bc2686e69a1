package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestBackupSearchCommand drives backup search through the CLI against a
// real agent process.
func TestBackupSearchCommand(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 4, Accounts: 2, Domains: []string{"example.org"}, Messages: 200, MaxSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	// One message with known headers in a known account.
	msg := "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.net>\r\nTo: someone@example.org\r\n" +
		"Subject: Invoice 4711 overdue\r\nMessage-ID: <inv.4711@example.net>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\npay\r\n"
	entries, err := os.ReadDir(filepath.Join(root, "example.org"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("generated store: %v", err)
	}
	account := entries[0].Name() + "@example.org"
	if err := os.WriteFile(filepath.Join(root, "example.org", entries[0].Name(), "Maildir", "cur", "1800000000.M1P1.cli:2,S"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startManualAgent(t, dir, root)
	target := []string{"-agent", "unix://" + p.sock}
	if r := mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...); r.code != exitOK {
		t.Fatalf("smartscan: %+v", r)
	}

	r := mailkeep(t, nil, append(append([]string{"backup", "search", "-json"}, target...), account, "-sender", "jürgen", "-subject", "INVOICE")...)
	var res api.SearchResponse
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Count != 1 {
		t.Fatalf("backup search -json: %+v", r)
	}
	m := res.Messages[0]
	if m.From != "Jürgen Müller <juergen@example.net>" || m.MessageID != "inv.4711@example.net" || m.Folder != "INBOX" || m.Flags != "S" ||
		m.Deleted || m.Date == nil || m.ID == 0 {
		t.Errorf("found %+v", m)
	}
	// The human listing: the id, the folder, the sender and the subject.
	r = mailkeep(t, nil, append(append([]string{"backup", "search"}, target...), account, "-message-id", "<inv.4711@example.net>")...)
	if r.code != exitOK || !strings.Contains(r.stdout, strconv.FormatInt(m.ID, 10)) || !strings.Contains(r.stdout, "Invoice 4711 overdue") ||
		!strings.Contains(r.stdout, "Jürgen Müller") || !strings.HasPrefix(r.stdout, "ID") {
		t.Errorf("backup search: %+v", r)
	}
	r = mailkeep(t, nil, append(append([]string{"backup", "search"}, target...), account, "-subject", "no such subject anywhere")...)
	if r.code != exitOK || !strings.Contains(r.stderr, "no message matches") {
		t.Errorf("no match: %+v", r)
	}
	for _, bad := range []struct {
		args []string
		msg  string
	}{
		{[]string{"nobody@example.org"}, "nobody@example.org"},
		{[]string{account, "-since", "soon"}, "-since"},
		{[]string{account, "-since", "2026-12-01", "-before", "2026-11-30"}, "not after -since"},
		{[]string{}, "expected one ACCOUNT"},
		{[]string{account, "-nonsense"}, "-nonsense"},
	} {
		r := mailkeep(t, nil, append(append([]string{"backup", "search"}, target...), bad.args...)...)
		if r.code != exitError || !strings.Contains(r.stderr, bad.msg) {
			t.Errorf("backup search %v: exit %d, stderr %q; want 1 naming %q", bad.args, r.code, r.stderr, bad.msg)
		}
	}
}
