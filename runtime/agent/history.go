package agent

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
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
	// A since before the account's history is a filter that keeps all
	// of it; one that cannot be represented or lies in the future is
	// refused.
	now := a.cfg.Now()
	arg := r.URL.Query().Get("since")
	since, err := api.ParseInstant(arg, now, time.Local)
	if err == nil && since.After(now) {
		err = fmt.Errorf("%q (%s) is in the future (now is %s)", arg, since.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	events, err := history.Events(e.repo.Catalog, account, since)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	out := api.History{Events: []api.Event{}}
	if events != nil {
		out.Events = *toAPI[[]api.Event](&events)
	}
	out.Account, out.AccountB64 = names.Fields(account)
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
	from, err := a.queryInstant(e, r, "from", account, true)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	to, err := a.queryInstant(e, r, "to", account, false)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
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
	writeJSON(w, http.StatusOK, toAPI[api.Diff](d))
}

// queryInstant reads an instant about an account from a query parameter
// as accountInstant does; the zero time when it is absent, or an error
// when it is required.
func (a *Agent) queryInstant(e *engine, r *http.Request, name, account string, required bool) (time.Time, error) {
	s := r.URL.Query().Get(name)
	t, err := a.accountInstant(e, name, s, account)
	if err == nil && required && t.IsZero() {
		err = &BadRequestError{errors.New(name + " must name an instant")}
	}
	return t, err
}
