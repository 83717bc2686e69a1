package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mailkeepWithin runs the CLI and fails the test if it does not return
// within a generous deadline: the old commands read a FIFO forever.
func mailkeepWithin(t *testing.T, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- mailkeep(t, nil, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("mailkeep %s still running after 30s", strings.Join(args, " "))
		return result{}
	}
}

// TestHostilePolicyInput gives validate, fmt, plan and apply a policy
// nested 100,000 levels deep (which crashed them with a stack overflow)
// and FIFOs and devices (which they read forever): each answers at once
// with an error that names the file.
func TestHostilePolicyInput(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "deep.hcl")
	src := "server \"mx1\" {\n  address = \"https://mx1:7443\"\n  mail_store = \"maildir:/v/%d/%n\"\n  description = " +
		strings.Repeat("(", 100_000) + `"x"` + strings.Repeat(")", 100_000) + "\n}\n"
	if err := os.WriteFile(deep, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.hcl")
	if err := os.WriteFile(good, []byte("server \"mx1\" {\n  address = \"https://mx1:7443\"\n  mail_store = \"maildir:/v/%d/%n\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.hcl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "fifo.mkplan")
	if err := syscall.Mkfifo(plan, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"validate", deep}, []string{"Error: Nesting too deep", "on " + deep + " line 4, column ", "nests deeper than 500 levels"}},
		{[]string{"validate", "-json", deep}, []string{`"summary": "Nesting too deep"`, `"line": 4`}},
		{[]string{"fmt", "-check", deep}, []string{"Error: Nesting too deep", "line 4"}},
		{[]string{"plan", deep}, []string{"Error: Nesting too deep", "line 4"}},
		{[]string{"validate", fifo}, []string{"Error: Cannot read policy file", fifo + " is a FIFO, not a regular file"}},
		{[]string{"validate", "-var-file", "/dev/zero", good}, []string{"Error: Cannot read variable file", "/dev/zero is a character device, not a regular file"}},
		{[]string{"fmt", fifo}, []string{"reading " + fifo, "is a FIFO, not a regular file"}},
		{[]string{"plan", fifo}, []string{fifo + " is a FIFO, not a regular file"}},
		{[]string{"apply", plan}, []string{plan + " is a FIFO, not a regular file"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := mailkeepWithin(t, tc.args...)
			if r.code != exitError {
				t.Errorf("exit %d, want %d", r.code, exitError)
			}
			out := r.stdout + r.stderr
			if len(out) > 4000 {
				t.Errorf("%d bytes of output; snippets must not show a whole long line", len(out))
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%.2000s", w, out)
				}
			}
		})
	}
}

// TestRestoreToControlCharacters checks that restore account and restore
// item refuse a -to account with a control character before they reach
// for an agent, and name the flag.
func TestRestoreToControlCharacters(t *testing.T) {
	for _, to := range []string{"new\nuser@example.com", "a\x00b@example.com", "esc\x1b[31m@example.com", "del\x7f@example.com", "c1\u0085@example.com", "b64:" + "bmV3CnVzZXJAZXhhbXBsZS5jb20="} {
		for _, args := range [][]string{
			{"restore", "account", "-agent", "unix:///nonexistent/agent.sock", "-to", to, "alice@example.com"},
			{"restore", "item", "-agent", "unix:///nonexistent/agent.sock", "-to", to, "alice@example.com", "7"},
		} {
			r := mailkeep(t, nil, args...)
			if r.code != exitError || !strings.Contains(r.stderr, "-to: the account ") || !strings.Contains(r.stderr, "contains the control character U+00") {
				t.Errorf("%s -to %q: exit %d, stderr %q; want the -to refusal", args[1], to, r.code, r.stderr)
			}
		}
	}
	// A printable name, even with two '@' (the agent splits it at the
	// first, as Dovecot does), passes the check and goes on to the agent.
	r := mailkeep(t, nil, "restore", "account", "-agent", "unix:///nonexistent/agent.sock", "-to", "a@@b", "alice@example.com")
	if r.code != exitError || strings.Contains(r.stderr, "-to:") {
		t.Errorf("-to a@@b: exit %d, stderr %q; want it past the check, failing to reach the agent", r.code, r.stderr)
	}
}
