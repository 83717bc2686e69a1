package apitest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/agent/impact"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/schema"
)

// Fake is an in-memory agent with the config API's semantics, as the
// client sees them: ETag, revision, If-Match, last_applied with its
// document, evaluations judged from the settings alone. Its zero value is
// an unconfigured agent. A test may set its fields before it uses it,
// and read them between calls; the planner's tests (reconcile) do.
type Fake struct {
	// Now is the fake's clock: updated_at, last_applied.time and
	// evaluated_at.
	Now time.Time
	// Down makes every call fail as a connection error would.
	Down error
	// Impacts, when set, are what Evaluate reports; otherwise the
	// settings alone decide (impact.Static).
	Impacts []api.Impact
	// NoEvaluate answers Evaluate with 404, as an older agent does.
	NoEvaluate bool
	// PutErr fails every PutConfig.
	PutErr error
	// BeforePut runs before a PutConfig takes effect (races).
	BeforePut func()

	mu sync.Mutex
	// Doc is the canonical live document (nil: unconfigured), ETag its
	// ETag, Rev the revision, Updated when it last changed and Applied
	// the last change a client pushed.
	Doc     []byte
	ETag    string
	Rev     int64
	Updated time.Time
	Applied *api.Applied
	// Puts counts the PutConfig calls.
	Puts int
}

// state returns the live config; the caller holds f.mu.
func (f *Fake) state() *api.ConfigState {
	return &api.ConfigState{Document: f.Doc, ETag: f.ETag, Revision: f.Rev, UpdatedAt: f.Updated, LastApplied: f.Applied}
}

// Config reads the live config, as client.Client.Config does.
func (f *Fake) Config(ctx context.Context) (*api.ConfigState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Down != nil {
		return nil, f.Down
	}
	if f.Doc == nil {
		return nil, client.ErrUnconfigured
	}
	return f.state(), nil
}

// Evaluate evaluates a candidate, as client.Client.Evaluate does.
func (f *Fake) Evaluate(ctx context.Context, doc []byte) (*api.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Down != nil {
		return nil, f.Down
	}
	if f.NoEvaluate {
		return nil, &client.APIError{Status: http.StatusNotFound, Message: "agent fake: 404 page not found"}
	}
	cand, err := schema.DecodeDocument(doc)
	if err != nil {
		return nil, &client.APIError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	ev := &api.Evaluation{LiveETag: f.ETag, CandidateETag: cand.ETag(), EvaluatedAt: f.Now, Impacts: f.Impacts}
	if f.Impacts == nil {
		ev.Impacts = []api.Impact{}
		if f.Doc != nil {
			live, _ := schema.DecodeDocument(f.Doc)
			ev.Impacts = impact.Static(live, cand, f.Now)
		}
	}
	return ev, nil
}

// PutConfig replaces the config, as client.Client.PutConfig does.
func (f *Fake) PutConfig(ctx context.Context, doc []byte, ifMatch, clientName string) (*api.ConfigState, error) {
	if f.BeforePut != nil {
		f.BeforePut()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Puts++
	if f.Down != nil {
		return nil, f.Down
	}
	if f.PutErr != nil {
		return nil, f.PutErr
	}
	d, err := schema.DecodeDocument(doc)
	if err != nil {
		return nil, &client.APIError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	if ifMatch != f.ETag {
		return nil, &client.APIError{Status: http.StatusConflict, Message: fmt.Sprintf("agent fake: If-Match %s, live ETag %s", ifMatch, f.ETag)}
	}
	if d.ETag() != f.ETag {
		f.Doc, f.ETag, f.Updated = d.Canonical(), d.ETag(), f.Now
		f.Rev++
	}
	if clientName != "" {
		f.Applied = &api.Applied{ETag: f.ETag, Time: f.Now, Client: clientName, Document: f.Doc}
	}
	return f.state(), nil
}

// Start starts an operation, as client.Client.Start does. The fake runs
// none: it refuses an unknown kind (400) and, while unconfigured, every
// kind (409), as the agent does, and answers any other start 501.
func (f *Fake) Start(ctx context.Context, req api.OperationRequest) (*api.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.Down != nil:
		return nil, f.Down
	case !slices.Contains(api.Kinds, req.Type):
		return nil, &client.APIError{Status: http.StatusBadRequest, Message: fmt.Sprintf("agent fake: unknown operation type %q", req.Type)}
	case f.Doc == nil:
		return nil, &client.APIError{Status: http.StatusConflict, Message: "agent fake: the agent is unconfigured"}
	}
	return nil, &client.APIError{Status: http.StatusNotImplemented, Message: "agent fake: runs no operations"}
}

// Operation reads an operation, as client.Client.Operation does: the
// fake has none (404).
func (f *Fake) Operation(ctx context.Context, id string, wait time.Duration) (*api.Operation, error) {
	return nil, f.noOperation(id)
}

// Cancel cancels an operation, as client.Client.Cancel does: the fake
// has none (404).
func (f *Fake) Cancel(ctx context.Context, id string) (*api.Operation, error) {
	return nil, f.noOperation(id)
}

func (f *Fake) noOperation(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Down != nil {
		return f.Down
	}
	return &client.APIError{Status: http.StatusNotFound, Message: fmt.Sprintf("agent fake: no operation %q", id)}
}

// Set replaces the config as a direct change would (no client name).
func (f *Fake) Set(doc []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := schema.DecodeDocument(doc)
	if err != nil {
		panic(err)
	}
	f.Doc, f.ETag, f.Updated = d.Canonical(), d.ETag(), f.Now
	f.Rev++
}

// Apply sets the config as mailkeep apply would have, a day before Now.
func (f *Fake) Apply(doc []byte) {
	f.Set(doc)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Applied = &api.Applied{ETag: f.ETag, Time: f.Now.Add(-24 * time.Hour), Client: "mailkeep apply (ci@runner)", Document: f.Doc}
}
