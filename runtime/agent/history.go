package agent

import (
	"errors"
	"net/http"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/history"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// handleHistory answers GET /v1/backup/accounts/{account}/history: the
// account's significant events, from ?since= on (every event without
// it). A query: it only reads the catalog and never waits for a running
// operation.
func (a *Agent) handleHistory(w http.ResponseWriter, r *http.Request) {
	e, err := a.current()
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	account, err := decodeArg("account", r.PathValue("account"))
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	since, err := a.queryInstant(r, "since", false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	events, err := history.Events(e.repo.Catalog, account, since)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	if events == nil {
		events = []history.Event{}
	}
	display, b64 := names.Fields(account)
	out := map[string]any{"account": display, "events": events}
	if b64 != "" {
		out["account_b64"] = b64
	}
	writeJSON(w, http.StatusOK, out)
}

// handleDiff answers GET /v1/backup/accounts/{account}/diff?from=T1[&to=T2]:
// what changed in the account between the two instants (to: now).
func (a *Agent) handleDiff(w http.ResponseWriter, r *http.Request) {
	e, err := a.current()
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	account, err := decodeArg("account", r.PathValue("account"))
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	from, err := a.queryInstant(r, "from", true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := a.queryInstant(r, "to", false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if to.IsZero() {
		to = a.cfg.Now()
	}
	d, err := history.Compare(e.repo.Catalog, account, from, to, history.FromRepo(e.repo))
	switch {
	case errors.Is(err, history.ErrBadRange), errors.Is(err, catalog.ErrPurged):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		writeError(w, errorStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// queryInstant reads an instant from a query parameter as ParseInstant
// does; the zero time when it is absent, or an error when it is required.
func (a *Agent) queryInstant(r *http.Request, name string, required bool) (time.Time, error) {
	s := r.URL.Query().Get(name)
	t, err := ParseInstant(s, a.cfg.Now(), time.Local)
	if err == nil && required && t.IsZero() {
		err = errors.New(name + " must name an instant")
	}
	if err != nil {
		return time.Time{}, errors.New(name + ": " + err.Error())
	}
	return t, nil
}
