package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// StartRestoreItems starts a restore of single items (restore item).
func (a *Agent) StartRestoreItems(req api.RestoreRequest) (*api.Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	account, to, folder, err := granularNames(req, req.Folder)
	if err != nil {
		return nil, err
	}
	if to == "" {
		to = account
	}
	params := map[string]any{"strategy": "item", "account": names.Arg(account), "to": names.Arg(to), "items": req.Items, "dry_run": req.DryRun}
	if folder != "" {
		params["folder"] = names.Arg(folder)
	}
	return a.startGranular(e, to, params, func(p *restore.Progress) (*restore.Prepared, error) {
		return restore.PrepareItems(e.repo, e.store, restore.ItemOptions{Account: account, IDs: req.Items, To: to, Folder: folder,
			DryRun: req.DryRun, PostCommand: e.doc.Config().Restore.PostCommand, PostCommandUser: e.doc.Config().Restore.PostCommandUser, Progress: p})
	})
}

// StartUndelete starts a time-range undelete (restore undelete).
func (a *Agent) StartUndelete(req api.RestoreRequest) (*api.Operation, error) {
	if req.To != "" {
		return nil, &BadRequestError{errors.New("restore-undelete writes into the account itself; \"to\" is not for it (the end of the range is \"until\")")}
	}
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	account, _, folder, err := granularNames(req, req.Folder)
	if err != nil {
		return nil, err
	}
	from, err := a.requiredInstant(e, "from", req.From, account)
	if err != nil {
		return nil, err
	}
	until, err := a.requiredInstant(e, "until", req.Until, account)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"strategy": "undelete", "account": names.Arg(account), "from": from.UTC(), "until": until.UTC(), "dry_run": req.DryRun}
	if folder != "" {
		params["folder"] = names.Arg(folder)
	}
	return a.startGranular(e, account, params, func(p *restore.Progress) (*restore.Prepared, error) {
		return restore.PrepareUndelete(e.repo, e.store, restore.UndeleteOptions{Account: account, From: from, Until: until, Folder: folder,
			DryRun: req.DryRun, PostCommand: e.doc.Config().Restore.PostCommand, PostCommandUser: e.doc.Config().Restore.PostCommandUser, Progress: p, Now: a.cfg.Now})
	})
}

// StartIntoFolder starts a restore of an account's tree under a folder of
// the live account (restore account -into-folder).
func (a *Agent) StartIntoFolder(req api.RestoreRequest) (*api.Operation, error) {
	if req.To != "" {
		return nil, &BadRequestError{errors.New("restore -into-folder writes into the account itself; it does not take \"to\"")}
	}
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	account, _, folder, err := granularNames(req, req.IntoFolder)
	if err != nil {
		return nil, err
	}
	at, err := a.accountInstant(e, "at", req.At, account)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"strategy": "into-folder", "account": names.Arg(account), "into_folder": names.Arg(folder), "dry_run": req.DryRun}
	if !at.IsZero() {
		params["at"] = at.UTC()
	}
	return a.startGranular(e, account, params, func(p *restore.Progress) (*restore.Prepared, error) {
		return restore.PrepareIntoFolder(e.repo, e.store, restore.IntoFolderOptions{Account: account, At: at, Folder: folder,
			DryRun: req.DryRun, PostCommand: e.doc.Config().Restore.PostCommand, PostCommandUser: e.doc.Config().Restore.PostCommandUser, Progress: p})
	})
}

// granularNames decodes the account, target account and folder of a
// request ("b64:" names included).
func granularNames(req api.RestoreRequest, folderArg string) (account, to, folder string, err error) {
	if req.Account == "" {
		return "", "", "", &BadRequestError{errors.New("restore needs an account")}
	}
	if account, err = decodeArg("account", req.Account); err != nil {
		return "", "", "", err
	}
	if req.To != "" {
		if to, err = decodeArg("to", req.To); err != nil {
			return "", "", "", err
		}
	}
	if folderArg != "" {
		if folder, err = decodeArg("folder", folderArg); err != nil {
			return "", "", "", err
		}
	}
	return account, to, folder, nil
}

// requiredInstant reads an instant of an undelete, which must be given,
// as accountInstant does.
func (a *Agent) requiredInstant(e *engine, field, s, account string) (time.Time, error) {
	if s == "" || s == "last" {
		return time.Time{}, &BadRequestError{fmt.Errorf("restore-undelete needs %q, an instant", field)}
	}
	return a.accountInstant(e, field, s, account)
}

// startGranular starts a granular restore writing into one account: as
// a restore of that account (one at a time per account, refused while a
// purge runs and refusing purges while it runs). prepare checks the input
// and chooses the messages before the operation starts, so that bad input
// is refused at once and nothing is written.
func (a *Agent) startGranular(e *engine, to string, params map[string]any, prepare func(*restore.Progress) (*restore.Prepared, error)) (*api.Operation, error) {
	if _, err := e.store.Account(to); err != nil {
		return nil, &BadRequestError{err}
	}
	if op := a.ops.runningPrefix(api.KindPurge); op != nil {
		return op, fmt.Errorf("a purge (%s) is running; restore after it: %w", op.ID, ErrBusy)
	}
	p := &restore.Progress{}
	plan, err := prepare(p)
	if err != nil {
		return nil, &BadRequestError{err}
	}
	progress := func() api.Progress {
		return api.Progress{ItemsDone: p.ItemsDone.Load(), ItemsTotal: p.ItemsTotal.Load(), Bytes: p.BytesDone.Load()}
	}
	return a.ops.start(api.TypeRestorePrefix+to, params, progress, func(ctx context.Context) (any, error) {
		started := a.cfg.Now()
		res, err := plan.Run(ctx)
		if res != nil && !res.DryRun && res.Messages > 0 {
			r := catalog.Restore{Account: res.To, Source: res.Account, Kind: res.Strategy, Started: started.UnixNano(), Messages: res.Messages}
			if res.At != nil {
				r.Instant = res.At.UnixNano()
			}
			a.logRestore(ctx, e, r, err)
		}
		return toAPI[api.LiveRestoreResult](res), err
	})
}
