package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestGranularRestoreCommands drives restore item, restore undelete and
// restore account -into-folder through the CLI against a real agent
// process: bad input exits 1 with a message naming it, a good request
// gives its result in text and JSON.
func TestGranularRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 4, Accounts: 1, Messages: 50, MaxSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	p := startManualAgent(t, dir, root)
	target := []string{"-agent", "unix://" + p.sock}
	run := func(args ...string) result {
		return mailkeep(t, nil, append(append([]string{"restore"}, args...), target...)...)
	}
	if r := mailkeep(t, nil, append([]string{"smartscan", "-wait"}, target...)...); r.code != exitOK {
		t.Fatalf("smartscan: %+v", r)
	}
	list, err := p.client(t).Accounts(t.Context(), "")
	if err != nil || len(list) != 1 {
		t.Fatalf("accounts: %v %v", list, err)
	}
	account, first := list[0].Name, list[0].FirstBackup.Format(time.RFC3339Nano)
	now := time.Now().Format(time.RFC3339Nano)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"item", account, "abc"}, `"abc" is not an item id`},
		{[]string{"item", account}, "at least one item ID"},
		{[]string{"item", "-wait", account, "999999"}, "item 999999 (no such item)"},
		{[]string{"undelete", account, "-from", "1h"}, "-to is required"},
		{[]string{"undelete", account, "-from", now, "-to", first}, "is not after its start"},
		{[]string{"undelete", account, "-from", now, "-to", "1h"}, "before the backup history"},
		{[]string{"undelete", account, "-from", "soon", "-to", now}, `-from: instant "soon"`},
		{[]string{"account", "-into-folder", "A.B", account}, "Maildir++ uses as its separator"},
		{[]string{"account", "-into-folder", "R", "-to", "x@example.com", account}, "does not go with -to"},
	} {
		if r := run(c.args...); r.code != exitError || !strings.Contains(r.stderr, c.want) {
			t.Errorf("restore %v: exit %d, stderr %q; want 1 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	r := run("account", "-into-folder", "b64:UmVzdG9yZWQ=", "-wait", account)
	if r.code != exitOK || !strings.Contains(r.stdout, `under folder "Restored": 50 messages`) || !strings.Contains(r.stdout, "Restored/INBOX") {
		t.Errorf("restore account -into-folder: %+v", r)
	}
	r = run("undelete", "-json", "-dry-run", account, "-from", now, "-to", time.Now().Format(time.RFC3339Nano))
	var op api.Operation
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &op) != nil {
		t.Fatalf("undelete -json: %+v", r)
	}
	var res api.LiveRestoreResult
	b, _ := json.Marshal(op.Result)
	if json.Unmarshal(b, &res) != nil || res.Strategy != "undelete" || !res.DryRun || res.Messages != 0 {
		t.Errorf("undelete of a range without deletions: %+v", res)
	}
}
