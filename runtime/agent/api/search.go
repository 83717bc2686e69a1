package api

import (
	"net/url"
	"strconv"
	"time"
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
