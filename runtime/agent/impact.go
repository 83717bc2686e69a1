package agent

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
	"github.com/mailkeep/mailkeep/schema"
)

// StaticImpacts returns what replacing live by cand does to the backup as
// far as the settings alone tell: which changes are destructive and why,
// without numbers. Clients use it when an agent cannot evaluate a
// candidate itself.
func StaticImpacts(live, cand *schema.Document, now time.Time) []Impact {
	imps, _ := evaluateImpacts(&impactInput{live: live, cand: cand, now: now})
	return imps
}

// impactInput is what an evaluation works from.
type impactInput struct {
	live, cand *schema.Document
	now        time.Time
	// data reads the repository and the mail store; nil when they cannot
	// be read, and impacts are then judged from the settings alone.
	data impactData
}

// impactData is what impact rules read from the repository and the store.
type impactData interface {
	// current returns the accounts that are backed up now (not deleted in
	// the catalog) and those of the live mail store, with their messages.
	current() ([]catalog.AccountAmount, error)
	// ended returns per account the messages whose history ended in
	// [from, to).
	ended(from, to int64) ([]catalog.AccountAmount, error)
	// deleted returns the accounts deleted in [from, to).
	deleted(from, to int64) ([]catalog.AccountAmount, error)
	// storeAccounts lists the accounts of a mail store.
	storeAccounts(ms string) ([]string, error)
}

// engineData reads an engine's catalog and store.
type engineData struct{ e *engine }

func (d *engineData) current() ([]catalog.AccountAmount, error) {
	cur, err := d.e.repo.Catalog.CurrentAccounts()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, a := range cur {
		known[a.Name] = true
	}
	accts, err := d.e.store.Accounts()
	if err != nil {
		return nil, fmt.Errorf("listing the mail store's accounts: %w", err)
	}
	for _, a := range accts {
		if !known[a.Name] {
			cur = append(cur, catalog.AccountAmount{Name: a.Name})
		}
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Name < cur[j].Name })
	return cur, nil
}

func (d *engineData) ended(from, to int64) ([]catalog.AccountAmount, error) {
	return d.e.repo.Catalog.EndedItems(from, to)
}

func (d *engineData) deleted(from, to int64) ([]catalog.AccountAmount, error) {
	return d.e.repo.Catalog.DeletedAccounts(from, to)
}

func (d *engineData) storeAccounts(ms string) ([]string, error) {
	parsed, err := schema.ParseMailStore(ms)
	if err != nil {
		return nil, err
	}
	st, err := maildir.Open(parsed)
	if err != nil {
		return nil, err
	}
	accts, err := st.Accounts()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(accts))
	for i, a := range accts {
		names[i] = a.Name
	}
	return names, nil
}

// impactRules are evaluated in this order; each returns the impacts of the
// settings it watches, or nothing when they did not change.
var impactRules = []func(in *impactInput) ([]Impact, error){
	backupPathImpact,
	mailStoreImpact,
	realtimeImpact,
	smartScanImpact,
	purgeEnabledImpact,
	itemRetentionImpact,
	accountRetentionImpact,
	selectionImpact,
	legalHoldImpact,
}

// evaluateImpacts runs every rule.
func evaluateImpacts(in *impactInput) ([]Impact, error) {
	out := []Impact{}
	for _, rule := range impactRules {
		imps, err := rule(in)
		if err != nil {
			return nil, err
		}
		out = append(out, imps...)
	}
	return out, nil
}

func changed(in *impactInput, p string) bool {
	return !in.live.Get(p).RawEquals(in.cand.Get(p))
}

func turnedOff(in *impactInput, p string) bool {
	return in.live.Bool(p) && !in.cand.Bool(p)
}

func backupPathImpact(in *impactInput) ([]Impact, error) {
	if !changed(in, "backup_path") {
		return nil, nil
	}
	old, nw := in.live.String("backup_path"), in.cand.String("backup_path")
	fresh := "starts empty: the history kept so far is not in it, so restores reach back only to the first SmartScan into it"
	if _, err := os.Stat(filepath.Join(nw, repo.ConfigFile)); err == nil {
		fresh = "already holds a repository, which is used as it is"
	}
	return []Impact{{Path: "backup_path", Destructive: true,
		Reason: fmt.Sprintf("The agent backs up into %s from now on, which %s; the repository at %s stays where it is (listed in status) but is no longer written or purged.", nw, fresh, old)}}, nil
}

func mailStoreImpact(in *impactInput) ([]Impact, error) {
	if !changed(in, "mail_store") {
		return nil, nil
	}
	imp := Impact{Path: "mail_store", Destructive: true,
		Reason: "Accounts that are not found in the new mail store count as deleted at the next SmartScan, and their backup is purged " + accountPurgeWhen(in.cand) + "."}
	if in.data == nil {
		return []Impact{imp}, nil
	}
	names, err := in.data.storeAccounts(in.cand.String("mail_store"))
	if err != nil {
		imp.Reason = fmt.Sprintf("The new mail store cannot be read here (%v): every account backed up now may count as deleted at the next SmartScan, and its backup is purged %s.", err, accountPurgeWhen(in.cand))
		return []Impact{imp}, nil
	}
	found := map[string]bool{}
	for _, n := range names {
		found[n] = true
	}
	cur, err := in.data.current()
	if err != nil {
		return nil, err
	}
	lost := filterAmounts(cur, func(a catalog.AccountAmount) bool {
		return selected(in.live, a.Name) && !found[a.Name]
	})
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(lost)
	if len(lost) == 0 {
		imp.Destructive = false
		imp.Reason = fmt.Sprintf("Every account backed up now is found in the new mail store (%d accounts).", len(names))
		return []Impact{imp}, nil
	}
	imp.Reason = fmt.Sprintf("%s (%s) backed up now %s not in the new mail store: they count as deleted at the next SmartScan, and their backup is purged %s.",
		countAccounts(len(lost)), countMessages(imp.Items, imp.Bytes), isAre(len(lost)), accountPurgeWhen(in.cand))
	return []Impact{imp}, nil
}

func realtimeImpact(in *impactInput) ([]Impact, error) {
	if !turnedOff(in, "realtime_scanner") {
		return nil, nil
	}
	return []Impact{{Path: "realtime_scanner", Destructive: true,
		Reason: "The realtime scanner stops: changes are backed up only by SmartScan, so mail delivered and deleted between two SmartScans is never backed up."}}, nil
}

func smartScanImpact(in *impactInput) ([]Impact, error) {
	if !turnedOff(in, "smartscan.enabled") {
		return nil, nil
	}
	return []Impact{{Path: "smartscan.enabled", Destructive: true,
		Reason: "Scheduled SmartScans stop: changes the realtime scanner misses (and, while it is off or not active, every change) are no longer backed up until a SmartScan is started by hand."}}, nil
}

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
		countDeletedMessages(imp.Items), formatBytes(imp.Bytes), countAccounts(len(imp.Accounts)), formatWhen(next), newDays, keptToday(in.live, p))
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

// selected reports whether a config backs an account up.
func selected(d *schema.Document, name string) bool {
	return scan.Selected(name, d.Strings("accounts.include"), d.Strings("accounts.exclude"))
}

// held reports whether a config puts an account under legal hold.
func held(d *schema.Document, name string) bool {
	for _, p := range d.Strings("legal_hold.accounts") {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// selectionImpact reports the accounts that accounts.include and
// accounts.exclude stop backing up: first those the new include no longer
// matches, then those the new exclude matches.
func selectionImpact(in *impactInput) ([]Impact, error) {
	inc, exc := changed(in, "accounts.include"), changed(in, "accounts.exclude")
	if !inc && !exc {
		return nil, nil
	}
	liveInc, liveExc := in.live.Strings("accounts.include"), in.live.Strings("accounts.exclude")
	candInc, candExc := in.cand.Strings("accounts.include"), in.cand.Strings("accounts.exclude")
	var cur []catalog.AccountAmount
	if in.data != nil {
		var err error
		if cur, err = in.data.current(); err != nil {
			return nil, err
		}
	}
	var out []Impact
	report := func(p string, narrows bool, lost func(string) bool) {
		imp := Impact{Path: p, Destructive: narrows,
			Reason: "Accounts that no longer match stop being backed up: they count as deleted at the next SmartScan, and their backup is purged " + accountPurgeWhen(in.cand) + "."}
		if !narrows {
			imp.Reason = "No account stops being backed up: the patterns only widen the selection."
		}
		if in.data != nil {
			hit := filterAmounts(cur, func(a catalog.AccountAmount) bool { return lost(a.Name) })
			imp.Counted = true
			imp.Items, imp.Bytes, imp.Accounts = sumAmounts(hit)
			imp.Destructive = len(hit) > 0
			if len(hit) == 0 {
				imp.Reason = "No current account stops being backed up."
			} else {
				imp.Reason = fmt.Sprintf("%s (%s) stop being backed up: they count as deleted at the next SmartScan, and their backup is purged %s.",
					countAccounts(len(hit)), countMessages(imp.Items, imp.Bytes), accountPurgeWhen(in.cand))
			}
		}
		out = append(out, imp)
	}
	if inc {
		report("accounts.include", dropsAny(liveInc, candInc), func(n string) bool {
			return scan.Selected(n, liveInc, liveExc) && !scan.Selected(n, candInc, liveExc)
		})
	}
	if exc {
		report("accounts.exclude", dropsAny(candExc, liveExc), func(n string) bool {
			return scan.Selected(n, liveInc, liveExc) && scan.Selected(n, candInc, liveExc) && !scan.Selected(n, candInc, candExc)
		})
	}
	return out, nil
}

// dropsAny reports whether some pattern of from is missing in to: without
// the accounts themselves, that is a possible narrowing.
func dropsAny(from, to []string) bool {
	for _, p := range from {
		if !slices.Contains(to, p) {
			return true
		}
	}
	return false
}

func legalHoldImpact(in *impactInput) ([]Impact, error) {
	const p = "legal_hold.accounts"
	if !changed(in, p) {
		return nil, nil
	}
	narrows := dropsAny(in.live.Strings(p), in.cand.Strings(p))
	imp := Impact{Path: p, Destructive: narrows,
		Reason: "Accounts that leave legal hold fall under the normal retention: their deleted messages, and the accounts themselves once deleted, become purgeable."}
	if !narrows {
		imp.Reason = "No account leaves legal hold."
	}
	if in.data == nil {
		return []Impact{imp}, nil
	}
	cur, err := in.data.current()
	if err != nil {
		return nil, err
	}
	gone, err := in.data.deleted(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	hit := filterAmounts(append(cur, gone...), func(a catalog.AccountAmount) bool { return held(in.live, a.Name) && !held(in.cand, a.Name) })
	sort.Slice(hit, func(i, j int) bool { return hit[i].Name < hit[j].Name })
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(hit)
	imp.Destructive = len(hit) > 0
	if len(hit) == 0 {
		imp.Reason = "No account in the backup leaves legal hold."
	} else {
		imp.Reason = fmt.Sprintf("%s leave legal hold: their deleted messages, and the accounts themselves once deleted, become purgeable under the normal retention.", countAccounts(len(hit)))
	}
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

func filterAmounts(in []catalog.AccountAmount, keep func(catalog.AccountAmount) bool) []catalog.AccountAmount {
	var out []catalog.AccountAmount
	for _, a := range in {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// sumAmounts totals messages and bytes and lists the account names.
func sumAmounts(in []catalog.AccountAmount) (items, bytes int64, names []string) {
	names = []string{}
	for _, a := range in {
		items += a.Items
		bytes += a.Bytes
		names = append(names, a.Name)
	}
	return items, bytes, names
}

func formatWhen(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

func countMessages(n, bytes int64) string {
	if n == 1 {
		return fmt.Sprintf("1 message, %s", formatBytes(bytes))
	}
	return fmt.Sprintf("%d messages, %s", n, formatBytes(bytes))
}

func countDeletedMessages(n int64) string {
	if n == 1 {
		return "1 deleted message"
	}
	return fmt.Sprintf("%d deleted messages", n)
}

func countAccounts(n int) string {
	if n == 1 {
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", n)
}

func countDeletedAccounts(n int) string {
	if n == 1 {
		return "1 deleted account"
	}
	return fmt.Sprintf("%d deleted accounts", n)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// formatBytes renders a size in binary units.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
