package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	mslocation "github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
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
	parsed, err := mslocation.Parse(ms)
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
		return fmt.Sprintf("1 message, %s", units.Bytes(bytes))
	}
	return fmt.Sprintf("%d messages, %s", n, units.Bytes(bytes))
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
