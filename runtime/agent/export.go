package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/export"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// preparedExport is an export checked and ready to stream.
type preparedExport struct {
	e      *engine
	ex     *export.Export
	res    api.ExportResult
	params map[string]any
}

// prepareExport checks an export request and resolves its instant and
// folder, so that every refusal comes before a byte of the stream.
func (a *Agent) prepareExport(req api.ExportRequest) (*preparedExport, *api.Operation, error) {
	e, err := a.current()
	if err != nil {
		return nil, nil, err
	}
	account, err := decodeArg("account", req.Account)
	if err != nil {
		return nil, nil, err
	}
	folder := ""
	if req.Folder != "" {
		if folder, err = decodeArg("folder", req.Folder); err != nil {
			return nil, nil, err
		}
	}
	if req.Format == "" {
		return nil, nil, &BadRequestError{errors.New("export needs a format (mbox, maildir or eml)")}
	}
	at, err := a.accountInstant(e, "at", req.At, account)
	if err != nil {
		return nil, nil, err
	}
	if op := a.ops.runningPrefix(api.KindPurge); op != nil {
		return nil, op, fmt.Errorf("a purge (%s) is running; export after it: %w", op.ID, ErrBusy)
	}
	state, err := restore.StateAt(e.repo, account, at)
	switch {
	case errors.Is(err, restore.ErrNoState), errors.Is(err, restore.ErrPurged):
		return nil, nil, &BadRequestError{err}
	case err != nil:
		return nil, nil, err
	}
	ex, err := export.New(state, req.Format, folder)
	switch {
	case errors.Is(err, export.ErrNoFolder):
		return nil, nil, notFound{err}
	case err != nil:
		return nil, nil, &BadRequestError{err}
	}
	p := &preparedExport{e: e, ex: ex,
		res:    api.ExportResult{Account: account, AccountB64: names.B64(account), Format: req.Format, Folder: folder, At: time.Unix(0, state.At).UTC()},
		params: map[string]any{"account": names.Arg(account), "format": req.Format, "at": time.Unix(0, state.At).UTC()}}
	if folder != "" {
		p.params["folder"] = names.Arg(folder)
		p.res.FolderB64 = names.B64(folder)
	}
	return p, nil, nil
}

// handleExport streams an export. It runs as an operation ("export:" and
// the account), listed with its progress and cancelled by DELETE
// /v1/operations/{id}: the stream is then cut (the connection is closed
// without the result trailer) and the client knows the export failed.
func (a *Agent) handleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	px, busy, err := a.prepareExport(api.ExportRequest{Account: r.PathValue("account"), Folder: q.Get("folder"), Format: q.Get("format"), At: q.Get("at")})
	if err != nil {
		a.refuseExport(w, err, busy)
		return
	}
	rc := http.NewResponseController(w)
	prog := &export.Progress{}
	progress := func() api.Progress {
		return api.Progress{ItemsDone: prog.ItemsDone.Load(), ItemsTotal: prog.ItemsTotal.Load(), Bytes: prog.Bytes.Load(), Phase: "streaming " + px.res.Format}
	}
	ready := make(chan struct{})
	op, err := a.ops.start(api.TypeExportPrefix+px.res.Account, px.params, progress, func(ctx context.Context) (any, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// A cancel must also end a write blocked on a slow reader.
		stop := context.AfterFunc(ctx, func() { _ = rc.SetWriteDeadline(time.Now()) })
		defer stop()
		sum, err := px.ex.Write(ctx, &stallWriter{ctx: ctx, w: w, rc: rc}, px.e.repo, prog)
		if err == nil {
			err = rc.Flush()
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		res := px.res
		res.ExportSummary = api.ExportSummary(sum)
		return res, err
	})
	if err != nil {
		a.refuseExport(w, err, op)
		return
	}
	h := w.Header()
	h.Set("Content-Type", px.ex.ContentType())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(api.HeaderOperation, op.ID)
	h.Set(api.HeaderExportAt, px.res.At.Format(time.RFC3339Nano))
	h.Set(api.HeaderExportItems, strconv.Itoa(px.ex.Messages()))
	h.Set("Trailer", api.HeaderExportResult)
	w.WriteHeader(http.StatusOK)
	close(ready)
	final, _ := a.ops.wait(r.Context(), op.ID)
	if final.State == api.StateRunning {
		// The client went away: stop the export, then cut the stream.
		a.ops.cancel(op.ID)
		final, _ = a.ops.wait(context.Background(), op.ID)
	}
	if final.State != api.StateSucceeded {
		panic(http.ErrAbortHandler)
	}
	var sum api.ExportSummary
	if res, ok := final.Result.(api.ExportResult); ok {
		sum = res.ExportSummary
	}
	b, _ := json.Marshal(sum)
	h.Set(api.HeaderExportResult, string(b))
}

// notFound is an error answered 404, whatever it wraps.
type notFound struct{ err error }

func (e notFound) Error() string   { return e.err.Error() }
func (e notFound) Unwrap() []error { return []error{e.err, catalog.ErrNotFound} }

// refuseExport answers an export that does not start, with the running
// operation that stands in its way when it is busy.
func (a *Agent) refuseExport(w http.ResponseWriter, err error, running *api.Operation) {
	body := api.Error{Error: err.Error()}
	if errors.Is(err, ErrBusy) && running != nil {
		body.Operation = running
		if snap, ok := a.ops.get(running.ID); ok {
			body.Operation = &snap
		}
	}
	writeJSON(w, errorStatus(err), body)
}

// exportStall is how long an export waits for a client that reads nothing
// before it cuts the stream: a stalled export would hold purges off.
const exportStall = 10 * time.Minute

// stallWriter gives every write exportStall to complete.
type stallWriter struct {
	ctx context.Context
	w   http.ResponseWriter
	rc  *http.ResponseController
}

func (s *stallWriter) Write(b []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(exportStall))
	// Checked after the deadline is set: a cancel from now on comes later
	// and sets its own deadline (now) after this one.
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	return s.w.Write(b)
}
