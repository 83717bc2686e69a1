package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestSavedPlansRace saves two plans made from the same live state and
// applies them at the same time: on the server both touch, one wins and
// the other is refused as stale, saying what changed; the exit codes follow
// (4 when nothing else was applied, 5 when other servers were).
func TestSavedPlansRace(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2"}, nil)
	pol := f.policy(t)
	if r := f.run(t, "apply", pol, "-auto-approve"); r.code != exitOK {
		t.Fatalf("initial apply: %+v", r)
	}
	f.settle(t)
	a, b := filepath.Join(f.dir, "a.mkplan"), filepath.Join(f.dir, "b.plan")
	if r := f.run(t, "plan", pol, "-var", "note=A", "-out", a); r.code != exitOK || !strings.Contains(r.stdout, "Saved the plan to "+a) {
		t.Fatalf("plan A: %+v", r)
	}
	if r := f.run(t, "plan", pol, "-var", "note=B", "-target", "mx1", "-out", b, "-format", "json"); r.code != exitOK || !strings.Contains(r.stderr, "Saved the plan") {
		t.Fatalf("plan B: %+v", r)
	}
	for _, file := range []string{a, b} {
		data, _ := os.ReadFile(file)
		assertNoSecrets(t, "plan file "+file, string(data))
		if !strings.Contains(string(data), f.tokenFile) || !strings.Contains(string(data), `"kind": "mailkeep-plan-file"`) {
			t.Errorf("plan file %s lacks the token reference or its kind", file)
		}
	}
	var wg sync.WaitGroup
	var ra, rb result
	wg.Add(2)
	go func() { defer wg.Done(); ra = f.run(t, "apply", a) }()
	go func() { defer wg.Done(); rb = f.run(t, "apply", b) }()
	wg.Wait()
	aWon := strings.Contains(ra.stdout, "mx1  applied")
	bWon := strings.Contains(rb.stdout, "mx1  applied")
	if aWon == bWon {
		t.Fatalf("exactly one apply must win mx1:\nA: %+v\nB: %+v", ra, rb)
	}
	loser, wantCode, note := rb, exitRefused, "B"
	if bWon {
		loser, wantCode, note = ra, exitPartial, "A"
	}
	if loser.code != wantCode || !strings.Contains(loser.stdout, "mx1  refused (stale)") || !strings.Contains(loser.stdout, "plan again") ||
		!strings.Contains(loser.stdout, "Changed on the agent since the plan:") || !strings.Contains(loser.stdout, `~ description: "mx1 first" -> "mx1 `) {
		t.Errorf("the losing apply (%s): %+v", note, loser)
	}
	if !strings.Contains(loser.stdout, "changed since the plan") && !strings.Contains(loser.stdout, "another change reached the agent first") {
		t.Errorf("the losing apply does not say why: %s", loser.stdout)
	}
	// Applying the winner again is harmless.
	winner := a
	if bWon {
		winner = b
	}
	if r := f.run(t, "apply", winner); r.code != exitOK || !strings.Contains(r.stdout, "0 applied") || strings.Contains(r.stdout, "refused") {
		t.Errorf("applying the winning plan again: %+v", r)
	}
	if r := f.run(t, "apply", a, "-target", "mx1"); r.code != exitError || !strings.Contains(r.stderr, "saved plan") {
		t.Errorf("-target with a saved plan: %+v", r)
	}
}

// TestApplyPartialFailure applies a saved plan when one agent has gone
// away and another cannot save its state: the third is applied, exit 5.
func TestApplyPartialFailure(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2", "mx3"}, nil)
	pol := f.policy(t)
	if r := f.run(t, "apply", pol, "-auto-approve"); r.code != exitOK {
		t.Fatalf("initial apply: %+v", r)
	}
	f.settle(t)
	file := filepath.Join(f.dir, "p.mkplan")
	if r := f.run(t, "plan", pol, "-var", "note=next", "-out", file); r.code != exitOK {
		t.Fatalf("plan: %+v", r)
	}
	f.agents["mx2"].stop()
	state := filepath.Join(f.dir, "state-mx3", "agent-state.json")
	os.Remove(state)
	os.MkdirAll(filepath.Join(state, "blocker"), 0o755)
	r := f.run(t, "apply", file)
	if r.code != exitPartial || !strings.Contains(r.stdout, "mx1  applied") || !strings.Contains(r.stdout, "mx2  unreachable") ||
		!strings.Contains(r.stdout, "mx3  failed") || !strings.Contains(r.stdout, "Apply: 1 applied, 1 failed, 1 unreachable.") {
		t.Errorf("partial apply: %+v", r)
	}
	if !strings.Contains(r.stdout, strings.TrimPrefix(f.agents["mx2"].url, "http://")) {
		t.Errorf("the unreachable server's address is not named: %s", r.stdout)
	}
}

// TestDestructiveRefusal builds a backup history with deleted messages
// (SmartScan, deletions, SmartScan an hour later, on the agents' clock),
// then plans a lower item retention ten days later: the plan gives the
// numbers, apply refuses without -allow-destructive, and the protected
// server refuses even with it.
func TestDestructiveRefusal(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	f := newTestFleet(t, []string{"mx1", "vault"}, clock)
	f.extra["vault"] = "  protect = true\n"
	pol := f.policy(t)
	if r := f.run(t, "apply", pol, "-auto-approve"); r.code != exitOK {
		t.Fatalf("initial apply: %+v", r)
	}
	f.settle(t)
	scan := func() {
		t.Helper()
		for _, fa := range f.agents {
			op, err := fa.c.Start(context.Background(), api.OperationRequest{Type: "smartscan"})
			if err != nil {
				t.Fatal(err)
			}
			for op.State == api.StateRunning {
				if op, err = fa.c.Operation(context.Background(), op.ID, 5*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			if op.State != api.StateSucceeded {
				t.Fatalf("SmartScan on %s: %+v", fa.name, op)
			}
		}
	}
	scan()
	before := messageBytes(t, f.root)
	deleted, err := corpus.Delete(f.root, 0.1, 5)
	if err != nil {
		t.Fatal(err)
	}
	deletedBytes := before - messageBytes(t, f.root)
	clock.Set(clock.Now().Add(time.Hour))
	scan()
	clock.Set(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC))

	for _, n := range []string{"mx1", "vault"} {
		f.extra[n] += "  purge {\n    item_retention_days = 5\n  }\n"
	}
	pol = f.policy(t)
	r := f.run(t, "plan", pol, "-format", "json")
	p := decodePlan(t, r.stdout)
	if r.code != exitOK || p.Summary.Destructive != 2 {
		t.Fatalf("plan: %+v", r)
	}
	for _, s := range p.Servers {
		c := s.Changes[0]
		if c.Path != "purge.item_retention_days" || !c.Destructive || c.Impact == nil || c.Impact.Items != int64(deleted) || c.Impact.Bytes != deletedBytes {
			t.Errorf("%s: %+v %+v (deleted %d messages, %d bytes)", s.Name, c, c.Impact, deleted, deletedBytes)
		}
	}
	r = f.run(t, "plan", pol)
	if want := "deleted messages"; !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "become purgeable at the next purge (2026-03-14 04:00 UTC)") {
		t.Errorf("human plan lacks the numbers:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Protected (protect = true)") {
		t.Errorf("human plan does not say vault is protected:\n%s", r.stdout)
	}
	r = f.run(t, "apply", pol, "-auto-approve")
	if r.code != exitRefused || !strings.Contains(r.stdout, "mx1    refused (destructive)") || !strings.Contains(r.stdout, "-allow-destructive") {
		t.Errorf("apply without -allow-destructive: %+v", r)
	}
	r = f.run(t, "apply", pol, "-auto-approve", "-allow-destructive")
	if r.code != exitPartial || !strings.Contains(r.stdout, "mx1    applied") || !strings.Contains(r.stdout, "vault  refused (destructive)") ||
		!strings.Contains(r.stdout, "protect = true") {
		t.Errorf("apply with -allow-destructive: %+v", r)
	}
}

// messageBytes sums the sizes of the message files under a store root.
func messageBytes(t *testing.T, root string) int64 {
	t.Helper()
	n, err := corpus.MessageBytes(root)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSavedPlanSensitive: a plan file keeps no sensitive value, so apply
// takes it from the policy and refuses the servers whose document no
// longer matches the plan.
func TestSavedPlanSensitive(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2-env"}, nil)
	pol := f.policy(t)
	file := filepath.Join(f.dir, "first.mkplan")
	if r := f.run(t, "plan", pol, "-out", file); r.code != exitOK {
		t.Fatalf("plan: %+v", r)
	}
	data, _ := os.ReadFile(file)
	assertNoSecrets(t, "plan file", string(data))
	if !strings.Contains(string(data), `"token_env": "MK_TEST_TOKEN"`) || !strings.Contains(string(data), `"sensitive_paths": [`) {
		t.Errorf("plan file lacks the token reference or the sensitive paths:\n%s", data)
	}
	r := f.run(t, "apply", file, "-var", "bucket=another-bucket")
	if r.code != exitRefused || !strings.Contains(r.stdout, "not those planned") {
		t.Errorf("apply with another sensitive value: %+v", r)
	}
	if r := f.run(t, "apply", file, "-policy", filepath.Join(f.dir, "nowhere")); r.code != exitError || !strings.Contains(r.stderr, "sensitive values") {
		t.Errorf("apply without the policy: %+v", r)
	}
	r = f.run(t, "apply", file, "-format", "json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"applied": 2`) {
		t.Errorf("apply of the saved plan: %+v", r)
	}
	// The agents hold the real value; outputs never show it.
	cs, _ := f.agents["mx1"].c.Config(context.Background())
	if !strings.Contains(string(cs.Document), testSensitive) {
		t.Error("the agent did not receive the sensitive value")
	}
}
