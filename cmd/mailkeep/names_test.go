package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// oddFileNames are Maildir file names with every kind of byte a name may
// hold but '/' and NUL: a line break, a carriage return, a tab, control
// and non-UTF-8 bytes.
var oddFileNames = []string{
	"1767000001.M1P1.host\nsecond line:2,S",
	"1767000002.M2P1.host\r\n\t\x01\xff:2,S",
	"1767000003.M3P1.host:2,S",
}

// TestByteNamesRoundTrip: an account whose directory name is not UTF-8,
// and messages whose file names hold line breaks and other odd bytes, are
// backed up, listed by backup ls under a name that can be typed back
// (b64:BASE64), and restored by that name (and by the raw bytes) byte for
// byte, through the CLI and a real agent process.
func TestByteNamesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	const latin1, plain = "caf\xe9@example.org", "ann@example.org"
	folders := []string{"", ".Odd", ".Caf\xe9"}
	messages := len(folders) * len(oddFileNames)
	for _, account := range []string{latin1, plain} {
		user, domain, _ := strings.Cut(account, "@")
		md := filepath.Join(root, domain, user, "Maildir")
		for _, folder := range folders {
			for _, sub := range []string{"cur", "new", "tmp"} {
				if err := os.MkdirAll(filepath.Join(md, folder, sub), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for i, name := range oddFileNames {
				body := "Subject: message " + name + "\n\nbody " + string(rune('a'+i)) + " of " + account + "\n"
				if err := os.WriteFile(filepath.Join(md, folder, "cur", name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	p := startManualAgent(t, dir, root)
	if op := runOp(t, p.client(t), api.OperationRequest{Type: "smartscan"}); op.State != api.StateSucceeded {
		t.Fatalf("smartscan: %+v", op)
	}
	target := []string{"-agent", "unix://" + p.sock}
	run := func(args ...string) result {
		t.Helper()
		return mailkeep(t, nil, append(args, target...)...)
	}
	b64 := "b64:" + base64.StdEncoding.EncodeToString([]byte(latin1))

	// backup ls names the account so that it can be typed back.
	r := run("backup", "ls")
	if r.code != exitOK || !strings.Contains(r.stdout, b64) || strings.Contains(r.stdout, latin1) {
		t.Fatalf("backup ls shows the account as %q; want %s: %+v", r.stdout, b64, r)
	}
	r = run("backup", "ls", "-json")
	var ls struct {
		Accounts []struct {
			Name    string `json:"name"`
			NameB64 string `json:"name_b64"`
			Items   int    `json:"items"`
		} `json:"accounts"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &ls) != nil || len(ls.Accounts) != 2 {
		t.Fatalf("backup ls -json: %+v", r)
	}
	for _, a := range ls.Accounts {
		want := ""
		if a.Name != plain {
			want = strings.TrimPrefix(b64, "b64:")
		}
		if a.NameB64 != want || a.Items != messages {
			t.Errorf("backup ls -json: %+v; want name_b64 %q and %d items", a, want, messages)
		}
	}
	// Every command that takes an account takes the b64: name, and the
	// raw bytes.
	for _, args := range [][]string{
		{"backup", "ls", b64},
		{"backup", "ls", latin1},
		{"backup", "history", b64},
		{"backup", "diff", "-from", time.Now().Format(time.RFC3339Nano), b64},
		{"backup", "search", b64},
		{"restore", "account", "-dry-run", latin1},
		{"export", "-format", "mbox", "-folder", "Odd", "-o", filepath.Join(dir, "odd.mbox"), b64},
	} {
		if r := run(args...); r.code != exitOK {
			t.Errorf("%q: %+v", args, r)
		}
	}

	// Both accounts are removed and restored by name: every file comes
	// back under its exact name with its exact bytes.
	for _, account := range []string{b64, plain} {
		user, domain, _ := strings.Cut(map[string]string{b64: latin1, plain: plain}[account], "@")
		home := filepath.Join(root, domain, user)
		saved := filepath.Join(dir, "saved", user)
		if err := os.MkdirAll(filepath.Dir(saved), 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mv", home, saved).CombinedOutput(); err != nil {
			t.Fatalf("mv: %v %s", err, out)
		}
		r := run("restore", "account", "-wait", account)
		// The summary names the account and the folder .Caf\xe9 so that
		// they can be typed back.
		if r.code != exitOK || !strings.Contains(r.stdout, "Restored ") || !strings.Contains(r.stdout, account) ||
			!strings.Contains(r.stdout, fmt.Sprintf("%d messages", messages)) || !strings.Contains(r.stdout, "(b64:Q2Fm6Q==)") {
			t.Fatalf("restore account %s: %+v", account, r)
		}
		compareTrees(t, saved, home)
		// The account's history names the restore's source exactly.
		if r := run("backup", "history", account); r.code != exitOK || !strings.Contains(r.stdout, "restore account from "+names.Display(mustDecode(account))) {
			t.Errorf("backup history %s after the restore: %+v", account, r)
		}
		for _, folder := range folders {
			got, err := filepath.Glob(filepath.Join(home, "Maildir", folder, "cur", "*"))
			if err != nil || len(got) != len(oddFileNames) {
				t.Fatalf("restored %s/%s: %q, %v; want %d messages", account, folder, got, err, len(oddFileNames))
			}
		}
	}
}
