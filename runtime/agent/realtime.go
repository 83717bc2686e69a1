package agent

import (
	"slices"
	"sync"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/realtime"
	"github.com/mailkeep/mailkeep/schema"
)

// realtimeRunner starts and stops the realtime scanner as the config says,
// without restarting the agent.
type realtimeRunner struct {
	a  *Agent
	mu sync.Mutex
	s  *realtime.Scanner
	// include and exclude are the account patterns the scanner runs with.
	include, exclude []string
	// err is why the scanner could not start.
	err string
}

// applyRuntime brings the schedules and the realtime scanner in line with
// a config, at once.
func (a *Agent) applyRuntime(doc *schema.Document) {
	a.sched.apply(doc)
	a.rt.apply(doc)
}

// apply starts, restarts or stops the scanner for doc.
func (r *realtimeRunner) apply(doc *schema.Document) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := doc.Config()
	want := c.RealtimeScanner
	inc, exc := c.Accounts.Include, c.Accounts.Exclude
	if r.s != nil && (!want || !slices.Equal(inc, r.include) || !slices.Equal(exc, r.exclude)) {
		r.s.Stop()
		r.s = nil
		r.a.log.Info("realtime scanner stopped")
	}
	if !want || r.s != nil || r.a.ctx.Err() != nil {
		return
	}
	e, err := r.a.current()
	if err != nil {
		r.a.mu.RLock()
		e = r.a.engine
		r.a.mu.RUnlock()
		if e == nil {
			return
		}
	}
	s, err := realtime.Start(r.a.ctx, e.repo, e.store, realtime.Options{Include: inc, Exclude: exc, Logger: r.a.log, Now: r.a.cfg.Now, Busy: r.a.ops.restoring})
	if err != nil {
		r.err = err.Error()
		r.a.log.Error("realtime scanner not started", "err", err)
		return
	}
	r.s, r.include, r.exclude, r.err = s, inc, exc, ""
	r.a.log.Info("realtime scanner started")
}

// stop stops the scanner, if running.
func (r *realtimeRunner) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		r.s.Stop()
		r.s = nil
	}
}

// status returns the scanner's state for the status listing.
func (r *realtimeRunner) status(enabled bool) api.RealtimeStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := api.RealtimeStatus{Enabled: enabled, State: "off"}
	switch {
	case r.s != nil:
		rs := r.s.Status()
		detail := api.RealtimeDetail(rs)
		st.State, st.Detail = rs.State, &detail
	case r.err != "":
		st.State, st.Problem = "failed", r.err
	case enabled:
		st.State = "not running"
	}
	return st
}
