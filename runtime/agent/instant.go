package agent

import (
	"errors"
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// checkInHistory refuses an instant outside an account's history: before
// the account is restorable whole (its first backup, or the instant
// before which the retention purge removed history) or after now. field
// and arg are the request's field and what it said, for the message; the
// zero time (last) is always in range.
func checkInHistory(field, arg string, t time.Time, a catalog.Account, now time.Time) error {
	if t.IsZero() {
		return nil
	}
	start, why := time.Unix(0, a.FirstSeen).UTC(), "its first backup"
	if a.ExactFrom > a.FirstSeen {
		start, why = time.Unix(0, a.ExactFrom).UTC(), "from which the retention purge kept it whole"
	}
	name := names.Arg(a.Name)
	var where string
	switch {
	case t.After(now):
		where = "is in the future: the backup history of " + name + " runs"
	case t.Before(start):
		where = "is before the backup history of " + name + ", which runs"
	default:
		return nil
	}
	return &BadRequestError{api.RangeError(fmt.Sprintf("%s %q (%s) %s from %s (%s) to now (%s); give an instant in that range, or last",
		field, arg, t.UTC().Format(time.RFC3339Nano), where, start.Format(time.RFC3339Nano), why, now.UTC().Format(time.RFC3339Nano)))}
}

// accountInstant parses an instant of a request about an account and
// refuses it when it lies outside the account's history
// (checkInHistory). An account the catalog does not know is left to the
// operation to report.
func (a *Agent) accountInstant(e *engine, field, arg, account string) (time.Time, error) {
	now := a.cfg.Now()
	t, err := api.ParseInstant(arg, now, time.Local)
	if err != nil {
		return time.Time{}, &BadRequestError{fmt.Errorf("%s: %w", field, err)}
	}
	if t.IsZero() {
		return t, nil
	}
	acct, err := e.repo.Catalog.AccountByName(account)
	if errors.Is(err, catalog.ErrNotFound) {
		return t, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return t, checkInHistory(field, arg, t, acct, now)
}
