package purge

import (
	"context"
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// testHook, when set (by tests only), is called at each point where a
// crash must leave the repository consistent.
var testHook func(point string)

func hook(point string) {
	if testHook != nil {
		testHook(point)
	}
}

// Run purges the repository as opts say and reports what it removed (for a
// dry run, what it would remove). It holds r.WriteMu for its whole run, so
// no other writer of this process commits meanwhile; the caller must not
// hold it.
//
// The catalog changes are one transaction; then packs nothing refers to are
// deleted, and packs past the repack threshold are rewritten, batch by
// batch, each batch durable before the catalog points at it and the old
// packs deleted only after that commit. ctx is checked between accounts
// (cancelling then changes nothing, and Run returns no Result) and between
// packs (what is done stays done, the rest is left for the next purge; the
// Result says what was done, and the error is ctx's).
func Run(ctx context.Context, r *repo.Repo, opts Options) (_ *Result, err error) {
	opts, err = opts.check()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &purger{r: r, opts: opts, res: &Result{
		DryRun:               opts.DryRun,
		Now:                  opts.Now.UTC(),
		ItemRetentionDays:    opts.ItemRetentionDays,
		AccountRetentionDays: opts.AccountRetentionDays,
		RemovedItems:         []RemovedItem{},
		RemovedAccounts:      []RemovedAccount{},
	}}
	now := opts.Now.UnixNano()
	if opts.ItemRetentionDays > 0 {
		p.itemRet = int64(opts.ItemRetentionDays) * int64(Day)
		t := time.Unix(0, now-p.itemRet).UTC()
		p.res.ItemCutoff = &t
	}
	if opts.AccountRetentionDays > 0 {
		p.accountPurge = true
		p.accountCutoff = now - int64(opts.AccountRetentionDays)*int64(Day)
		t := time.Unix(0, p.accountCutoff).UTC()
		p.res.AccountCutoff = &t
	}

	if err := r.LockWrites(); err != nil {
		return nil, err
	}
	defer func() {
		// A pack write that failed went with a commit that was never
		// made: clear the failure now, as SmartScan does, so that the
		// pack being written is cut back to what is durable (on a full
		// disk that gives the space back) and a verify meanwhile does
		// not take the unwritten records for damage.
		if rerr := r.Packs.Recover(); rerr != nil && err == nil {
			err = rerr
		}
		r.WriteMu.Unlock()
	}()
	if err := p.purgeCatalog(ctx); err != nil {
		return nil, err // rolled back: nothing changed
	}
	if opts.DryRun {
		p.res.PacksDeleted = len(p.plan.remove)
		p.res.PacksRewritten = len(p.plan.rewrite)
		p.res.BytesFreed = p.plan.bytesFreed
		p.res.BytesCopied = p.plan.bytesCopied
		return p.res, nil
	}
	if err := p.removePacks(ctx); err != nil {
		return p.res, err
	}
	if err := p.rewritePacks(ctx); err != nil {
		return p.res, err
	}
	return p.res, nil
}

// purger is the state of one Run.
type purger struct {
	r    *repo.Repo
	opts Options
	res  *Result

	itemRet        int64 // item retention in ns; 0 disabled
	accountPurge   bool  // the account purge is enabled:
	accountCutoff  int64 // accounts deleted before it go
	listedItems    int   // entries listed so far
	listedAccounts int
	plan           packPlan
}

// purgeCatalog removes, in one transaction, what retention lets go, drops
// the blobs nothing refers to any more and plans the pack work. A dry run
// rolls the transaction back.
func (p *purger) purgeCatalog(ctx context.Context) error {
	tx, err := p.r.Catalog.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	accounts, err := tx.AccountsTx()
	if err != nil {
		return err
	}
	for i := range accounts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.account(tx, &accounts[i]); err != nil {
			return fmt.Errorf("purging account %s: %w", accounts[i].Name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.dropBlobs(tx); err != nil {
		return err
	}
	usage, err := tx.PackUsage()
	if err != nil {
		return err
	}
	if err := p.planPacks(usage); err != nil {
		return err
	}
	if p.opts.DryRun {
		return nil // the deferred Rollback undoes everything
	}
	hook("catalog-before-commit")
	if err := tx.Commit(); err != nil {
		return err
	}
	hook("catalog-committed")
	return nil
}

// account applies the retention to one account.
func (p *purger) account(tx *catalog.Tx, a *catalog.Account) error {
	cutoff := p.itemCutoff(a)
	whole := p.accountPurge && a.DeletedAt != 0 && a.DeletedAt < p.accountCutoff
	if p.opts.held(a.Name) {
		return p.hold(tx, a, whole, cutoff)
	}
	if whole {
		return p.removeAccount(tx, a)
	}
	if cutoff == 0 {
		return nil
	}
	return p.expire(tx, a, cutoff)
}

// itemCutoff is the instant from which an account's history is kept, or 0
// when the item purge is disabled. A live account keeps [Now - item
// retention, Now]; for a deleted account the clock stopped at its
// deletion: it keeps [deleted_at - item retention, deleted_at), so that it
// restores as it was, history included, until the account purge removes it.
func (p *purger) itemCutoff(a *catalog.Account) int64 {
	if p.itemRet == 0 {
		return 0
	}
	end := p.opts.Now.UnixNano()
	if a.DeletedAt != 0 && a.DeletedAt < end {
		end = a.DeletedAt
	}
	return end - p.itemRet
}

// listing reports whether one more entry of a list may be listed, and
// counts it.
func (p *purger) listing(n *int) bool {
	if *n >= p.opts.ListLimit {
		p.res.Truncated = true
		return false
	}
	*n++
	return true
}
