package api

import (
	"fmt"
	"strings"
	"time"
)

// RestoreResult says what an account restore did (or, for a dry run,
// would do): the result of a KindRestore operation without IntoFolder.
type RestoreResult struct {
	Account string `json:"account"`
	To      string `json:"to"`
	// AccountB64 and ToB64 are the exact bytes of the names that are not
	// UTF-8.
	AccountB64 string    `json:"account_b64,omitempty"`
	ToB64      string    `json:"to_b64,omitempty"`
	At         time.Time `json:"at"`
	DryRun     bool      `json:"dry_run"`
	// Mode is "full" when the target was empty or missing (folders, UIDs
	// and UIDVALIDITY restored as they were) or "merge" when it had mail
	// (missing messages added, present ones left alone, the server assigns
	// new UIDs).
	Mode string `json:"mode"`
	// Resumed is true when the target held what a full restore of the
	// same state wrote before it was cut short (its marker): this restore
	// carried it on as a full one.
	Resumed bool           `json:"resumed,omitempty"`
	Folders []FolderResult `json:"folders"`
	// Messages and Bytes count what was written (or, for a dry run, would
	// be); Skipped the messages already there.
	Messages int   `json:"messages"`
	Skipped  int   `json:"skipped"`
	Bytes    int64 `json:"bytes"`
	// Failed counts the messages that could not be written; FailedItems
	// names each. Problems are the failures that are no message's (a
	// folder's keywords or UID list, the subscriptions). A restore with
	// either wrote everything else and ends with an error.
	Failed      int             `json:"failed"`
	FailedItems []FailedMessage `json:"failed_items,omitempty"`
	Problems    []string        `json:"problems,omitempty"`
	// PostCommand is the outcome of restore.post_command, when one ran.
	PostCommand *CommandResult `json:"post_command,omitempty"`
}

// FolderResult is one folder's share of a restore.
type FolderResult struct {
	// Name is the folder's name; NameB64 its exact bytes when they are
	// not UTF-8.
	Name     string `json:"name"`
	NameB64  string `json:"name_b64,omitempty"`
	Messages int    `json:"messages"`
	Skipped  int    `json:"skipped"`
	Bytes    int64  `json:"bytes"`
	Created  bool   `json:"created"`
	// Failed counts the folder's messages that could not be written;
	// Error is the folder's own failure, if any (created, locked, its
	// keywords or UID list).
	Failed int    `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// LiveRestoreResult says what a granular restore did (or, for a dry run,
// would do): the result of KindRestoreItem, KindRestoreUndelete and
// KindRestore with IntoFolder. Messages counts the messages actually
// written.
type LiveRestoreResult struct {
	// Strategy is "item", "undelete" or "into-folder".
	Strategy string `json:"strategy"`
	Account  string `json:"account"`
	To       string `json:"to"`
	// AccountB64, ToB64 and IntoFolderB64 are the exact bytes of the
	// names that are not UTF-8.
	AccountB64    string `json:"account_b64,omitempty"`
	ToB64         string `json:"to_b64,omitempty"`
	IntoFolderB64 string `json:"into_folder_b64,omitempty"`
	// At is the instant restored (into-folder).
	At *time.Time `json:"at,omitempty"`
	// From and Until bound the deletions brought back (undelete).
	From  *time.Time `json:"from,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// IntoFolder is the folder the account's tree went under.
	IntoFolder string `json:"into_folder,omitempty"`
	DryRun     bool   `json:"dry_run"`
	// Keyword is the keyword the restored messages were tagged with.
	Keyword  string         `json:"keyword,omitempty"`
	Folders  []FolderResult `json:"folders"`
	Messages int            `json:"messages"`
	// Skipped counts messages left alone because the same content is in
	// the destination folder already.
	Skipped int `json:"skipped"`
	// Failed counts messages that could not be written; Items names them.
	Failed int   `json:"failed"`
	Bytes  int64 `json:"bytes"`
	// Items lists each message (item and undelete) or, for into-folder,
	// only those that failed.
	Items []ItemResult `json:"items,omitempty"`
	// Subscribed lists the folders the restore created and subscribed.
	Subscribed []string `json:"subscribed,omitempty"`
	// Problems are failures that are no message's (a folder's lock
	// taken over while held).
	Problems []string `json:"problems,omitempty"`
	// Notes are things the user should know, e.g. a full keyword table.
	Notes       []string       `json:"notes,omitempty"`
	PostCommand *CommandResult `json:"post_command,omitempty"`
}

// ItemResult is one message of a granular restore.
type ItemResult struct {
	// ID is the catalog id (items.id) of the version restored.
	ID int64 `json:"id"`
	// Folder is where it went; FromFolder the folder of the version
	// restored, when that differs (e.g. the Trash it was expunged from).
	Folder     string `json:"folder"`
	FromFolder string `json:"from_folder,omitempty"`
	// FolderB64 and FromFolderB64 are the exact bytes of the folder names
	// that are not UTF-8.
	FolderB64     string `json:"folder_b64,omitempty"`
	FromFolderB64 string `json:"from_folder_b64,omitempty"`
	// Name is the file name written (or that would be written).
	Name    string `json:"name,omitempty"`
	Size    int64  `json:"size"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// Received, Date, From and Subject name a message that failed (see
	// FailedMessage).
	Received *time.Time `json:"received,omitempty"`
	Date     *time.Time `json:"date,omitempty"`
	From     string     `json:"from,omitempty"`
	Subject  string     `json:"subject,omitempty"`
}

// FailedMessage is a message a restore could not write, named so that a
// person can find it: its folder, received date, sender and subject (from
// the catalog's header index, when the message is indexed), and why.
type FailedMessage struct {
	// ID is the catalog id (items.id) of the version restored.
	ID     int64  `json:"id"`
	Folder string `json:"folder"`
	// FolderB64 is Folder's exact bytes when they are not UTF-8.
	FolderB64 string `json:"folder_b64,omitempty"`
	// Name is the message's file name in the backup.
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Received is the received date (the file's mtime); Date the Date:
	// header, when it parsed.
	Received time.Time  `json:"received"`
	Date     *time.Time `json:"date,omitempty"`
	From     string     `json:"from,omitempty"`
	Subject  string     `json:"subject,omitempty"`
	Error    string     `json:"error"`
}

// CommandResult is the outcome of restore.post_command.
type CommandResult struct {
	Command  []string `json:"command"`
	ExitCode int      `json:"exit_code"`
	// Output is the command's combined output, cut to its last 4 KiB.
	Output string `json:"output"`
	// Error says why the command could not run or was stopped.
	Error string `json:"error,omitempty"`
}

// Outcome renders the result in a few words.
func (c *CommandResult) Outcome() string {
	switch {
	case c.Error != "":
		return "failed: " + c.Error
	case c.ExitCode != 0:
		return fmt.Sprintf("exited with status %d: %s", c.ExitCode, strings.TrimSpace(c.Output))
	}
	return "ok"
}
