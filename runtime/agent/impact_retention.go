package agent

import (
	"fmt"
	"math"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/schema"
)

func purgeEnabledImpact(in *impactInput) ([]Impact, error) {
	if !turnedOff(in, "purge.enabled") {
		return nil, nil
	}
	return []Impact{{Path: "purge.enabled", Destructive: true,
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
func shorter(in *impactInput, p string) (string, bool) {
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
func retentionWindow(in *impactInput, p string) (next time.Time, from, to int64) {
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

func itemRetentionImpact(in *impactInput) ([]Impact, error) {
	const p = "purge.item_retention_days"
	at, ok := shorter(in, p)
	if !ok {
		return nil, nil
	}
	next, from, to := retentionWindow(in, p)
	newDays, _ := retention(in.cand, p)
	imp := Impact{Path: at, Destructive: true, NextPurge: &next,
		Reason: fmt.Sprintf("Deleted messages are kept %d days instead of %s: the next purge (%s) drops those deleted more than %d days before it.",
			newDays, keptToday(in.live, p), formatWhen(next), newDays)}
	if in.data == nil {
		return []Impact{imp}, nil
	}
	ended, err := in.data.ended(from, to)
	if err != nil {
		return nil, err
	}
	ended = filterAmounts(ended, func(a catalog.AccountAmount) bool { return !held(in.cand, a.Name) })
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(ended)
	if imp.Items == 0 {
		imp.Reason = fmt.Sprintf("No message deleted so far is purged earlier at the next purge (%s); from then on deleted messages are kept %d days instead of %s.",
			formatWhen(next), newDays, keptToday(in.live, p))
		return []Impact{imp}, nil
	}
	imp.Reason = fmt.Sprintf("%s (%s) in %s become purgeable at the next purge (%s): deleted more than %d days before it, they are kept %s today.",
		countDeletedMessages(imp.Items), units.Bytes(imp.Bytes), countAccounts(len(imp.Accounts)), formatWhen(next), newDays, keptToday(in.live, p))
	return []Impact{imp}, nil
}

func accountRetentionImpact(in *impactInput) ([]Impact, error) {
	const p = "purge.account_retention_days"
	at, ok := shorter(in, p)
	if !ok {
		return nil, nil
	}
	next, from, to := retentionWindow(in, p)
	newDays, _ := retention(in.cand, p)
	imp := Impact{Path: at, Destructive: true, NextPurge: &next,
		Reason: fmt.Sprintf("Deleted accounts are kept %d days instead of %s: the next purge (%s) drops those deleted more than %d days before it.",
			newDays, keptToday(in.live, p), formatWhen(next), newDays)}
	if in.data == nil {
		return []Impact{imp}, nil
	}
	gone, err := in.data.deleted(from, to)
	if err != nil {
		return nil, err
	}
	gone = filterAmounts(gone, func(a catalog.AccountAmount) bool { return !held(in.cand, a.Name) })
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(gone)
	if len(gone) == 0 {
		imp.Reason = fmt.Sprintf("No account deleted so far is purged earlier at the next purge (%s); from then on deleted accounts are kept %d days instead of %s.",
			formatWhen(next), newDays, keptToday(in.live, p))
		return []Impact{imp}, nil
	}
	imp.Reason = fmt.Sprintf("%s (%s) become purgeable at the next purge (%s): deleted more than %d days before it, they are kept %s today.",
		countDeletedAccounts(len(gone)), countMessages(imp.Items, imp.Bytes), formatWhen(next), newDays, keptToday(in.live, p))
	return []Impact{imp}, nil
}

// accountPurgeWhen says when a deleted account's backup goes under a
// config.
func accountPurgeWhen(d *schema.Document) string {
	if n, ok := retention(d, "purge.account_retention_days"); ok {
		return fmt.Sprintf("%d days later (account retention)", n)
	}
	return "never while the account purge is off"
}
