package agent

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// Search answers a search in the backup. It only reads the catalog: it
// takes no writer lock and is never refused because an operation runs.
func (a *Agent) Search(req api.SearchRequest) (*api.SearchResponse, error) {
	e, err := a.current()
	if err != nil {
		return nil, err
	}
	name, err := decodeArg("account", req.Account)
	if err != nil {
		return nil, err
	}
	folder, err := decodeArg("folder", req.Folder)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Now()
	q := catalog.SearchQuery{Sender: req.Sender, Recipient: req.Recipient, Subject: req.Subject,
		MessageID: req.MessageID, Folder: folder, Deleted: req.Deleted, Limit: req.Limit}
	if q.Since, err = searchInstant("since", req.Since, now); err != nil {
		return nil, err
	}
	if q.Before, err = searchInstant("before", req.Before, now); err != nil {
		return nil, err
	}
	if q.Since != 0 && q.Before != 0 && q.Before <= q.Since {
		return nil, &BadRequestError{fmt.Errorf("-before %s is not after -since %s: no message can match", req.Before, req.Since)}
	}
	if req.Limit < 0 {
		return nil, &BadRequestError{fmt.Errorf("limit %d: must be 0 (no limit) or more", req.Limit)}
	}
	resp := &api.SearchResponse{}
	acct, err := e.repo.Catalog.AccountByName(name)
	if err != nil {
		return nil, err
	}
	if req.At != "" {
		at, err := api.ParseInstant(req.At, now, time.Local)
		if err != nil {
			return nil, &BadRequestError{fmt.Errorf("-at: %w", err)}
		}
		if at.IsZero() { // "last"
			at = now
		}
		if err := checkInHistory("-at", req.At, at, acct, now); err != nil {
			return nil, err
		}
		q.At = at.UnixNano()
		resp.At = timePtr(q.At)
	}
	res, err := e.repo.Catalog.Search(name, q)
	if err != nil {
		return nil, err
	}
	resp.Account, resp.AccountB64 = names.Fields(name)
	resp.Truncated, resp.Unindexed, resp.HeaderIndex = res.Truncated, res.Unindexed, a.hdr.status()
	resp.Messages = make([]api.FoundMessage, 0, len(res.Messages))
	for i := range res.Messages {
		resp.Messages = append(resp.Messages, foundMessage(&res.Messages[i]))
	}
	resp.Count = len(resp.Messages)
	return resp, nil
}

func foundMessage(f *catalog.Found) api.FoundMessage {
	it := &f.Item
	m := api.FoundMessage{ID: it.ID, UID: it.UID, Flags: it.Flags, Keywords: it.Keywords, Received: time.Unix(0, it.MTime).UTC(),
		Size: it.Size, Deleted: f.DeletedAt != 0}
	if m.Keywords == nil {
		m.Keywords = []string{}
	}
	m.Folder, m.FolderB64 = names.Fields(it.Folder)
	if h := f.Headers; h != nil {
		m.Indexed, m.From, m.To, m.Cc, m.Subject, m.MessageID = true, h.From, h.To, h.Cc, h.Subject, h.MessageID
		if h.Date != 0 {
			m.Date = timePtr(h.Date)
		}
	}
	if f.DeletedAt != 0 {
		m.DeletedAt = timePtr(f.DeletedAt)
	}
	return m
}

func timePtr(ns int64) *time.Time {
	t := time.Unix(0, ns).UTC()
	return &t
}

// searchInstant reads -since or -before: an instant as ParseInstant
// reads it, "" for none.
func searchInstant(what, s string, now time.Time) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	t, err := api.ParseInstant(s, now, time.Local)
	if err == nil && t.IsZero() {
		err = fmt.Errorf("instant %q: give a date or an instant", s)
	}
	if err != nil {
		return 0, &BadRequestError{fmt.Errorf("-%s: %w", what, err)}
	}
	return t.UnixNano(), nil
}

func (a *Agent) handleSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := api.SearchRequest{Account: r.PathValue("account"), Sender: v.Get("sender"), Recipient: v.Get("recipient"),
		Subject: v.Get("subject"), MessageID: v.Get("message_id"), Folder: v.Get("folder"),
		Since: v.Get("since"), Before: v.Get("before"), At: v.Get("at")}
	var err error
	if s := v.Get("deleted"); s != "" {
		if req.Deleted, err = strconv.ParseBool(s); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("deleted=%q: use true or false", s))
			return
		}
	}
	if s := v.Get("limit"); s != "" {
		if req.Limit, err = strconv.Atoi(s); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit=%q: not a number", s))
			return
		}
	}
	resp, err := a.Search(req)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
