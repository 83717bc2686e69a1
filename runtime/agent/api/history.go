package api

import "time"

// Event kinds, as they appear in Event.Kind (docs/API.md lists them).
const (
	EventAccountCreated = "account_created"
	EventAccountDeleted = "account_deleted"
	EventFolderCreated  = "folder_created"
	EventFolderRenamed  = "folder_renamed"
	EventFolderDeleted  = "folder_deleted"
	EventBulkDeletion   = "bulk_deletion"
	EventRestored       = "restore"
)

// History is the body of GET /v1/backup/accounts/{account}/history.
type History struct {
	// Account is the account's name for display; AccountB64 its exact
	// bytes when it is not UTF-8.
	Account    string  `json:"account"`
	AccountB64 string  `json:"account_b64,omitempty"`
	Events     []Event `json:"events"`
}

// Event is one significant moment of an account's history.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Folder is the folder concerned (the new name of a renamed one);
	// FolderB64 its exact bytes when they are not UTF-8.
	Folder    string `json:"folder,omitempty"`
	FolderB64 string `json:"folder_b64,omitempty"`
	// From is a renamed folder's old name.
	From    string `json:"from,omitempty"`
	FromB64 string `json:"from_b64,omitempty"`
	// Began is when the removal of a deleted account or folder began:
	// restore an instant before it to get back what was there. Until is the last removal of a bulk deletion.
	Began *time.Time `json:"began,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// Messages counts the messages concerned: held by a created account,
	// held before the removal of a deleted account or folder, gone in a
	// bulk deletion, or written by a restore. Folders counts the folders
	// of a created or deleted account.
	Messages int `json:"messages"`
	Folders  int `json:"folders,omitempty"`
	// PerFolder splits a bulk deletion by folder.
	PerFolder []FolderCount `json:"per_folder,omitempty"`
	// Restore describes a restore made into the account.
	Restore *RestoreEvent `json:"restore,omitempty"`
}

// FolderCount is a number of messages of one folder.
type FolderCount struct {
	Folder    string `json:"folder"`
	FolderB64 string `json:"folder_b64,omitempty"`
	Messages  int    `json:"messages"`
}

// RestoreEvent is a restore made into the account.
type RestoreEvent struct {
	// Kind is "account", "item", "undelete" or "into-folder".
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// SourceB64 is Source's exact bytes when they are not UTF-8.
	SourceB64 string     `json:"source_b64,omitempty"`
	Instant   *time.Time `json:"instant,omitempty"`
	Finished  time.Time  `json:"finished"`
	Outcome   string     `json:"outcome"`
	Operation string     `json:"operation"`
}

// Diff says what changed in an account between two instants (GET
// /v1/backup/accounts/{account}/diff).
type Diff struct {
	// Account is the account's name for display; AccountB64 its exact
	// bytes when it is not UTF-8.
	Account    string    `json:"account"`
	AccountB64 string    `json:"account_b64,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Added, Deleted, Moved and Reflagged count the messages of each kind.
	Added     int `json:"added"`
	Deleted   int `json:"deleted"`
	Moved     int `json:"moved"`
	Reflagged int `json:"reflagged"`
	// Folders lists, by folder name, the folders with a change.
	Folders []FolderDiff `json:"folders"`
}

// FolderDiff is what changed in one folder. A moved message is listed in
// both folders: as moved out of the one it left, moved in to the other.
type FolderDiff struct {
	Folder    string        `json:"folder"`
	FolderB64 string        `json:"folder_b64,omitempty"`
	Added     []DiffMessage `json:"added,omitempty"`
	Deleted   []DiffMessage `json:"deleted,omitempty"`
	MovedIn   []DiffMessage `json:"moved_in,omitempty"`
	MovedOut  []DiffMessage `json:"moved_out,omitempty"`
	Reflagged []DiffMessage `json:"reflagged,omitempty"`
}

// DiffMessage is one message of a diff.
type DiffMessage struct {
	// ID is the item id of the message's version at the diff's end (at
	// its start, for a deleted message): `restore item` takes it.
	ID int64 `json:"id"`
	MessageSummary
	Received time.Time `json:"received"`
	Size     int64     `json:"size"`
	Flags    string    `json:"flags"`
	Keywords []string  `json:"keywords"`
	// OldFlags and OldKeywords are a re-flagged message's flags at the
	// diff's start.
	OldFlags    *string  `json:"old_flags,omitempty"`
	OldKeywords []string `json:"old_keywords,omitempty"`
	// Other is the folder a moved message came from (moved in) or went to
	// (moved out).
	Other    string `json:"other_folder,omitempty"`
	OtherB64 string `json:"other_folder_b64,omitempty"`
}

// MessageSummary is what a listing shows of a message besides its place and
// flags: its sender, subject (RFC 2047 decoded) and Date header (nil when
// missing or unreadable), as recorded at backup time.
type MessageSummary struct {
	Sender  string     `json:"sender"`
	Subject string     `json:"subject"`
	Date    *time.Time `json:"date,omitempty"`
}
