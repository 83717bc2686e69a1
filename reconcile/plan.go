package reconcile

import (
	"time"
)

// Action is what a plan does to one server.
type Action string

// The actions of a server plan.
const (
	// ActionCreate gives an unconfigured agent its first config.
	ActionCreate Action = "create"
	// ActionUpdate replaces a live config that differs from the policy.
	ActionUpdate Action = "update"
	// ActionNoOp leaves a server whose live config matches the policy.
	ActionNoOp Action = "no-op"
	// ActionUnreachable marks a server whose live config could not be read;
	// Reason says why.
	ActionUnreachable Action = "unreachable"
)

// Plan is what apply would do to every selected server of a policy.
type Plan struct {
	// CreatedAt is when the plan was made.
	CreatedAt time.Time
	// Policy is the policy path the plan was made from, as given.
	Policy string
	// Servers are the server plans, sorted by name.
	Servers []*ServerPlan
}

// ServerPlan is the plan of one server.
type ServerPlan struct {
	Name   string
	Target Target
	Action Action
	// Reason says why the server is unreachable.
	Reason string
	// Live is the config read from the agent; nil for create and
	// unreachable.
	Live *Live
	// Desired is the canonical config document the policy gives the server
	// (sensitive values included: it is what apply sends, never printed).
	// Nil in a plan loaded from a file until it is resolved.
	Desired []byte
	// DesiredETag is the SHA-256 of Desired.
	DesiredETag string
	// Changes are the settings that differ, in settings order; every
	// setting for a create.
	Changes []Change
	// Drift is set when the live config moved since mailkeep last applied
	// it.
	Drift *Drift
	// Notes are warnings about the plan of this server (impacts that could
	// not be measured, impacts on settings without a change).
	Notes []string
	// Sensitivity says which values must never be shown.
	Sensitivity *Sensitivity
	// desiredValues are the settings of Desired as a loaded plan file holds
	// them, sensitive ones redacted.
	desiredValues map[string]any
	// Blocked, when set, says why apply must refuse this server even
	// though the plan has it (a saved plan that no longer matches the
	// policy's sensitive values).
	Blocked string
}

// Live is a server's config as its agent reported it at plan time.
type Live struct {
	ETag     string
	Revision int64
	// Values are the live document's settings by path, defaults filled in,
	// sensitive values redacted: they are shown when apply finds that the
	// live config moved since the plan.
	Values map[string]any
	// LastApplied is the agent's record of the last mailkeep apply; nil
	// when none.
	LastApplied *LastApplied
}

// LastApplied is the agent's record of the last change made by apply.
type LastApplied struct {
	ETag   string
	Time   time.Time
	Client string
}

// Drift is what changed on an agent since mailkeep last applied its config.
type Drift struct {
	// Since is the last apply the drift is measured from; nil when the
	// agent was never configured by mailkeep apply.
	Since *LastApplied
	// Changes go from the last applied document to the live one; empty
	// when the agent does not keep the applied document (Note says so).
	Changes []Change
	Note    string
}

// Change is one setting that differs between two documents.
type Change struct {
	// Path is the setting's dotted path, such as purge.item_retention_days.
	Path string
	// Before and After are JSON values (string, bool, int64, float64 or
	// []any), Redacted where sensitive; Before is nil for a create.
	Before, After any
	// Sensitive is true when the values derive from a sensitive variable;
	// they are then Redacted.
	Sensitive bool
	// Inactive is true for settings this version stores but does not act
	// on yet.
	Inactive bool
	// Destructive is true when the change can lose backup data or stop
	// backing data up; apply refuses it without -allow-destructive.
	Destructive bool
	// Reason says what the change does to the backup.
	Reason string
	// Impact holds the numbers the agent measured; nil when none.
	Impact *Impact
}

// Impact holds what an agent measured for one change.
type Impact struct {
	// Counted is true when the numbers were measured in the repository.
	Counted bool
	// Items and Bytes are the messages affected.
	Items, Bytes int64
	// Accounts are the affected accounts, sorted.
	Accounts []string
	// NextPurge is when the next purge runs, for retention changes.
	NextPurge *time.Time
}

// Redacted replaces sensitive values in every output.
const Redacted = "(sensitive)"

// Summary counts a plan's servers by action and its notable changes.
type Summary struct {
	Servers, Create, Update, NoOp, Unreachable int
	// Changes counts changed settings over servers to create or update;
	// Destructive those that are destructive.
	Changes, Destructive int
	// Drifted counts servers whose live config moved since the last apply.
	Drifted int
}

// Summary counts the plan.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, sp := range p.Servers {
		s.Servers++
		switch sp.Action {
		case ActionCreate:
			s.Create++
		case ActionUpdate:
			s.Update++
		case ActionNoOp:
			s.NoOp++
		case ActionUnreachable:
			s.Unreachable++
		}
		if sp.Drift != nil {
			s.Drifted++
		}
		if sp.Action == ActionCreate || sp.Action == ActionUpdate {
			s.Changes += len(sp.Changes)
			for _, c := range sp.Changes {
				if c.Destructive {
					s.Destructive++
				}
			}
		}
	}
	return s
}

// HasChanges reports whether applying the plan would change any server.
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	return s.Create+s.Update > 0
}

// Destructive returns the destructive changes of a server plan.
func (sp *ServerPlan) Destructive() []Change {
	var out []Change
	for _, c := range sp.Changes {
		if c.Destructive {
			out = append(out, c)
		}
	}
	return out
}
