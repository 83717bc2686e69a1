package agent

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// SearchRequest is what GET /v1/backup/accounts/{account}/search takes,
// as query parameters of the same names.
type SearchRequest struct {
	Account   string // the name, or b64:BASE64
	Sender    string
	Recipient string
	Subject   string
	MessageID string // message_id
	Folder    string // the name, or b64:BASE64
	// Since, Before and At are instants as ParseInstant reads them; Since
	// and Before bound the received date, a bare date meaning the start of
	// that day in the agent's zone (IMAP SINCE and BEFORE). At "" searches
	// the whole history, "last" the messages present now.
	Since, Before, At string
	Deleted           bool
	Limit             int
}

// Values encodes the request as query parameters (the account goes in
// the path).
func (r SearchRequest) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"sender": r.Sender, "recipient": r.Recipient, "subject": r.Subject,
		"message_id": r.MessageID, "folder": r.Folder, "since": r.Since, "before": r.Before, "at": r.At} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if r.Deleted {
		v.Set("deleted", "true")
	}
	if r.Limit != 0 {
		v.Set("limit", strconv.Itoa(r.Limit))
	}
	return v
}

// SearchResponse is the answer of a search.
type SearchResponse struct {
	Account    string     `json:"account"`
	AccountB64 string     `json:"account_b64,omitempty"`
	At         *time.Time `json:"at,omitempty"`
	Count      int        `json:"count"`
	Truncated  bool       `json:"truncated"`
	// Unindexed counts the messages that header filters could not be
	// checked against: their headers are still being indexed (see
	// HeaderIndex).
	Unindexed   int64             `json:"unindexed"`
	HeaderIndex HeaderIndexStatus `json:"header_index"`
	Messages    []FoundMessage    `json:"messages"`
}

// FoundMessage is one message a search found, in the version shown (its
// latest, or the one present at the instant searched).
type FoundMessage struct {
	// ID is the item id of the version shown, which restore item takes.
	ID        int64  `json:"id"`
	Folder    string `json:"folder"`
	FolderB64 string `json:"folder_b64,omitempty"`
	UID       uint32 `json:"uid"`
	// Flags are the Maildir flag letters (DFPRST), Keywords the IMAP
	// keywords.
	Flags    string   `json:"flags"`
	Keywords []string `json:"keywords"`
	// Received is the INTERNALDATE (the file's mtime).
	Received time.Time `json:"received"`
	Size     int64     `json:"size"`
	// Indexed is false while the message's headers are not indexed yet;
	// the header fields are then empty.
	Indexed   bool       `json:"indexed"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	Cc        string     `json:"cc"`
	Subject   string     `json:"subject"`
	Date      *time.Time `json:"date"`
	MessageID string     `json:"message_id"`
	// Deleted says the message is no longer present (deleted, expunged or
	// moved out of the folder) since DeletedAt.
	Deleted   bool       `json:"deleted"`
	DeletedAt *time.Time `json:"deleted_at"`
}

// Search answers a search in the backup. It only reads the catalog: it
// takes no writer lock and is never refused because an operation runs.
func (a *Agent) Search(req SearchRequest) (*SearchResponse, error) {
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
	resp := &SearchResponse{}
	acct, err := e.repo.Catalog.AccountByName(name)
	if err != nil {
		return nil, err
	}
	if req.At != "" {
		at, err := ParseInstant(req.At, now, time.Local)
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
	resp.Messages = make([]FoundMessage, 0, len(res.Messages))
	for i := range res.Messages {
		resp.Messages = append(resp.Messages, foundMessage(&res.Messages[i]))
	}
	resp.Count = len(resp.Messages)
	return resp, nil
}

func foundMessage(f *catalog.Found) FoundMessage {
	it := &f.Item
	m := FoundMessage{ID: it.ID, UID: it.UID, Flags: it.Flags, Keywords: it.Keywords, Received: time.Unix(0, it.MTime).UTC(),
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
	t, err := ParseInstant(s, now, time.Local)
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
	req := SearchRequest{Account: r.PathValue("account"), Sender: v.Get("sender"), Recipient: v.Get("recipient"),
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
