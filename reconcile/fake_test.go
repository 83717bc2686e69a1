package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/impact"
	"github.com/mailkeep/mailkeep/schema"
)

// fakeAgent is an in-memory agent with the config API's semantics: ETag,
// revision, If-Match, last_applied with its document.
type fakeAgent struct {
	mu      sync.Mutex
	doc     []byte
	etag    string
	rev     int64
	applied *api.Applied
	// down makes every call fail as a connection error would.
	down error
	// impacts, when set, are what Evaluate reports; otherwise the
	// settings alone decide (impact.Static).
	impacts []api.Impact
	// noEvaluate answers Evaluate with 404, as an older agent does.
	noEvaluate bool
	// putErr fails every PutConfig.
	putErr error
	// beforePut runs before a PutConfig takes effect (races).
	beforePut func()
	puts      int
}

// fakeNow is the clock of the fake tests.
var fakeNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func (f *fakeAgent) Config(ctx context.Context) (*api.ConfigState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	if f.doc == nil {
		return nil, client.ErrUnconfigured
	}
	return &api.ConfigState{Document: f.doc, ETag: f.etag, Revision: f.rev, UpdatedAt: fakeNow, LastApplied: f.applied}, nil
}

func (f *fakeAgent) Evaluate(ctx context.Context, doc []byte) (*api.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	if f.noEvaluate {
		return nil, &client.APIError{Status: http.StatusNotFound, Message: "agent fake: 404 page not found"}
	}
	cand, err := schema.DecodeDocument(doc)
	if err != nil {
		return nil, &client.APIError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	ev := &api.Evaluation{LiveETag: f.etag, CandidateETag: cand.ETag(), EvaluatedAt: fakeNow, Impacts: f.impacts}
	if f.impacts == nil && f.doc != nil {
		live, _ := schema.DecodeDocument(f.doc)
		ev.Impacts = impact.Static(live, cand, fakeNow)
	}
	return ev, nil
}

func (f *fakeAgent) PutConfig(ctx context.Context, doc []byte, ifMatch, clientName string) (*api.ConfigState, error) {
	if f.beforePut != nil {
		f.beforePut()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.down != nil {
		return nil, f.down
	}
	if f.putErr != nil {
		return nil, f.putErr
	}
	if ifMatch != f.etag {
		return nil, &client.APIError{Status: http.StatusConflict, Message: fmt.Sprintf("agent fake: If-Match %s, live ETag %s", ifMatch, f.etag)}
	}
	d, err := schema.DecodeDocument(doc)
	if err != nil {
		return nil, &client.APIError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	if d.ETag() != f.etag {
		f.doc, f.etag = d.Canonical(), d.ETag()
		f.rev++
	}
	if clientName != "" {
		f.applied = &api.Applied{ETag: f.etag, Time: fakeNow, Client: clientName, Document: f.doc}
	}
	return &api.ConfigState{Document: f.doc, ETag: f.etag, Revision: f.rev, LastApplied: f.applied}, nil
}

// set replaces the config as a direct change would (no client name).
func (f *fakeAgent) set(doc []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := schema.DecodeDocument(doc)
	if err != nil {
		panic(err)
	}
	f.doc, f.etag = d.Canonical(), d.ETag()
	f.rev++
}

// apply sets the config as mailkeep apply would.
func (f *fakeAgent) apply(doc []byte) {
	f.set(doc)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = &api.Applied{ETag: f.etag, Time: fakeNow.Add(-24 * time.Hour), Client: "mailkeep apply (ci@runner)", Document: f.doc}
}

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
	fl := fleet{"new": {}, "same": {}, "changed": {}, "vault": {},
		"gone": {down: errors.New("agent https://gone.example.com:7443: dial tcp: connect: connection refused")}}
	fl["same"].apply(docOf(t, p, "same", nil))
	fl["changed"].apply(docOf(t, p, "changed", map[string]any{
		"description":               "Before",
		"purge.item_retention_days": 30,
		"remote.bucket":             "old-bucket-secret",
		"restore.post_command":      []any{"doveadm", "force-resync", "-u", "%u"},
	}))
	fl["changed"].set(docOf(t, p, "changed", map[string]any{
		"description":               "Edited on the agent",
		"purge.item_retention_days": 30,
		"remote.bucket":             "old-bucket-secret",
		"restore.post_command":      []any{"doveadm", "force-resync", "-u", "%u"},
	}))
	next := time.Date(2026, 1, 17, 4, 0, 0, 0, time.UTC)
	fl["changed"].impacts = []api.Impact{{Path: "purge.item_retention_days", Destructive: true, Counted: true, Items: 12, Bytes: 345678,
		Accounts: []string{"ann@example.com", "bob@example.com"}, NextPurge: &next,
		Reason: "12 deleted messages (337.6 KiB) in 2 accounts become purgeable at the next purge (2026-01-17 04:00 UTC): deleted more than 7 days before it, they are kept 30 days today."}}
	fl["vault"].apply(docOf(t, p, "vault", map[string]any{"smartscan.enabled": true}))
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
