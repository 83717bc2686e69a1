package reconcile

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/testkit"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// golden compares got with testdata/golden/NAME, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), []byte(got))
}

func byName(p *Plan) map[string]*ServerPlan {
	m := map[string]*ServerPlan{}
	for _, sp := range p.Servers {
		m[sp.Name] = sp
	}
	return m
}

func TestPlanActions(t *testing.T) {
	plan, _, _ := testPlan(t)
	got := byName(plan)
	want := map[string]Action{"new": ActionCreate, "same": ActionNoOp, "changed": ActionUpdate, "gone": ActionUnreachable, "vault": ActionUpdate}
	for name, a := range want {
		if got[name].Action != a {
			t.Errorf("%s: action %s, want %s (%s)", name, got[name].Action, a, got[name].Reason)
		}
	}
	if n := len(got["new"].Changes); n != len(schema.Settings()) {
		t.Errorf("create lists %d settings, want every one (%d)", n, len(schema.Settings()))
	}
	if !strings.Contains(got["gone"].Reason, "connection refused") {
		t.Errorf("unreachable reason %q", got["gone"].Reason)
	}
	var paths []string
	for _, c := range got["changed"].Changes {
		paths = append(paths, c.Path)
	}
	if strings.Join(paths, " ") != "description purge.item_retention_days restore.post_command remote.bucket" {
		t.Errorf("changed: changes on %v", paths)
	}
	if b := got["changed"].Changes[3]; b.Before != Redacted || b.After != Redacted || !b.Sensitive {
		t.Errorf("sensitive change shown: %+v", b)
	}
	c := got["changed"].Changes[1]
	if !c.Destructive || c.Impact == nil || c.Impact.Items != 12 || len(c.Impact.Accounts) != 2 || !strings.Contains(c.Reason, "12 deleted messages") {
		t.Errorf("retention change: %+v %+v", c, c.Impact)
	}
	v := got["vault"].Changes
	if len(v) != 1 || v[0].Path != "smartscan.enabled" || !v[0].Destructive || !strings.Contains(v[0].Reason, "SmartScans stop") {
		t.Errorf("vault: %+v", v)
	}
	s := plan.Summary()
	if s.Create != 1 || s.Update != 2 || s.NoOp != 1 || s.Unreachable != 1 || s.Destructive != 2 || s.Drifted != 1 {
		t.Errorf("summary %+v", s)
	}
}

// TestPlanFillsDefaults checks that a live document written before some
// settings existed (they are absent) is not a change.
func TestPlanFillsDefaults(t *testing.T) {
	p := loadPolicy(t)
	s, _ := p.Server("same")
	full := schema.NewDocument(s).Map()
	delete(full, "legal_hold")
	delete(full["index"].(map[string]any), "max_size_mb")
	delete(full, "description")
	old, _ := marshalCanonical(full)
	f := &fakeAgent{Now: fakeNow, Doc: old, ETag: "older-etag", Rev: 4}
	pl := &Planner{Dial: fleet{"same": f}.dial}
	plan := pl.Plan(context.Background(), p, []*schema.Server{s}, "x")
	if sp := plan.Servers[0]; sp.Action != ActionNoOp {
		t.Fatalf("action %s, changes %+v", sp.Action, sp.Changes)
	}
}

func marshalCanonical(m map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	err := writeJSON(&buf, m)
	return buf.Bytes(), err
}

func TestDrift(t *testing.T) {
	plan, fl, p := testPlan(t)
	d := byName(plan)["changed"].Drift
	if d == nil || d.Since == nil || d.Since.Client != "mailkeep apply (ci@runner)" {
		t.Fatalf("drift %+v", d)
	}
	if len(d.Changes) != 1 || d.Changes[0].Path != "description" || d.Changes[0].Before != "Before" || d.Changes[0].After != "Edited on the agent" {
		t.Errorf("drift changes %+v", d.Changes)
	}
	// A config set directly, never applied: drift without a baseline.
	fl["same"].Applied = nil
	fl["same"].Set(docOf(t, p, "same", map[string]any{"description": "by hand"}))
	pl := &Planner{Dial: fl.dial}
	s, _ := p.Server("same")
	sp := pl.Plan(context.Background(), p, []*schema.Server{s}, "x").Servers[0]
	if sp.Drift == nil || sp.Drift.Since != nil || !strings.Contains(sp.Drift.Note, "No mailkeep apply") {
		t.Errorf("drift without last_applied: %+v", sp.Drift)
	}
	// An agent that keeps no applied document: drift noted, not shown.
	fl["same"].Applied = &api.Applied{ETag: "other", Client: "old"}
	sp = pl.Plan(context.Background(), p, []*schema.Server{s}, "x").Servers[0]
	if sp.Drift == nil || len(sp.Drift.Changes) != 0 || !strings.Contains(sp.Drift.Note, "does not keep") {
		t.Errorf("drift without document: %+v", sp.Drift)
	}
}

// TestImpactsWithoutEvaluate checks that an agent without the evaluate
// endpoint still gets its destructive changes flagged, with a note.
func TestImpactsWithoutEvaluate(t *testing.T) {
	p := loadPolicy(t)
	fl := testFleet(t, p)
	fl["changed"].NoEvaluate = true
	pl := &Planner{Dial: fl.dial, Now: func() time.Time { return fakeNow }}
	s, _ := p.Server("changed")
	sp := pl.Plan(context.Background(), p, []*schema.Server{s}, "x").Servers[0]
	c := sp.Changes[changeIndex(sp.Changes, "purge.item_retention_days")]
	if !c.Destructive || c.Impact == nil || c.Impact.Counted || !strings.Contains(c.Reason, "kept 7 days instead of 30 days") {
		t.Errorf("static impact: %+v", c)
	}
	if len(sp.Notes) != 1 || !strings.Contains(sp.Notes[0], "older than this mailkeep") {
		t.Errorf("notes %q", sp.Notes)
	}
}

func TestSelect(t *testing.T) {
	p := loadPolicy(t)
	names := func(ss []*schema.Server) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		targets, excludes []string
		want, err         string
	}{
		{nil, nil, "changed gone new same vault", ""},
		{[]string{"*a*"}, nil, "changed same vault", ""},
		{[]string{"*a*"}, []string{"v*"}, "changed same", ""},
		{nil, []string{"gone", "new"}, "changed same vault", ""},
		{[]string{"mx*"}, nil, "", `-target "mx*" matches no server`},
		{[]string{"[x"}, nil, "", "not a valid glob"},
	} {
		got, err := Select(p.Servers, tc.targets, tc.excludes)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v %v: error %v, want %q", tc.targets, tc.excludes, err, tc.err)
		case tc.err == "" && (err != nil || names(got) != tc.want):
			t.Errorf("%v %v: %q %v, want %q", tc.targets, tc.excludes, names(got), err, tc.want)
		}
	}
}

func TestParallelism(t *testing.T) {
	p := loadPolicy(t)
	fl := testFleet(t, p)
	var running, peak int
	mu := make(chan struct{}, 1)
	pl := &Planner{Parallelism: 2, Dial: func(name string, tg Target) (Agent, error) {
		mu <- struct{}{}
		running++
		peak = max(peak, running)
		<-mu
		time.Sleep(20 * time.Millisecond)
		mu <- struct{}{}
		running--
		<-mu
		return fl.dial(name, tg)
	}}
	pl.Plan(context.Background(), p, p.Servers, "x")
	if peak != 2 {
		t.Errorf("peak parallelism %d, want 2", peak)
	}
}
