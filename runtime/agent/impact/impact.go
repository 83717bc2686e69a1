package impact

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// Static returns what replacing live by cand does to the backup as far
// as the settings alone tell: which changes are destructive and why,
// without numbers. The planner uses it when an agent cannot evaluate a
// candidate itself.
func Static(live, cand *schema.Document, now time.Time) []api.Impact {
	imps, _ := Evaluate(Input{Live: live, Cand: cand, Now: now})
	return imps
}

// Input is what an evaluation works from.
type Input struct {
	// Live is the config in force, Cand the candidate that would replace
	// it, Now the instant of the evaluation.
	Live, Cand *schema.Document
	Now        time.Time
	// Data reads the repository and the mail store; nil when they cannot
	// be read, and impacts are then judged from the settings alone.
	Data Data
}

// Data is what the impact rules read from the repository and the mail
// store. The agent implements it over its open catalog and store.
type Data interface {
	// Current returns the accounts that are backed up now (not deleted in
	// the catalog) and those of the live mail store, with their messages,
	// by name.
	Current() ([]Amount, error)
	// Ended returns per account the messages whose history ended in
	// [from, to) (Unix nanoseconds).
	Ended(from, to int64) ([]Amount, error)
	// Deleted returns the accounts deleted in [from, to).
	Deleted(from, to int64) ([]Amount, error)
	// StoreAccounts lists the accounts of a mail store (a mail_store
	// setting's value).
	StoreAccounts(mailStore string) ([]string, error)
}

// Amount is an account and the messages of it that a rule counts.
type Amount struct {
	Name  string
	Items int64
	Bytes int64
}

// RepoConfigFile is the file that marks a directory as a repository
// (repo.ConfigFile, which this package cannot import without SQLite): a
// new backup_path holding it is used as it is.
const RepoConfigFile = "mailkeep-repo.json"

// rules are evaluated in this order; each returns the impacts of the
// settings it watches, or nothing when they did not change.
var rules = []func(in *input) ([]api.Impact, error){
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

// input is an Input as the rules read it.
type input struct {
	live, cand *schema.Document
	now        time.Time
	data       Data
}

// Evaluate returns what replacing in.Live by in.Cand does to the backup:
// one impact per setting change that matters to the backup's data, in a
// fixed order of rules. With in.Data the impacts are counted in the
// repository; an error is one of reading it.
func Evaluate(in Input) ([]api.Impact, error) {
	r := &input{live: in.Live, cand: in.Cand, now: in.Now, data: in.Data}
	out := []api.Impact{}
	for _, rule := range rules {
		imps, err := rule(r)
		if err != nil {
			return nil, err
		}
		out = append(out, imps...)
	}
	return out, nil
}

func changed(in *input, p string) bool {
	return !in.live.Get(p).RawEquals(in.cand.Get(p))
}

func turnedOff(in *input, p string) bool {
	return in.live.Bool(p) && !in.cand.Bool(p)
}

func backupPathImpact(in *input) ([]api.Impact, error) {
	if !changed(in, "backup_path") {
		return nil, nil
	}
	old, nw := in.live.String("backup_path"), in.cand.String("backup_path")
	fresh := "starts empty: the history kept so far is not in it, so restores reach back only to the first SmartScan into it"
	if _, err := os.Stat(filepath.Join(nw, RepoConfigFile)); err == nil {
		fresh = "already holds a repository, which is used as it is"
	}
	return []api.Impact{{Path: "backup_path", Destructive: true,
		Reason: fmt.Sprintf("The agent backs up into %s from now on, which %s; the repository at %s stays where it is (listed in status) but is no longer written or purged.", nw, fresh, old)}}, nil
}

func realtimeImpact(in *input) ([]api.Impact, error) {
	if !turnedOff(in, "realtime_scanner") {
		return nil, nil
	}
	return []api.Impact{{Path: "realtime_scanner", Destructive: true,
		Reason: "The realtime scanner stops: changes are backed up only by SmartScan, so mail delivered and deleted between two SmartScans is never backed up."}}, nil
}

func smartScanImpact(in *input) ([]api.Impact, error) {
	if !turnedOff(in, "smartscan.enabled") {
		return nil, nil
	}
	return []api.Impact{{Path: "smartscan.enabled", Destructive: true,
		Reason: "Scheduled SmartScans stop: changes the realtime scanner misses (and, while it is off or not active, every change) are no longer backed up until a SmartScan is started by hand."}}, nil
}

func filterAmounts(in []Amount, keep func(Amount) bool) []Amount {
	var out []Amount
	for _, a := range in {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// sumAmounts totals messages and bytes and lists the account names.
func sumAmounts(in []Amount) (items, bytes int64, names []string) {
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
