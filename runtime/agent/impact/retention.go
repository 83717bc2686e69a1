package impact

import (
	"fmt"
	"math"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

func purgeEnabledImpact(in *input) ([]api.Impact, error) {
	if !turnedOff(in, "purge.enabled") {
		return nil, nil
	}
	return []api.Impact{{Path: "purge.enabled", Destructive: true,
		Reason: "Purge stops: deleted messages and accounts are kept past their retention, so the repository only grows until reserved_space stops backups."}}, nil
}

// retention returns a retention setting in force: its days, or false when
// that purge does not run (purge disabled, or 0 days).
func retention(d *schema.Document, p string) (int64, bool) {
	days := d.Int(p)
	if !d.Bool("purge.enabled") || days <= 0 {
		return 0, false
	}
	return days, true
}

// shorter reports whether cand keeps what a retention setting governs for
// less time than live, and the path to report it on.
func shorter(in *input, p string) (string, bool) {
	oldDays, oldOn := retention(in.live, p)
	newDays, newOn := retention(in.cand, p)
	if !newOn || (oldOn && newDays >= oldDays) {
		return "", false
	}
	if changed(in, p) {
		return p, true
	}
	return "purge.enabled", true
}

// retentionWindow returns the next purge under cand and the span of end
// times [from, to) that it purges under cand but would not under live.
func retentionWindow(in *input, p string) (next time.Time, from, to int64) {
	next = nextRun(in.cand.String("purge.schedule"), in.cand.String("purge.timezone"), in.now)
	if next.IsZero() {
		next = in.now
	}
	newDays, _ := retention(in.cand, p)
	to = next.Add(-days(newDays)).UnixNano()
	from = math.MinInt64
	if oldDays, ok := retention(in.live, p); ok {
		from = next.Add(-days(oldDays)).UnixNano()
	}
	return next, from, to
}

func days(n int64) time.Duration { return time.Duration(n) * 24 * time.Hour }

// keptToday describes a live retention.
func keptToday(d *schema.Document, p string) string {
	if n, ok := retention(d, p); ok {
		return fmt.Sprintf("%d days", n)
	}
	return "forever (that purge is off)"
}

func itemRetentionImpact(in *input) ([]api.Impact, error) {
	return retentionImpact(in, retentionTarget{
		path: "purge.item_retention_days", noun: "message", nouns: "messages", byMessage: true,
		purged: func(d Data, from, to int64) ([]Amount, error) { return d.Ended(from, to) },
		counted: func(imp *api.Impact, _ []Amount) string {
			return fmt.Sprintf("%s (%s) in %s", countDeletedMessages(imp.Items), units.Bytes(imp.Bytes), countAccounts(len(imp.Accounts)))
		},
	})
}

func accountRetentionImpact(in *input) ([]api.Impact, error) {
	return retentionImpact(in, retentionTarget{
		path: "purge.account_retention_days", noun: "account", nouns: "accounts",
		purged: func(d Data, from, to int64) ([]Amount, error) { return d.Deleted(from, to) },
		counted: func(imp *api.Impact, gone []Amount) string {
			return fmt.Sprintf("%s (%s)", countDeletedAccounts(len(gone)), countMessages(imp.Items, imp.Bytes))
		},
	})
}

// retentionTarget is what a retention setting purges: deleted messages or
// deleted accounts.
type retentionTarget struct {
	path        string
	noun, nouns string
	// byMessage: nothing is purged earlier unless a message is (an
	// account purge counts accounts, even empty ones).
	byMessage bool
	purged    func(d Data, from, to int64) ([]Amount, error)
	counted   func(imp *api.Impact, gone []Amount) string
}

// retentionImpact is the impact of a shorter retention: what its next
// purge drops that the live config would keep.
func retentionImpact(in *input, t retentionTarget) ([]api.Impact, error) {
	at, ok := shorter(in, t.path)
	if !ok {
		return nil, nil
	}
	next, from, to := retentionWindow(in, t.path)
	newDays, _ := retention(in.cand, t.path)
	kept := keptToday(in.live, t.path)
	imp := api.Impact{Path: at, Destructive: true, NextPurge: &next,
		Reason: fmt.Sprintf("Deleted %s are kept %d days instead of %s: the next purge (%s) drops those deleted more than %d days before it.",
			t.nouns, newDays, kept, formatWhen(next), newDays)}
	if in.data == nil {
		return []api.Impact{imp}, nil
	}
	gone, err := t.purged(in.data, from, to)
	if err != nil {
		return nil, err
	}
	gone = filterAmounts(gone, func(a Amount) bool { return !held(in.cand, a.Name) })
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(gone)
	if len(gone) == 0 || t.byMessage && imp.Items == 0 {
		imp.Reason = fmt.Sprintf("No %s deleted so far is purged earlier at the next purge (%s); from then on deleted %s are kept %d days instead of %s.",
			t.noun, formatWhen(next), t.nouns, newDays, kept)
		return []api.Impact{imp}, nil
	}
	imp.Reason = fmt.Sprintf("%s become purgeable at the next purge (%s): deleted more than %d days before it, they are kept %s today.",
		t.counted(&imp, gone), formatWhen(next), newDays, kept)
	return []api.Impact{imp}, nil
}

// accountPurgeWhen says when a deleted account's backup goes under a
// config.
func accountPurgeWhen(d *schema.Document) string {
	if n, ok := retention(d, "purge.account_retention_days"); ok {
		return fmt.Sprintf("%d days later (account retention)", n)
	}
	return "never while the account purge is off"
}
