package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/corpus"
)

// TestOperationalCommands drives smartscan, backup ls, restore account and
// verify through the CLI against a real agent process.
func TestOperationalCommands(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 3, Accounts: 2, Messages: 4000, MaxSize: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	p := startManualAgent(t, dir, root)
	target := []string{"-agent", "unix://" + p.sock}

	// A SmartScan started without -wait, then a second one: refused, exit 4.
	r := mailkeep(t, nil, append([]string{"smartscan"}, target...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Started smartscan operation") {
		t.Fatalf("smartscan: %+v", r)
	}
	r = mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...)
	if r.code != exitRefused || !strings.Contains(r.stderr, "already running") {
		t.Errorf("second smartscan: exit %d, stderr %q", r.code, r.stderr)
	}
	waitIdle(t, p.client(t))

	r = mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "SmartScan succeeded") || !strings.Contains(r.stdout, "4000 unchanged") {
		t.Errorf("smartscan -wait: %+v", r)
	}
	if r.stderr != "" {
		t.Errorf("a progress bar was drawn into a pipe: %q", r.stderr)
	}

	r = mailkeep(t, nil, append([]string{"backup", "ls", "-json"}, target...)...)
	var ls struct {
		Accounts []struct {
			Name  string `json:"name"`
			Items int64  `json:"items"`
		} `json:"accounts"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &ls) != nil || len(ls.Accounts) != 2 || ls.Accounts[0].Items+ls.Accounts[1].Items != 4000 {
		t.Fatalf("backup ls -json: %+v", r)
	}
	account := ls.Accounts[0].Name
	r = mailkeep(t, nil, append(append([]string{"backup", "ls"}, target...), account)...)
	if r.code != exitOK || !strings.Contains(r.stdout, account) || strings.Contains(r.stdout, ls.Accounts[1].Name) {
		t.Errorf("backup ls ACCOUNT: %+v", r)
	}
	r = mailkeep(t, nil, append(append([]string{"backup", "ls"}, target...), "nobody@example.com")...)
	if r.code != exitError || !strings.Contains(r.stderr, "nobody@example.com") {
		t.Errorf("backup ls of an unknown account: %+v", r)
	}

	r = mailkeep(t, nil, append(append([]string{"restore", "account", "-dry-run", "-to", "copy@example.com"}, target...), account)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Would restore") || !strings.Contains(r.stdout, "full restore") {
		t.Errorf("restore -dry-run: %+v", r)
	}
	r = mailkeep(t, nil, append(append([]string{"restore", "account", "-at", "2d", "-wait"}, target...), account)...)
	if r.code != exitError || !strings.Contains(r.stderr, "before the backup history") {
		t.Errorf("restore before the first backup: %+v", r)
	}
	// Year 1600 cannot be represented: refused, never taken for today.
	r = mailkeep(t, nil, append(append([]string{"restore", "account", "-at", "1600-01-01", "-wait"}, target...), account)...)
	if r.code != exitError || !strings.Contains(r.stderr, `"1600-01-01"`) || !strings.Contains(r.stderr, "cannot be represented") || r.stdout != "" {
		t.Errorf("restore -at 1600-01-01: %+v", r)
	}
	r = mailkeep(t, nil, append(append([]string{"restore", "account", "-at", "yesterday-ish"}, target...), account)...)
	if r.code != exitError || !strings.Contains(r.stderr, "-at") {
		t.Errorf("bad -at: %+v", r)
	}
	user, domain, _ := strings.Cut(account, "@")
	r = mailkeep(t, nil, append(append([]string{"restore", "account", "-wait", "-to", "copy@" + domain}, target...), account)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Restored "+account+" into copy@"+domain) {
		t.Errorf("restore -to: %+v", r)
	}
	compareTrees(t, filepath.Join(root, domain, user), filepath.Join(root, domain, "copy"))

	r = mailkeep(t, nil, append([]string{"verify", "-deep"}, target...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "0 problems") {
		t.Errorf("verify -deep: %+v", r)
	}
	r = mailkeep(t, nil, "verify", "-agent", "unix://"+filepath.Join(dir, "nothing.sock"))
	if r.code != exitError || !strings.Contains(r.stderr, "nothing.sock") {
		t.Errorf("unreachable agent: %+v", r)
	}
}

// TestPurgeCommand: a purge dry run lists the deleted messages past their
// retention and changes nothing; the real run removes them, keeps what is
// inside the window, and the repository verifies.
func TestPurgeCommand(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 4, Accounts: 2, Messages: 300, MaxSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	p := startAgentProc(t, dir)
	// Retention 0 days for items: every deleted message is past it.
	doc, _ := json.Marshal(map[string]any{
		"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir", "backup_path": filepath.Join(dir, "backup"),
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0}, "smartscan": map[string]any{"enabled": false},
		"realtime_scanner": false, "purge": map[string]any{"enabled": false, "item_retention_days": 1},
	})
	if _, err := p.client(t).PutConfig(t.Context(), doc, "", "test"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, p.client(t))
	target := []string{"-agent", "unix://" + p.sock}
	if r := mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...); r.code != exitOK {
		t.Fatalf("smartscan: %+v", r)
	}
	n, err := corpus.Delete(root, 0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...); r.code != exitOK {
		t.Fatalf("smartscan: %+v", r)
	}
	// Nothing is older than a day: a dry run finds nothing to purge.
	r := mailkeep(t, nil, append([]string{"purge", "-dry-run"}, target...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Would purge 0 deleted messages") {
		t.Fatalf("purge -dry-run inside the retention: %+v", r)
	}
	r = mailkeep(t, nil, append([]string{"purge", "-wait", "-json"}, target...)...)
	var op struct {
		State  string `json:"state"`
		Result struct {
			Items  int64 `json:"items"`
			DryRun bool  `json:"dry_run"`
		} `json:"result"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &op) != nil || op.State != "succeeded" || op.Result.Items != 0 {
		t.Fatalf("purge inside the retention removed something: %+v", r)
	}
	if n == 0 {
		t.Fatal("no message was deleted")
	}
	if r := mailkeep(t, nil, append([]string{"verify"}, target...)...); r.code != exitOK {
		t.Errorf("verify after purge: %+v", r)
	}
}
