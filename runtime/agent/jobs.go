package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/purge"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// StartSmartScan starts a SmartScan unless one is running.
func (a *Agent) StartSmartScan(deep bool) (*api.Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	p := &scan.Progress{}
	progress := func() api.Progress {
		return api.Progress{ItemsDone: p.ItemsSeen.Load(), ItemsTotal: 0, Bytes: p.BytesRead.Load(),
			Phase: fmt.Sprintf("%d of %d accounts", p.AccountsDone.Load(), p.AccountsTotal.Load())}
	}
	kind := api.KindSmartScan
	return a.ops.start(kind, map[string]any{"deep": deep}, progress, func(ctx context.Context) (any, error) {
		started := a.cfg.Now()
		id, err := e.repo.Catalog.StartScan(kind, started.UnixNano())
		if err != nil {
			return nil, err
		}
		res, err := scan.Run(ctx, e.repo, e.store, scan.Options{
			Deep: deep, Include: e.doc.Config().Accounts.Include, Exclude: e.doc.Config().Accounts.Exclude,
			Now: a.cfg.Now, Progress: p, Busy: a.ops.restoring,
		})
		a.noteSpace(err)
		outcome, detail := "ok", ""
		switch {
		case errors.Is(err, context.Canceled):
			outcome, detail = "cancelled", "cancelled"
		case err != nil:
			outcome, detail = "failed", err.Error()
		case len(res.Errors) > 0:
			outcome, detail = "failed", fmt.Sprintf("%d accounts could not be read; first: %s", len(res.Errors), res.Errors[0])
			err = errors.New(detail)
		case res.SkippedTotal() > 0:
			detail = fmt.Sprintf("%d files or folders of the mail store skipped (links, special or unreadable files); their backup is kept as it was", res.SkippedTotal())
		}
		if ferr := e.repo.Catalog.FinishScan(id, a.cfg.Now().UnixNano(), outcome, detail); ferr != nil && err == nil {
			err = ferr
		}
		return toAPI[api.ScanResult](res), err
	})
}

// StartRestore starts an account restore. Several restores may run at
// once, one per target account.
func (a *Agent) StartRestore(req api.RestoreRequest) (*api.Operation, error) {
	if req.IntoFolder != "" {
		return a.StartIntoFolder(req)
	}
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	account, to, _, err := granularNames(req, "")
	if err != nil {
		return nil, err
	}
	at, err := a.accountInstant(e, "at", req.At, account)
	if err != nil {
		return nil, err
	}
	if to == "" {
		to = account
	}
	if _, err := e.store.Account(account); err != nil && req.To == "" {
		return nil, &BadRequestError{err}
	}
	if _, err := e.store.Account(to); err != nil {
		return nil, &BadRequestError{err}
	}
	if op := a.ops.runningPrefix(api.KindPurge); op != nil {
		return op, fmt.Errorf("a purge (%s) is running; restore after it: %w", op.ID, ErrBusy)
	}
	p := &restore.Progress{}
	progress := func() api.Progress {
		return api.Progress{ItemsDone: p.ItemsDone.Load(), ItemsTotal: p.ItemsTotal.Load(), Bytes: p.BytesDone.Load()}
	}
	params := map[string]any{"account": names.Arg(account), "to": names.Arg(to), "dry_run": req.DryRun}
	if !at.IsZero() {
		params["at"] = at.UTC()
	}
	return a.ops.start(api.TypeRestorePrefix+to, params, progress, func(ctx context.Context) (any, error) {
		started := a.cfg.Now()
		res, err := restore.Run(ctx, e.repo, e.store, restore.Options{
			Account: account, At: at, To: to, DryRun: req.DryRun,
			PostCommand: e.doc.Config().Restore.PostCommand, PostCommandUser: e.doc.Config().Restore.PostCommandUser, Progress: p,
		})
		if res != nil && !req.DryRun {
			a.logRestore(ctx, e, catalog.Restore{Account: to, Source: account, Kind: "account",
				Instant: res.At.UnixNano(), Started: started.UnixNano(), Messages: res.Messages}, err)
		}
		return toAPI[api.RestoreResult](res), err
	})
}

// logRestore records a restore written into an account, for its history
// (backup history). A restore that failed part-way is recorded with its
// error; failing to record it is logged, not returned: the mail is
// written either way.
func (a *Agent) logRestore(ctx context.Context, e *engine, r catalog.Restore, err error) {
	r.Finished, r.Outcome, r.Operation = a.cfg.Now().UnixNano(), "ok", operationID(ctx)
	if err != nil {
		r.Outcome = err.Error()
	}
	if lerr := e.repo.Catalog.LogRestore(r); lerr != nil {
		a.log.Warn("logging a restore", "account", r.Account, "err", lerr)
	}
}

// StartVerify starts a repository check.
func (a *Agent) StartVerify(deep bool) (*api.Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	p := &repo.VerifyProgress{}
	progress := func() api.Progress {
		return api.Progress{ItemsDone: p.Done.Load(), ItemsTotal: p.Total.Load(), Bytes: p.Bytes.Load(), Errors: p.Problems.Load()}
	}
	return a.ops.start(api.KindVerify, map[string]any{"deep": deep}, progress, func(ctx context.Context) (any, error) {
		rep, err := e.repo.Verify(ctx, repo.VerifyOptions{Deep: deep, Progress: p})
		if err == nil && len(rep.Problems) > 0 {
			err = fmt.Errorf("%d problems found", len(rep.Problems))
		}
		return toAPI[api.VerifyReport](rep), err
	})
}

// noteSpace records or clears a reserved-space stop for status.
func (a *Agent) noteSpace(err error) {
	var se *repo.SpaceError
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case errors.As(err, &se):
		a.spaceStop = se.Error()
		a.log.Warn("writing stopped: reserved space reached", "err", se)
	case err == nil:
		a.spaceStop = ""
	}
}

// StartPurge starts a retention purge (a dry run lists what would go).
// It refuses to start while a restore or an export runs, and they refuse
// to start while it runs: a purge may rewrite the packs they read.
func (a *Agent) StartPurge(dryRun bool) (*api.Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	if op := a.ops.runningPrefix(api.TypeRestorePrefix); op != nil {
		return op, fmt.Errorf("a restore (%s) is running; purge waits for it: %w", op.ID, ErrBusy)
	}
	if op := a.ops.runningPrefix(api.TypeExportPrefix); op != nil {
		return op, fmt.Errorf("an export (%s) is running; purge waits for it: %w", op.ID, ErrBusy)
	}
	c := e.doc.Config()
	return a.ops.start(api.KindPurge, map[string]any{"dry_run": dryRun}, func() api.Progress { return api.Progress{Phase: "purging"} }, func(ctx context.Context) (any, error) {
		kind := api.KindPurge
		if dryRun {
			kind = "purge-dry-run"
		}
		id, err := e.repo.Catalog.StartScan(kind, a.cfg.Now().UnixNano())
		if err != nil {
			return nil, err
		}
		res, err := purge.Run(ctx, e.repo, purge.Options{
			Now:                  a.cfg.Now(),
			ItemRetentionDays:    int(c.Purge.ItemRetentionDays),
			AccountRetentionDays: int(c.Purge.AccountRetentionDays),
			Include:              c.Accounts.Include,
			Exclude:              c.Accounts.Exclude,
			LegalHold:            c.LegalHold.Accounts,
			DryRun:               dryRun,
		})
		outcome, detail := "ok", ""
		switch {
		case errors.Is(err, context.Canceled):
			outcome, detail = "cancelled", "cancelled"
		case err != nil:
			outcome, detail = "failed", err.Error()
		}
		if ferr := e.repo.Catalog.FinishScan(id, a.cfg.Now().UnixNano(), outcome, detail); ferr != nil && err == nil {
			err = ferr
		}
		return toAPI[api.PurgeResult](res), err
	})
}
