package impact

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/selection"
	"github.com/mailkeep/mailkeep/schema"
)

func mailStoreImpact(in *input) ([]api.Impact, error) {
	if !changed(in, "mail_store") {
		return nil, nil
	}
	imp := api.Impact{Path: "mail_store", Destructive: true,
		Reason: "Accounts that are not found in the new mail store count as deleted at the next SmartScan, and their backup is purged " + accountPurgeWhen(in.cand) + "."}
	if in.data == nil {
		return []api.Impact{imp}, nil
	}
	names, err := in.data.StoreAccounts(in.cand.String("mail_store"))
	if err != nil {
		imp.Reason = fmt.Sprintf("The new mail store cannot be read here (%v): every account backed up now may count as deleted at the next SmartScan, and its backup is purged %s.", err, accountPurgeWhen(in.cand))
		return []api.Impact{imp}, nil
	}
	found := map[string]bool{}
	for _, n := range names {
		found[n] = true
	}
	cur, err := in.data.Current()
	if err != nil {
		return nil, err
	}
	lost := filterAmounts(cur, func(a Amount) bool {
		return backedUp(in.live, a.Name) && !found[a.Name]
	})
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(lost)
	if len(lost) == 0 {
		imp.Destructive = false
		imp.Reason = fmt.Sprintf("Every account backed up now is found in the new mail store (%d accounts).", len(names))
		return []api.Impact{imp}, nil
	}
	imp.Reason = fmt.Sprintf("%s (%s) backed up now %s not in the new mail store: they count as deleted at the next SmartScan, and their backup is purged %s.",
		countAccounts(len(lost)), countMessages(imp.Items, imp.Bytes), isAre(len(lost)), accountPurgeWhen(in.cand))
	return []api.Impact{imp}, nil
}

// backedUp reports whether a config backs an account up.
func backedUp(d *schema.Document, name string) bool {
	return selection.Selected(name, d.Strings("accounts.include"), d.Strings("accounts.exclude"))
}

// held reports whether a config puts an account under legal hold.
func held(d *schema.Document, name string) bool {
	return selection.Held(name, d.Strings("legal_hold.accounts"))
}

// selectionImpact reports the accounts that accounts.include and
// accounts.exclude stop backing up: first those the new include no longer
// matches, then those the new exclude matches.
func selectionImpact(in *input) ([]api.Impact, error) {
	inc, exc := changed(in, "accounts.include"), changed(in, "accounts.exclude")
	if !inc && !exc {
		return nil, nil
	}
	liveInc, liveExc := in.live.Strings("accounts.include"), in.live.Strings("accounts.exclude")
	candInc, candExc := in.cand.Strings("accounts.include"), in.cand.Strings("accounts.exclude")
	var cur []Amount
	if in.data != nil {
		var err error
		if cur, err = in.data.Current(); err != nil {
			return nil, err
		}
	}
	var out []api.Impact
	report := func(p string, narrows bool, lost func(string) bool) {
		imp := api.Impact{Path: p, Destructive: narrows,
			Reason: "Accounts that no longer match stop being backed up: they count as deleted at the next SmartScan, and their backup is purged " + accountPurgeWhen(in.cand) + "."}
		if !narrows {
			imp.Reason = "No account stops being backed up: the patterns only widen the selection."
		}
		if in.data != nil {
			hit := filterAmounts(cur, func(a Amount) bool { return lost(a.Name) })
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
			return selection.Selected(n, liveInc, liveExc) && !selection.Selected(n, candInc, liveExc)
		})
	}
	if exc {
		report("accounts.exclude", dropsAny(candExc, liveExc), func(n string) bool {
			return selection.Selected(n, liveInc, liveExc) && selection.Selected(n, candInc, liveExc) && !selection.Selected(n, candInc, candExc)
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

func legalHoldImpact(in *input) ([]api.Impact, error) {
	const p = "legal_hold.accounts"
	if !changed(in, p) {
		return nil, nil
	}
	narrows := dropsAny(in.live.Strings(p), in.cand.Strings(p))
	imp := api.Impact{Path: p, Destructive: narrows,
		Reason: "Accounts that leave legal hold fall under the normal retention: their deleted messages, and the accounts themselves once deleted, become purgeable."}
	if !narrows {
		imp.Reason = "No account leaves legal hold."
	}
	if in.data == nil {
		return []api.Impact{imp}, nil
	}
	cur, err := in.data.Current()
	if err != nil {
		return nil, err
	}
	gone, err := in.data.Deleted(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	hit := filterAmounts(append(cur, gone...), func(a Amount) bool { return held(in.live, a.Name) && !held(in.cand, a.Name) })
	sort.Slice(hit, func(i, j int) bool { return hit[i].Name < hit[j].Name })
	imp.Counted = true
	imp.Items, imp.Bytes, imp.Accounts = sumAmounts(hit)
	imp.Destructive = len(hit) > 0
	if len(hit) == 0 {
		imp.Reason = "No account in the backup leaves legal hold."
	} else {
		imp.Reason = fmt.Sprintf("%s leave legal hold: their deleted messages, and the accounts themselves once deleted, become purgeable under the normal retention.", countAccounts(len(hit)))
	}
	return []api.Impact{imp}, nil
}
