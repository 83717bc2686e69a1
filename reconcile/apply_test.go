package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func applier(fl fleet, allow bool) *Applier {
	return &Applier{Dial: fl.dialWriter, AllowDestructive: allow, ClientName: "mailkeep apply (test@host)"}
}

func results(r *Report) map[string]ServerResult {
	m := map[string]ServerResult{}
	for _, s := range r.Servers {
		m[s.Name] = s
	}
	return m
}

func TestApplyOutcomes(t *testing.T) {
	plan, fl, _ := testPlan(t)
	rep := applier(fl, false).Apply(context.Background(), plan)
	got := results(rep)
	want := map[string]Outcome{"new": OutcomeApplied, "same": OutcomeUnchanged, "changed": OutcomeDestructive,
		"vault": OutcomeDestructive, "gone": OutcomeUnreachable}
	for name, o := range want {
		if got[name].Outcome != o {
			t.Errorf("%s: %s (%s), want %s", name, got[name].Outcome, got[name].Detail, o)
		}
	}
	if !strings.Contains(got["changed"].Detail, "-allow-destructive") || len(got["changed"].Refused) != 1 {
		t.Errorf("changed: %+v", got["changed"])
	}
	if rep.Result() != ResultPartial {
		t.Errorf("result %d, want partial", rep.Result())
	}
	if fl["new"].Applied == nil || fl["new"].Applied.Client != "mailkeep apply (test@host)" {
		t.Errorf("last_applied not recorded: %+v", fl["new"].Applied)
	}

	// With -allow-destructive: the protected server is still refused.
	rep = applier(fl, true).Apply(context.Background(), plan)
	got = results(rep)
	if got["changed"].Outcome != OutcomeApplied || got["new"].Outcome != OutcomeUnchanged {
		t.Errorf("second apply: changed %+v, new %+v", got["changed"], got["new"])
	}
	if v := got["vault"]; v.Outcome != OutcomeDestructive || !strings.Contains(v.Detail, "protect = true") {
		t.Errorf("vault: %+v", v)
	}

	// Once more: a no-op.
	puts := fl["changed"].Puts
	rep = applier(fl, true).Apply(context.Background(), plan)
	if got := results(rep)["changed"]; got.Outcome != OutcomeUnchanged || fl["changed"].Puts != puts {
		t.Errorf("re-apply: %+v, %d puts", got, fl["changed"].Puts-puts)
	}
}

func TestApplyStale(t *testing.T) {
	plan, fl, p := testPlan(t)
	fl["same"].Set(docOf(t, p, "same", map[string]any{"description": "moved", "purge.account_retention_days": 90}))
	// The race: another apply writes "new" between our read and our write.
	fl["new"].BeforePut = func() {
		fl["new"].BeforePut = nil
		fl["new"].Apply(docOf(t, p, "new", map[string]any{"description": "the other apply"}))
	}
	rep := applier(fl, true).Apply(context.Background(), plan)
	got := results(rep)
	s := got["same"]
	if s.Outcome != OutcomeStale || !strings.Contains(s.Detail, "changed since the plan") || len(s.Since) != 2 || s.Since[0].After != "moved" {
		t.Errorf("same: %+v", s)
	}
	n := got["new"]
	if n.Outcome != OutcomeStale || !strings.Contains(n.Detail, "another change reached the agent first") || !strings.Contains(n.Detail, "applied by mailkeep apply (ci@runner)") {
		t.Errorf("new: %+v", n)
	}
}

func TestApplyResult(t *testing.T) {
	for _, tc := range []struct {
		outcomes []Outcome
		want     Result
	}{
		{[]Outcome{OutcomeApplied, OutcomeUnchanged}, ResultOK},
		{[]Outcome{OutcomeUnchanged, OutcomeStale}, ResultRefused},
		{[]Outcome{OutcomeDestructive, OutcomeStale}, ResultRefused},
		{[]Outcome{OutcomeApplied, OutcomeStale}, ResultPartial},
		{[]Outcome{OutcomeApplied, OutcomeFailed}, ResultPartial},
		{[]Outcome{OutcomeApplied, OutcomeUnreachable}, ResultPartial},
		{[]Outcome{OutcomeStale, OutcomeFailed}, ResultFailed},
		{[]Outcome{OutcomeUnreachable}, ResultFailed},
	} {
		r := &Report{}
		for _, o := range tc.outcomes {
			r.Servers = append(r.Servers, ServerResult{Outcome: o})
		}
		if got := r.Result(); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.outcomes, got, tc.want)
		}
	}
}

func TestApplyFailure(t *testing.T) {
	plan, fl, _ := testPlan(t)
	fl["new"].PutErr = errors.New("agent https://new.example.com:7443: disk full")
	rep := applier(fl, false).Apply(context.Background(), plan)
	if got := results(rep)["new"]; got.Outcome != OutcomeFailed || !strings.Contains(got.Detail, "disk full") {
		t.Errorf("new: %+v", got)
	}
	if rep.Result() != ResultFailed {
		t.Errorf("result %d", rep.Result())
	}
}
