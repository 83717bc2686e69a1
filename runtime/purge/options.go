package purge

import (
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/selection"
)

// Defaults.
const (
	// DefaultRepackThreshold is the share of a pack's bytes that must be
	// unreferenced before purge rewrites it, when Options.RepackThreshold
	// is zero.
	DefaultRepackThreshold = 0.3
	// DefaultListLimit is how many removed items, and how many removed
	// accounts, a Result lists when Options.ListLimit is zero. The totals
	// always count everything.
	DefaultListLimit = 1000
	// MaxRetentionDays bounds the retention settings (a century).
	MaxRetentionDays = 36500
)

// Day is the length of a retention day. Retention is counted in fixed
// 24-hour days from Options.Now, whatever the time zone and its DST changes.
const Day = 24 * time.Hour

// Options say what one purge removes.
type Options struct {
	// Now is the purge's present; time.Now() when zero. Retention is
	// counted back from it.
	Now time.Time `json:"now"`
	// ItemRetentionDays keeps deleted messages, and the history of every
	// account, restorable for that many days; 0 disables the item purge.
	ItemRetentionDays int `json:"item_retention_days"`
	// AccountRetentionDays keeps deleted accounts for that many days after
	// their deletion; 0 disables the account purge.
	AccountRetentionDays int `json:"account_retention_days"`
	// Include and Exclude are the policy's accounts { include, exclude }
	// globs. SmartScan already marks the accounts they leave out deleted
	// (accounts.deleted_at), and purge treats them as deleted accounts;
	// purge only uses the patterns to say, in the report, that an account
	// was removed because it was excluded.
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// LegalHold lists user@domain shell globs: nothing of the accounts
	// they match is ever removed, whatever the retention.
	LegalHold []string `json:"legal_hold,omitempty"`
	// DryRun computes the same report and changes nothing.
	DryRun bool `json:"dry_run"`
	// RepackThreshold is the share of a pack's bytes that must be
	// unreferenced before the pack is rewritten (its live records copied to
	// a new pack, the old one deleted); 0 means DefaultRepackThreshold.
	// Packs nothing refers to are always deleted.
	RepackThreshold float64 `json:"repack_threshold"`
	// ListLimit caps the removed items and accounts listed in the Result
	// (the totals count everything); 0 means DefaultListLimit, negative
	// lists nothing.
	ListLimit int `json:"list_limit,omitempty"`
}

// check validates the options and fills in the defaults.
func (o Options) check() (Options, error) {
	if o.ItemRetentionDays < 0 || o.ItemRetentionDays > MaxRetentionDays {
		return o, fmt.Errorf("purge: item_retention_days %d is out of range (0 to %d; 0 disables the item purge)", o.ItemRetentionDays, MaxRetentionDays)
	}
	if o.AccountRetentionDays < 0 || o.AccountRetentionDays > MaxRetentionDays {
		return o, fmt.Errorf("purge: account_retention_days %d is out of range (0 to %d; 0 disables the account purge)", o.AccountRetentionDays, MaxRetentionDays)
	}
	if o.RepackThreshold < 0 || o.RepackThreshold > 1 || o.RepackThreshold != o.RepackThreshold {
		return o, fmt.Errorf("purge: repack threshold %v is not a share between 0 and 1", o.RepackThreshold)
	}
	if o.RepackThreshold == 0 {
		o.RepackThreshold = DefaultRepackThreshold
	}
	if o.ListLimit == 0 {
		o.ListLimit = DefaultListLimit
	}
	if o.ListLimit < 0 {
		o.ListLimit = 0
	}
	for _, list := range []struct {
		what     string
		patterns []string
	}{{"accounts.include", o.Include}, {"accounts.exclude", o.Exclude}, {"legal hold", o.LegalHold}} {
		if err := selection.Check(list.what, list.patterns); err != nil {
			return o, fmt.Errorf("purge: %w", err)
		}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o, nil
}

// held reports whether an account is under legal hold.
func (o *Options) held(name string) bool { return selection.Held(name, o.LegalHold) }
