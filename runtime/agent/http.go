package agent

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// maxBody bounds request bodies (config documents are a few KB).
const maxBody = 1 << 20

// Handler returns the agent's HTTP API. token, when not empty, is required
// as "Authorization: Bearer TOKEN" on every request. docs/API.md documents
// the API.
func (a *Agent) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/config", a.handleGetConfig)
	mux.HandleFunc("PUT /v1/config", a.handlePutConfig)
	mux.HandleFunc("POST /v1/config/evaluate", a.handleEvaluate)
	mux.HandleFunc("GET /v1/status", a.handleStatus)
	mux.HandleFunc("GET /v1/operations", a.handleListOps)
	mux.HandleFunc("POST /v1/operations", a.handleStartOp)
	mux.HandleFunc("GET /v1/operations/{id}", a.handleGetOp)
	mux.HandleFunc("DELETE /v1/operations/{id}", a.handleCancelOp)
	mux.HandleFunc("GET /v1/backup/accounts", a.handleAccounts)
	mux.HandleFunc("GET /v1/backup/accounts/{account}", a.handleAccounts)
	mux.HandleFunc("GET /v1/backup/accounts/{account}/history", a.handleHistory)
	mux.HandleFunc("GET /v1/backup/accounts/{account}/diff", a.handleDiff)
	mux.HandleFunc("GET /v1/backup/accounts/{account}/export", a.handleExport)
	mux.HandleFunc("GET /v1/backup/accounts/{account}/search", a.handleSearch)
	var h http.Handler = mux
	if token != "" {
		h = a.requireToken(token, h)
	}
	return a.logRequests(h)
}

// requireToken checks the bearer token in constant time. Failures are
// logged with the client's address, never with what it sent.
func (a *Agent) requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			a.log.Warn("request refused: missing or wrong token", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailkeep"`)
			writeError(w, http.StatusUnauthorized, "a valid token is required (Authorization: Bearer ...)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests logs each request's method, path, status and duration.
func (a *Agent) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		a.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (an export
// flushes and sets write deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.Error{Error: msg})
}

// errorStatus maps an agent error to its HTTP status.
func errorStatus(err error) int {
	var bad *BadRequestError
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnconfigured):
		return http.StatusConflict
	case errors.Is(err, ErrStale), errors.Is(err, ErrBusy):
		return http.StatusConflict
	case errors.Is(err, ErrPreconditionRequired):
		return http.StatusPreconditionRequired
	case errors.Is(err, catalog.ErrNotFound):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func setConfigHeaders(w http.ResponseWriter, cs api.ConfigState) {
	w.Header().Set("ETag", strconv.Quote(cs.ETag))
	w.Header().Set(api.HeaderRevision, strconv.FormatInt(cs.Revision, 10))
}

func (a *Agent) handleGetConfig(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Config()
	if errors.Is(err, ErrUnconfigured) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	setConfigHeaders(w, cs)
	writeJSON(w, http.StatusOK, cs)
}

// readConfigBody reads a config document from a request, answering 400
// or 413 itself when it cannot.
func readConfigBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the request: "+err.Error())
		return nil, false
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "config document larger than 1 MiB")
		return nil, false
	}
	return body, true
}

func (a *Agent) handlePutConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	ifMatch := strings.Trim(r.Header.Get("If-Match"), `"`)
	if r.Header.Get("If-None-Match") == "*" {
		ifMatch = "*"
	}
	cs, err := a.PutConfig(body, ifMatch, r.Header.Get(api.HeaderClient))
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	setConfigHeaders(w, cs)
	writeJSON(w, http.StatusOK, cs)
}

func (a *Agent) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.Status())
}

func (a *Agent) handleListOps(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.OperationList{Operations: a.ops.list()})
}

func (a *Agent) handleStartOp(w http.ResponseWriter, r *http.Request) {
	var req api.OperationRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad operation request: "+err.Error())
		return
	}
	var op *api.Operation
	var err error
	switch req.Type {
	case api.KindSmartScan:
		op, err = a.StartSmartScan(req.Deep)
	case api.KindRestore:
		op, err = a.StartRestore(req.RestoreRequest)
	case api.KindVerify:
		op, err = a.StartVerify(req.Deep)
	case api.KindPurge:
		op, err = a.StartPurge(req.DryRun)
	case api.KindRestoreItem:
		op, err = a.StartRestoreItems(req.RestoreRequest)
	case api.KindRestoreUndelete:
		op, err = a.StartUndelete(req.RestoreRequest)
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown operation type %q (smartscan, restore, restore-item, restore-undelete, verify, purge)", req.Type))
		return
	}
	if err != nil {
		body := api.Error{Error: err.Error()}
		if errors.Is(err, ErrBusy) && op != nil {
			snap, _ := a.ops.get(op.ID)
			body.Operation = &snap
		}
		writeJSON(w, errorStatus(err), body)
		return
	}
	snap, _ := a.ops.get(op.ID)
	w.Header().Set("Location", api.Version+"/operations/"+op.ID)
	writeJSON(w, http.StatusAccepted, snap)
}

func (a *Agent) handleGetOp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var op api.Operation
	var ok bool
	if wait := r.URL.Query().Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil || d < 0 || d > 10*time.Minute {
			writeError(w, http.StatusBadRequest, "wait must be a duration up to 10m, such as 30s")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		op, ok = a.ops.wait(ctx, id)
		cancel()
	} else {
		op, ok = a.ops.get(id)
	}
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no operation %q", id))
		return
	}
	writeJSON(w, http.StatusOK, op)
}

func (a *Agent) handleCancelOp(w http.ResponseWriter, r *http.Request) {
	op, ok := a.ops.cancel(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no operation %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusAccepted, op)
}

func (a *Agent) handleAccounts(w http.ResponseWriter, r *http.Request) {
	e, err := a.current()
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	account := ""
	if arg := r.PathValue("account"); arg != "" {
		if account, err = decodeArg("account", arg); err != nil {
			writeError(w, errorStatus(err), err.Error())
			return
		}
	}
	stats, err := e.repo.Catalog.Stats(account)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	out := []api.AccountListing{}
	for _, s := range stats {
		l := api.AccountListing{Items: s.Items, Folders: s.Folders, Bytes: s.Bytes, Versions: s.Versions,
			FirstBackup: time.Unix(0, s.FirstBackup).UTC(), LastBackup: time.Unix(0, s.LastBackup).UTC(),
			RestorableFrom: time.Unix(0, max(s.FirstBackup, s.ExactFrom)).UTC()}
		l.Name, l.NameB64 = names.Fields(s.Name)
		if s.DeletedAt != 0 {
			d := time.Unix(0, s.DeletedAt).UTC()
			l.DeletedAt = &d
		}
		if s.LastDeletion != 0 {
			d, b := time.Unix(0, s.LastDeletion).UTC(), time.Unix(0, s.DeletionBegan).UTC()
			l.LastDeletion, l.DeletionBegan = &d, &b
		}
		out = append(out, l)
	}
	writeJSON(w, http.StatusOK, api.AccountList{Accounts: out})
}
