package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/schema"
)

// Writer is what apply asks of a server's agent. *client.Client satisfies
// it. Config returns client.ErrUnconfigured for an agent without config;
// PutConfig returns an error for which client.Conflict is true when
// ifMatch is not the live ETag.
type Writer interface {
	Config(ctx context.Context) (*api.ConfigState, error)
	PutConfig(ctx context.Context, doc []byte, ifMatch, clientName string) (*api.ConfigState, error)
}

// Applier applies plans.
type Applier struct {
	// Dial returns the agent of a server.
	Dial func(name string, t Target) (Writer, error)
	// Parallelism is how many servers are applied at once
	// (DefaultParallelism when not positive).
	Parallelism int
	// Timeout bounds the time spent on one server (DefaultTimeout when not
	// positive).
	Timeout time.Duration
	// AllowDestructive lets destructive changes through, except on servers
	// with protect = true.
	AllowDestructive bool
	// ClientName is recorded by each agent as last_applied.client, e.g.
	// "mailkeep apply (ann@laptop)".
	ClientName string
}

// Outcome is what apply did to one server.
type Outcome string

// The outcomes of apply.
const (
	OutcomeApplied     Outcome = "applied"
	OutcomeUnchanged   Outcome = "unchanged"
	OutcomeStale       Outcome = "refused (stale)"
	OutcomeDestructive Outcome = "refused (destructive)"
	OutcomeFailed      Outcome = "failed"
	OutcomeUnreachable Outcome = "unreachable"
)

// ServerResult is the outcome of apply on one server.
type ServerResult struct {
	Name    string
	Outcome Outcome
	// Detail says what happened, in a sentence.
	Detail string
	// Revision is the live revision after apply (applied, unchanged).
	Revision int64
	// Since lists what changed on the agent since the plan (stale).
	Since []Change
	// Refused lists the destructive changes that were refused.
	Refused []Change
}

// Report is the outcome of an apply, server by server, in plan order.
type Report struct {
	Servers []ServerResult
}

// Result summarises a report for the exit code.
type Result int

// The results of an apply.
const (
	// ResultOK: every server was applied or already up to date.
	ResultOK Result = iota
	// ResultRefused: some servers were refused, none applied, none failed.
	ResultRefused
	// ResultPartial: some servers were applied, others were not.
	ResultPartial
	// ResultFailed: nothing was applied and some servers failed or were
	// unreachable.
	ResultFailed
)

// Count returns how many servers had an outcome.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, s := range r.Servers {
		if s.Outcome == o {
			n++
		}
	}
	return n
}

// Result summarises the report.
func (r *Report) Result() Result {
	applied := r.Count(OutcomeApplied)
	refused := r.Count(OutcomeStale) + r.Count(OutcomeDestructive)
	failed := r.Count(OutcomeFailed) + r.Count(OutcomeUnreachable)
	switch {
	case refused+failed == 0:
		return ResultOK
	case applied > 0:
		return ResultPartial
	case failed == 0:
		return ResultRefused
	}
	return ResultFailed
}

// Apply applies a plan, servers in parallel. Each server is written only
// if its live config is still the one planned (If-Match on the ETag read
// at plan time); a server already holding the planned document is
// unchanged, so applying the same plan twice is harmless.
func (a *Applier) Apply(ctx context.Context, p *Plan) *Report {
	rep := &Report{Servers: make([]ServerResult, len(p.Servers))}
	Parallel(len(p.Servers), a.Parallelism, func(i int) {
		rep.Servers[i] = a.applyServer(ctx, p.Servers[i])
		rep.Servers[i].Name = p.Servers[i].Name
	})
	return rep
}

// applyServer applies one server's plan.
func (a *Applier) applyServer(ctx context.Context, sp *ServerPlan) ServerResult {
	switch {
	case sp.Action == ActionUnreachable:
		return ServerResult{Outcome: OutcomeUnreachable, Detail: "unreachable at plan time: " + sp.Reason}
	case sp.Blocked != "":
		return ServerResult{Outcome: OutcomeStale, Detail: sp.Blocked}
	case sp.Desired == nil:
		return ServerResult{Outcome: OutcomeFailed, Detail: "the plan holds no document for this server"}
	}
	w, err := a.Dial(sp.Name, sp.Target)
	if err != nil {
		return ServerResult{Outcome: OutcomeUnreachable, Detail: sp.Sensitivity.Scrub(err.Error())}
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cs, err := w.Config(ctx)
	if err != nil && !errors.Is(err, client.ErrUnconfigured) {
		return ServerResult{Outcome: OutcomeUnreachable, Detail: sp.Sensitivity.Scrub(err.Error())}
	}
	planned := ""
	if sp.Live != nil {
		planned = sp.Live.ETag
	}
	switch {
	case cs != nil && cs.ETag == sp.DesiredETag:
		return ServerResult{Outcome: OutcomeUnchanged, Revision: cs.Revision,
			Detail: fmt.Sprintf("the live config already is the planned one (revision %d)", cs.Revision)}
	case cs == nil && planned != "":
		return ServerResult{Outcome: OutcomeStale, Detail: "the agent lost its config since the plan (it is unconfigured now); plan again"}
	case cs != nil && cs.ETag != planned:
		return a.stale(sp, cs, "the live config changed since the plan")
	}
	if d := sp.Destructive(); len(d) > 0 {
		paths := changePaths(d)
		switch {
		case sp.Target.Protect:
			return ServerResult{Outcome: OutcomeDestructive, Refused: d,
				Detail: fmt.Sprintf("the server has protect = true, which refuses destructive changes even with -allow-destructive (%s)", paths)}
		case !a.AllowDestructive:
			return ServerResult{Outcome: OutcomeDestructive, Refused: d,
				Detail: fmt.Sprintf("%s refused without -allow-destructive (%s)", plural(len(d), "destructive change", "destructive changes"), paths)}
		}
	}
	after, err := w.PutConfig(ctx, sp.Desired, planned, a.ClientName)
	switch {
	case client.Conflict(err):
		now, gerr := w.Config(ctx)
		if gerr != nil {
			return ServerResult{Outcome: OutcomeStale, Detail: "another change reached the agent first: " + sp.Sensitivity.Scrub(err.Error())}
		}
		if now.ETag == sp.DesiredETag {
			return ServerResult{Outcome: OutcomeUnchanged, Revision: now.Revision,
				Detail: fmt.Sprintf("another apply of the same document reached the agent first (revision %d)", now.Revision)}
		}
		return a.stale(sp, now, "another change reached the agent first")
	case err != nil:
		return ServerResult{Outcome: OutcomeFailed, Detail: sp.Sensitivity.Scrub(err.Error())}
	}
	return ServerResult{Outcome: OutcomeApplied, Revision: after.Revision, Detail: fmt.Sprintf("revision %d", after.Revision)}
}

// stale refuses a server whose live config moved since the plan and says
// what changed.
func (a *Applier) stale(sp *ServerPlan, cs *api.ConfigState, why string) ServerResult {
	res := ServerResult{Outcome: OutcomeStale}
	from := "unconfigured"
	if sp.Live != nil {
		from = fmt.Sprintf("revision %d", sp.Live.Revision)
	}
	res.Detail = fmt.Sprintf("%s (%s at plan time, revision %d now", why, from, cs.Revision)
	if la := cs.LastApplied; la != nil && (sp.Live == nil || sp.Live.LastApplied == nil || la.ETag != sp.Live.LastApplied.ETag) {
		res.Detail += fmt.Sprintf(", applied by %s at %s", la.Client, formatTime(la.Time))
	}
	res.Detail += "); plan again"
	if sp.Live == nil || sp.Live.Values == nil {
		return res
	}
	doc, err := schema.DecodeDocument(cs.Document)
	if err != nil {
		res.Detail += "; the live config cannot be read: " + sp.Sensitivity.Scrub(err.Error())
		return res
	}
	res.Since = diffValues(sp.Live.Values, redactValues(flatten(doc), sp.Sensitivity), sp.Sensitivity)
	return res
}

func changePaths(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return strings.Join(out, ", ")
}
