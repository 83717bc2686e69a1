package reconcile

import (
	"encoding/json"
	"io"
	"time"
)

// JSONFormatVersion is the version of the JSON plan format (docs/PLAN.md).
// A reader accepts every 1.x: minor versions only add fields.
const JSONFormatVersion = "1.0"

// jsonPlan is the JSON wire form of a plan.
type jsonPlan struct {
	FormatVersion string       `json:"format_version"`
	CreatedAt     time.Time    `json:"created_at"`
	Policy        string       `json:"policy"`
	Summary       jsonSummary  `json:"summary"`
	Servers       []jsonServer `json:"servers"`
}

type jsonSummary struct {
	Servers     int `json:"servers"`
	Create      int `json:"create"`
	Update      int `json:"update"`
	NoOp        int `json:"no_op"`
	Unreachable int `json:"unreachable"`
	Changes     int `json:"changes"`
	Destructive int `json:"destructive"`
	Drifted     int `json:"drifted"`
}

type jsonServer struct {
	Name        string       `json:"name"`
	Address     string       `json:"address"`
	Protect     bool         `json:"protect"`
	Action      string       `json:"action"`
	Reason      string       `json:"reason,omitempty"`
	Live        *jsonLive    `json:"live"`
	DesiredETag string       `json:"desired_etag"`
	Drift       *jsonDrift   `json:"drift"`
	Changes     []jsonChange `json:"changes"`
	Notes       []string     `json:"notes"`
	// Apply is present in plan files only: what apply needs.
	Apply *fileApply `json:"apply,omitempty"`
}

type jsonLive struct {
	ETag        string       `json:"etag"`
	Revision    int64        `json:"revision"`
	LastApplied *jsonApplied `json:"last_applied"`
}

type jsonApplied struct {
	ETag   string    `json:"etag"`
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
}

type jsonDrift struct {
	Since   *jsonApplied `json:"since"`
	Changes []jsonChange `json:"changes"`
	Note    string       `json:"note,omitempty"`
}

type jsonChange struct {
	Path        string      `json:"path"`
	Action      string      `json:"action"`
	Before      any         `json:"before"`
	After       any         `json:"after"`
	Sensitive   bool        `json:"sensitive"`
	Inactive    bool        `json:"inactive"`
	Destructive bool        `json:"destructive"`
	Reason      string      `json:"reason"`
	Impact      *jsonImpact `json:"impact,omitempty"`
}

type jsonImpact struct {
	Counted      bool       `json:"counted"`
	Items        int64      `json:"items"`
	Bytes        int64      `json:"bytes"`
	AccountCount int        `json:"account_count"`
	Accounts     []string   `json:"accounts"`
	NextPurge    *time.Time `json:"next_purge,omitempty"`
}

// RenderJSON writes a plan in its versioned JSON form (docs/PLAN.md).
// Sensitive values are redacted.
func RenderJSON(w io.Writer, p *Plan) error {
	return writeJSON(w, toJSON(p))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// toJSON converts a plan to its wire form.
func toJSON(p *Plan) *jsonPlan {
	s := p.Summary()
	out := &jsonPlan{FormatVersion: JSONFormatVersion, CreatedAt: p.CreatedAt, Policy: p.Policy, Servers: []jsonServer{},
		Summary: jsonSummary{Servers: s.Servers, Create: s.Create, Update: s.Update, NoOp: s.NoOp, Unreachable: s.Unreachable,
			Changes: s.Changes, Destructive: s.Destructive, Drifted: s.Drifted}}
	for _, sp := range p.Servers {
		out.Servers = append(out.Servers, serverToJSON(sp))
	}
	return out
}

func serverToJSON(sp *ServerPlan) jsonServer {
	js := jsonServer{Name: sp.Name, Address: sp.Target.Shown("address"), Protect: sp.Target.Protect, Action: string(sp.Action),
		Reason: sp.Reason, DesiredETag: sp.DesiredETag, Changes: changesToJSON(sp.Changes, sp.Action == ActionCreate), Notes: []string{}}
	if sp.Notes != nil {
		js.Notes = sp.Notes
	}
	if sp.Live != nil {
		js.Live = &jsonLive{ETag: sp.Live.ETag, Revision: sp.Live.Revision, LastApplied: appliedToJSON(sp.Live.LastApplied)}
	}
	if sp.Drift != nil {
		js.Drift = &jsonDrift{Since: appliedToJSON(sp.Drift.Since), Changes: changesToJSON(sp.Drift.Changes, false), Note: sp.Drift.Note}
	}
	return js
}

func appliedToJSON(a *LastApplied) *jsonApplied {
	if a == nil {
		return nil
	}
	return &jsonApplied{ETag: a.ETag, Time: a.Time, Client: a.Client}
}

func changesToJSON(cs []Change, create bool) []jsonChange {
	out := []jsonChange{}
	action := "update"
	if create {
		action = "create"
	}
	for _, c := range cs {
		jc := jsonChange{Path: c.Path, Action: action, Before: c.Before, After: c.After, Sensitive: c.Sensitive,
			Inactive: c.Inactive, Destructive: c.Destructive, Reason: c.Reason}
		if c.Impact != nil {
			accts := c.Impact.Accounts
			if accts == nil {
				accts = []string{}
			}
			jc.Impact = &jsonImpact{Counted: c.Impact.Counted, Items: c.Impact.Items, Bytes: c.Impact.Bytes,
				AccountCount: len(accts), Accounts: accts, NextPurge: c.Impact.NextPurge}
		}
		out = append(out, jc)
	}
	return out
}

// fromJSON converts a decoded wire form back into a plan; the apply
// sections of a plan file are read by the caller.
func fromJSON(jp *jsonPlan) *Plan {
	p := &Plan{CreatedAt: jp.CreatedAt, Policy: jp.Policy}
	for _, js := range jp.Servers {
		sp := &ServerPlan{Name: js.Name, Action: Action(js.Action), Reason: js.Reason, DesiredETag: js.DesiredETag,
			Changes: changesFromJSON(js.Changes), Notes: js.Notes}
		sp.Target = Target{Address: js.Address, Protect: js.Protect}
		if js.Live != nil {
			sp.Live = &Live{ETag: js.Live.ETag, Revision: js.Live.Revision, LastApplied: appliedFromJSON(js.Live.LastApplied)}
		}
		if js.Drift != nil {
			sp.Drift = &Drift{Since: appliedFromJSON(js.Drift.Since), Changes: changesFromJSON(js.Drift.Changes), Note: js.Drift.Note}
		}
		p.Servers = append(p.Servers, sp)
	}
	return p
}

func appliedFromJSON(a *jsonApplied) *LastApplied {
	if a == nil {
		return nil
	}
	return &LastApplied{ETag: a.ETag, Time: a.Time, Client: a.Client}
}

func changesFromJSON(jcs []jsonChange) []Change {
	var out []Change
	for _, jc := range jcs {
		c := Change{Path: jc.Path, Before: jc.Before, After: jc.After, Sensitive: jc.Sensitive, Inactive: jc.Inactive,
			Destructive: jc.Destructive, Reason: jc.Reason}
		if jc.Impact != nil {
			c.Impact = &Impact{Counted: jc.Impact.Counted, Items: jc.Impact.Items, Bytes: jc.Impact.Bytes,
				Accounts: jc.Impact.Accounts, NextPurge: jc.Impact.NextPurge}
		}
		out = append(out, c)
	}
	return out
}
