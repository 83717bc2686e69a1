package api

import (
	"net/url"
	"time"
)

// Export formats (the format parameter of an export).
const (
	// ExportMBox is mboxrd: one file per folder, flags in Status,
	// X-Status and X-Keywords headers.
	ExportMBox = "mbox"
	// ExportMaildir is a Maildir++ tree with the messages under their
	// backed-up file names (flags and keyword letters), dovecot-keywords
	// and dovecot-uidlist.
	ExportMaildir = "maildir"
	// ExportEML is one RFC 5322 file per message, FOLDER/NNNN.eml.
	ExportEML = "eml"
)

// ExportFormats lists the export formats, for messages.
var ExportFormats = []string{ExportMBox, ExportMaildir, ExportEML}

// ExportRequest is what GET /v1/backup/accounts/{account}/export takes,
// the account in the path and the rest as query parameters (Values).
type ExportRequest struct {
	// Account and Folder accept "b64:BASE64"; Folder "" is the whole
	// account.
	Account, Folder string
	// Format is one of ExportFormats.
	Format string
	// At is the instant, as ParseInstant reads it ("" or "last").
	At string
}

// Values encodes the request as query parameters (the account goes in
// the path).
func (r ExportRequest) Values() url.Values {
	q := url.Values{"format": {r.Format}}
	if r.Folder != "" {
		q.Set("folder", r.Folder)
	}
	if r.At != "" {
		q.Set("at", r.At)
	}
	return q
}

// ExportResult is the result of an export operation.
type ExportResult struct {
	Account string `json:"account"`
	// AccountB64 is the account's exact bytes when they are not UTF-8.
	AccountB64 string `json:"account_b64,omitempty"`
	Format     string `json:"format"`
	Folder     string `json:"folder,omitempty"`
	// FolderB64 is the folder's exact bytes when they are not UTF-8.
	FolderB64 string    `json:"folder_b64,omitempty"`
	At        time.Time `json:"at"`
	ExportSummary
}

// ExportSummary says what an export wrote; the agent sends it as the
// trailer HeaderExportResult of a complete stream.
type ExportSummary struct {
	Messages int `json:"messages"`
	Folders  int `json:"folders"`
	// Bytes is the length of the stream.
	Bytes int64 `json:"bytes"`
}
