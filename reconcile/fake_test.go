package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/agent/api/apitest"
	"github.com/mailkeep/mailkeep/schema"
)

// fakeAgent is the fake agent of the conformance cases (apitest.Fake),
// which runtime/agent's TestConformance keeps true to the agent.
type fakeAgent = apitest.Fake

// fakeNow is the clock of the fake tests.
var fakeNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// fleet is a set of fake agents by server name.
type fleet map[string]*fakeAgent

func (fl fleet) dial(name string, t Target) (Agent, error) {
	a, ok := fl[name]
	if !ok {
		return nil, fmt.Errorf("no fake agent for %s", name)
	}
	return a, nil
}

func (fl fleet) dialWriter(name string, t Target) (Writer, error) {
	a, ok := fl[name]
	if !ok {
		return nil, fmt.Errorf("no fake agent for %s", name)
	}
	return a, nil
}

// loadPolicy loads the test policy.
func loadPolicy(t testing.TB, vars ...schema.VarArg) *schema.Policy {
	t.Helper()
	p, diags := schema.Load("testdata/policy", schema.LoadOptions{Vars: vars})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// docOf returns a server's document with some settings replaced.
func docOf(t testing.TB, p *schema.Policy, server string, edits map[string]any) []byte {
	t.Helper()
	s, ok := p.Server(server)
	if !ok {
		t.Fatalf("no server %s", server)
	}
	vals := flatten(schema.NewDocument(s))
	for k, v := range edits {
		if _, ok := vals[k]; !ok {
			t.Fatalf("no setting %s", k)
		}
		vals[k] = v
	}
	raw, _ := json.Marshal(nest(vals))
	d, err := schema.DecodeDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d.Canonical()
}

// testFleet returns the fakes of the test policy: "new" unconfigured,
// "same" up to date, "changed" drifted and behind the policy, "gone"
// unreachable, "vault" protected with a destructive change.
func testFleet(t testing.TB, p *schema.Policy) fleet {
	fl := fleet{"new": {Now: fakeNow}, "same": {Now: fakeNow}, "changed": {Now: fakeNow}, "vault": {Now: fakeNow},
		"gone": {Now: fakeNow, Down: errors.New("agent https://gone.example.com:7443: dial tcp: connect: connection refused")}}
	fl["same"].Apply(docOf(t, p, "same", nil))
	fl["changed"].Apply(docOf(t, p, "changed", map[string]any{
		"description":               "Before",
		"purge.item_retention_days": 30,
		"remote.bucket":             "old-bucket-secret",
		"restore.post_command":      []any{"doveadm", "force-resync", "-u", "%u"},
	}))
	fl["changed"].Set(docOf(t, p, "changed", map[string]any{
		"description":               "Edited on the agent",
		"purge.item_retention_days": 30,
		"remote.bucket":             "old-bucket-secret",
		"restore.post_command":      []any{"doveadm", "force-resync", "-u", "%u"},
	}))
	next := time.Date(2026, 1, 17, 4, 0, 0, 0, time.UTC)
	fl["changed"].Impacts = []api.Impact{{Path: "purge.item_retention_days", Destructive: true, Counted: true, Items: 12, Bytes: 345678,
		Accounts: []string{"ann@example.com", "bob@example.com"}, NextPurge: &next,
		Reason: "12 deleted messages (337.6 KiB) in 2 accounts become purgeable at the next purge (2026-01-17 04:00 UTC): deleted more than 7 days before it, they are kept 30 days today."}}
	fl["vault"].Apply(docOf(t, p, "vault", map[string]any{"smartscan.enabled": true}))
	return fl
}

// testPlan plans the test policy against the test fleet.
func testPlan(t testing.TB) (*Plan, fleet, *schema.Policy) {
	t.Helper()
	p := loadPolicy(t)
	fl := testFleet(t, p)
	pl := &Planner{Dial: fl.dial, Now: func() time.Time { return fakeNow }}
	return pl.Plan(context.Background(), p, p.Servers, "testdata/policy"), fl, p
}
