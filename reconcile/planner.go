package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/agent/impact"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/schema"
)

// Agent is what the planner asks of a server's agent. *client.Client
// satisfies it. Config returns client.ErrUnconfigured for an agent without
// config.
type Agent interface {
	Config(ctx context.Context) (*api.ConfigState, error)
	Evaluate(ctx context.Context, doc []byte) (*api.Evaluation, error)
}

// DefaultTimeout bounds the time spent on one server by plan and apply.
const DefaultTimeout = 30 * time.Second

// Planner builds plans by asking each server's agent for its live config
// and, for updates, for the impact of the change.
type Planner struct {
	// Dial returns the agent of a server.
	Dial func(name string, t Target) (Agent, error)
	// Parallelism is how many agents are contacted at once
	// (DefaultParallelism when not positive).
	Parallelism int
	// Timeout bounds the time spent on one server (DefaultTimeout when not
	// positive).
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Plan plans the given servers of a policy (all of them, or those chosen
// with Select). policyPath is recorded in the plan. A server that cannot be
// reached is planned as unreachable; the others are planned all the same.
func (p *Planner) Plan(ctx context.Context, pol *schema.Policy, servers []*schema.Server, policyPath string) *Plan {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	plan := &Plan{CreatedAt: now().UTC(), Policy: policyPath, Servers: make([]*ServerPlan, len(servers))}
	secrets := PolicySecrets(pol)
	Parallel(len(servers), p.Parallelism, func(i int) {
		plan.Servers[i] = p.planServer(ctx, servers[i], secrets, now)
	})
	return plan
}

// planServer plans one server.
func (p *Planner) planServer(ctx context.Context, s *schema.Server, secrets []string, now func() time.Time) *ServerPlan {
	doc := schema.NewDocument(s)
	sp := &ServerPlan{Name: s.Name, Target: TargetOf(s), Sensitivity: NewSensitivity(s, secrets),
		Desired: doc.Canonical(), DesiredETag: doc.ETag()}
	desired := flatten(doc)
	ag, err := p.Dial(s.Name, sp.Target)
	if err != nil {
		sp.unreachable(err)
		return sp
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cs, err := ag.Config(ctx)
	switch {
	case errors.Is(err, client.ErrUnconfigured):
		sp.Action = ActionCreate
		sp.Changes = diffValues(nil, desired, sp.Sensitivity)
		return sp
	case err != nil:
		sp.unreachable(err)
		return sp
	}
	liveDoc, err := schema.DecodeDocument(cs.Document)
	if err != nil {
		sp.unreachable(fmt.Errorf("the live config of agent %s cannot be read: %w", sp.Target.Shown("address"), err))
		return sp
	}
	live := flatten(liveDoc)
	sp.Live = &Live{ETag: cs.ETag, Revision: cs.Revision, Values: redactValues(live, sp.Sensitivity)}
	if la := cs.LastApplied; la != nil {
		sp.Live.LastApplied = &LastApplied{ETag: la.ETag, Time: la.Time, Client: la.Client}
	}
	sp.Changes = diffValues(live, desired, sp.Sensitivity)
	if len(sp.Changes) == 0 {
		sp.Action = ActionNoOp
		return sp
	}
	sp.Action = ActionUpdate
	sp.Drift = drift(cs, live, sp.Sensitivity)
	p.evaluate(ctx, ag, sp, cs.ETag, liveDoc, doc, now)
	return sp
}

// unreachable marks a server plan unreachable with the reason, scrubbed of
// sensitive values.
func (sp *ServerPlan) unreachable(err error) {
	sp.Action = ActionUnreachable
	sp.Reason = sp.Sensitivity.Scrub(err.Error())
}

// drift returns what changed on the agent since mailkeep last applied its
// config, or nil when nothing did.
func drift(cs *api.ConfigState, live map[string]any, sens *Sensitivity) *Drift {
	la := cs.LastApplied
	if la == nil {
		return &Drift{Note: "No mailkeep apply is recorded on the agent: its config was set another way (directly through its API)."}
	}
	if la.ETag == cs.ETag {
		return nil
	}
	d := &Drift{Since: &LastApplied{ETag: la.ETag, Time: la.Time, Client: la.Client}}
	if len(la.Document) == 0 {
		d.Note = "The agent does not keep the document it was last applied (it is older than this mailkeep), so what changed is not shown."
		return d
	}
	before, err := schema.DecodeDocument(la.Document)
	if err != nil {
		d.Note = "The last applied document cannot be read: " + sens.Scrub(err.Error())
		return d
	}
	d.Changes = diffValues(flatten(before), live, sens)
	if len(d.Changes) == 0 {
		return nil // the documents differ only by defaults this mailkeep fills in
	}
	return d
}

// evaluate asks the agent for the impact of an update and marks the
// changes destructive with their reasons. When the agent cannot say, the
// settings alone decide what is destructive.
func (p *Planner) evaluate(ctx context.Context, ag Agent, sp *ServerPlan, liveETag string, liveDoc, doc *schema.Document, now func() time.Time) {
	ev, err := ag.Evaluate(ctx, sp.Desired)
	var imps []api.Impact
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			sp.Notes = append(sp.Notes, "Impacts not measured: the agent does not evaluate configs (it is older than this mailkeep); destructive changes are judged from the settings alone.")
		} else {
			sp.Notes = append(sp.Notes, "Impacts not measured: "+sp.Sensitivity.Scrub(err.Error())+"; destructive changes are judged from the settings alone.")
		}
		imps = impact.Static(liveDoc, doc, now())
	} else {
		imps = ev.Impacts
		if ev.Note != "" {
			sp.Notes = append(sp.Notes, sp.Sensitivity.Scrub(ev.Note))
		}
		if ev.LiveETag != liveETag {
			sp.Notes = append(sp.Notes, "The live config changed while planning; plan again before applying.")
		}
	}
	attachImpacts(sp, imps)
}

// attachImpacts sets the destructive flag, reason and numbers of each
// change from the impacts reported on its path.
func attachImpacts(sp *ServerPlan, imps []api.Impact) {
	for _, imp := range imps {
		i := changeIndex(sp.Changes, imp.Path)
		if i < 0 {
			if imp.Destructive {
				sp.Notes = append(sp.Notes, imp.Path+": "+sp.Sensitivity.Scrub(imp.Reason))
			}
			continue
		}
		c := &sp.Changes[i]
		c.Destructive = imp.Destructive
		c.Reason = sp.Sensitivity.Scrub(imp.Reason)
		if imp.Counted || imp.NextPurge != nil {
			c.Impact = &Impact{Counted: imp.Counted, Items: imp.Items, Bytes: imp.Bytes, Accounts: imp.Accounts, NextPurge: imp.NextPurge}
		}
	}
}

func changeIndex(changes []Change, path string) int {
	for i := range changes {
		if changes[i].Path == path {
			return i
		}
	}
	return -1
}
