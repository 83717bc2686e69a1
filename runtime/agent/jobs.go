package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// StartSmartScan starts a SmartScan unless one is running.
func (a *Agent) StartSmartScan(deep bool) (*Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	p := &scan.Progress{}
	progress := func() Progress {
		return Progress{ItemsDone: p.ItemsSeen.Load(), ItemsTotal: 0, Bytes: p.BytesRead.Load(),
			Phase: fmt.Sprintf("%d of %d accounts", p.AccountsDone.Load(), p.AccountsTotal.Load())}
	}
	kind := "smartscan"
	return a.ops.start(kind, map[string]any{"deep": deep}, progress, func(ctx context.Context) (any, error) {
		started := a.cfg.Now()
		id, err := e.repo.Catalog.StartScan(kind, started.UnixNano())
		if err != nil {
			return nil, err
		}
		res, err := scan.Run(ctx, e.repo, e.store, scan.Options{
			Deep: deep, Include: e.doc.Strings("accounts.include"), Exclude: e.doc.Strings("accounts.exclude"),
			Now: a.cfg.Now, Progress: p,
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
		}
		if ferr := e.repo.Catalog.FinishScan(id, a.cfg.Now().UnixNano(), outcome, detail); ferr != nil && err == nil {
			err = ferr
		}
		return res, err
	})
}

// RestoreRequest is what POST /v1/operations takes for a restore.
type RestoreRequest struct {
	Account string `json:"account,omitempty"`
	// At is the instant to restore, as ParseInstant reads it; "" or
	// "last" for the latest state.
	At     string `json:"at,omitempty"`
	To     string `json:"to,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// StartRestore starts an account restore. Several restores may run at
// once, one per target account.
func (a *Agent) StartRestore(req RestoreRequest) (*Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	if req.Account == "" {
		return nil, &BadRequestError{errors.New("restore needs an account")}
	}
	at, err := ParseInstant(req.At, a.cfg.Now(), time.Local)
	if err != nil {
		return nil, &BadRequestError{err}
	}
	to := req.To
	if to == "" {
		to = req.Account
	}
	if _, err := e.store.Account(req.Account); err != nil && req.To == "" {
		return nil, &BadRequestError{err}
	}
	if _, err := e.store.Account(to); err != nil {
		return nil, &BadRequestError{err}
	}
	p := &restore.Progress{}
	progress := func() Progress {
		return Progress{ItemsDone: p.ItemsDone.Load(), ItemsTotal: p.ItemsTotal.Load(), Bytes: p.BytesDone.Load()}
	}
	params := map[string]any{"account": req.Account, "to": to, "dry_run": req.DryRun}
	if !at.IsZero() {
		params["at"] = at.UTC()
	}
	return a.ops.start("restore:"+to, params, progress, func(ctx context.Context) (any, error) {
		return restore.Run(ctx, e.repo, e.store, restore.Options{
			Account: req.Account, At: at, To: to, DryRun: req.DryRun,
			PostCommand: e.doc.Strings("restore.post_command"), Progress: p,
		})
	})
}

// StartVerify starts a repository check.
func (a *Agent) StartVerify(deep bool) (*Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	p := &repo.VerifyProgress{}
	progress := func() Progress {
		return Progress{ItemsDone: p.Done.Load(), ItemsTotal: p.Total.Load(), Bytes: p.Bytes.Load(), Errors: p.Problems.Load()}
	}
	return a.ops.start("verify", map[string]any{"deep": deep}, progress, func(ctx context.Context) (any, error) {
		rep, err := e.repo.Verify(ctx, repo.VerifyOptions{Deep: deep, Progress: p})
		if err == nil && len(rep.Problems) > 0 {
			err = fmt.Errorf("%d problems found", len(rep.Problems))
		}
		return rep, err
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
