package agent

import (
	"net/http"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/agent/impact"
)

// Evaluate decodes a candidate config document and evaluates it against
// the live config and the repository's catalog, without applying it.
func (a *Agent) Evaluate(body []byte) (api.Evaluation, error) {
	cand, err := decodeDocument(body)
	if err != nil {
		return api.Evaluation{}, err
	}
	now := a.cfg.Now()
	ev := api.Evaluation{CandidateETag: cand.ETag(), EvaluatedAt: now.UTC(), Impacts: []api.Impact{}}
	a.mu.RLock()
	live, e, engErr, switching := a.doc, a.engine, a.engineErr, a.switching
	if live != nil {
		ev.LiveETag = a.st.ETag
	}
	a.mu.RUnlock()
	if live == nil {
		return ev, nil
	}
	in := impact.Input{Live: live, Cand: cand, Now: now}
	switch {
	case switching:
		ev.Note = "the agent is switching to a new backup_path or mail_store; impacts are not measured"
	case e == nil:
		ev.Note = "the backup module is not running, so impacts are not measured"
		if engErr != nil {
			ev.Note += ": " + engErr.Error()
		}
	default:
		in.Data = &engineData{e: e}
	}
	imps, err := impact.Evaluate(in)
	if err != nil {
		// The settings alone still say what is destructive.
		ev.Note = "impacts are not measured: " + err.Error()
		in.Data = nil
		imps, _ = impact.Evaluate(in)
	}
	ev.Impacts = append(ev.Impacts, imps...)
	return ev, nil
}

func (a *Agent) handleEvaluate(w http.ResponseWriter, r *http.Request) {
	body, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	ev, err := a.Evaluate(body)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ev)
}
