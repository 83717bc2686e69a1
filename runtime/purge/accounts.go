package purge

import (
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/selection"
)

// removeAccount removes a deleted account whose retention has passed,
// with its whole history.
func (p *purger) removeAccount(tx *catalog.Tx, a *catalog.Account) error {
	messages, bytes, versions, err := tx.AccountSummary(a.ID, a.DeletedAt-1)
	if err != nil {
		return err
	}
	rm, err := tx.DeleteAccountRows(a.ID)
	if err != nil {
		return err
	}
	p.res.Rows.Add(rm)
	p.res.Accounts++
	if p.listing(&p.listedAccounts) {
		reason := "deleted"
		if !selection.Selected(a.Name, p.opts.Include, p.opts.Exclude) {
			reason = "excluded"
		}
		p.res.RemovedAccounts = append(p.res.RemovedAccounts, RemovedAccount{
			Account: a.Name, AccountB64: names.B64(a.Name), DeletedAt: time.Unix(0, a.DeletedAt).UTC(), Reason: reason,
			RetentionDays: p.opts.AccountRetentionDays, Messages: messages, Bytes: bytes, Versions: versions,
		})
	}
	return nil
}

// hold keeps an account under legal hold whole, and says what retention
// would have removed.
func (p *purger) hold(tx *catalog.Tx, a *catalog.Account, whole bool, cutoff int64) error {
	h := HeldAccount{Account: a.Name, AccountB64: names.B64(a.Name), WholeAccount: whole}
	if a.DeletedAt != 0 {
		t := time.Unix(0, a.DeletedAt).UTC()
		h.DeletedAt = &t
	}
	if !whole && cutoff != 0 {
		n, err := tx.CountExpired(a.ID, cutoff)
		if err != nil {
			return err
		}
		h.KeptVersions = n
	}
	if h.WholeAccount || h.KeptVersions > 0 {
		p.res.Held = append(p.res.Held, h)
	}
	return nil
}
