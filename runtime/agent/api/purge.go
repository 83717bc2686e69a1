package api

import "time"

// PurgeResult is what a purge removed, or for a dry run would remove, and why.
// Counts are totals; the lists stop at a limit (Truncated). The result of
// a KindPurge operation.
type PurgeResult struct {
	DryRun bool      `json:"dry_run"`
	Now    time.Time `json:"now"`
	// ItemRetentionDays and AccountRetentionDays are the retention that
	// applied (0: that purge was disabled).
	ItemRetentionDays    int `json:"item_retention_days"`
	AccountRetentionDays int `json:"account_retention_days"`
	// ItemCutoff is Now minus the item retention: live accounts keep every
	// state from it on. AccountCutoff is Now minus the account retention:
	// accounts deleted before it are removed. Nil when disabled.
	ItemCutoff    *time.Time `json:"item_cutoff,omitempty"`
	AccountCutoff *time.Time `json:"account_cutoff,omitempty"`

	// Items counts the deleted messages removed from accounts that stay
	// (a message in a folder whose every version ended before the cutoff;
	// a message moved away counts as deleted from its old folder).
	Items int64 `json:"items"`
	// Versions counts the history versions dropped from what stays: older
	// versions of messages still kept (flag changes, a message gone and
	// back), and folder and account-state versions that ended before the
	// cutoff.
	Versions int64 `json:"versions"`
	// Accounts counts the accounts removed with their whole history.
	Accounts int64 `json:"accounts"`
	// Rows counts every catalog row removed, by table.
	Rows RemovedRows `json:"rows"`

	RemovedItems    []RemovedItem    `json:"removed_items"`
	RemovedAccounts []RemovedAccount `json:"removed_accounts"`
	// Truncated is set when a list stopped at the limit.
	Truncated bool `json:"truncated,omitempty"`
	// Held lists the accounts under legal hold that retention would
	// otherwise have purged.
	Held []HeldAccount `json:"held,omitempty"`

	// BlobsFreed counts the message contents no longer referenced, dropped
	// from the catalog.
	BlobsFreed int64 `json:"blobs_freed"`
	// BytesFreed is the pack-file space given back to the filesystem:
	// packs deleted whole, and what rewriting the others saved.
	BytesFreed int64 `json:"bytes_freed"`
	// BytesCopied is the live record bytes copied by rewrites.
	BytesCopied int64 `json:"bytes_copied"`
	// BytesUnreferenced is the unreferenced record bytes left in packs
	// below the repack threshold; a later purge reclaims them once their
	// pack passes it.
	BytesUnreferenced int64 `json:"bytes_unreferenced"`
	PacksRewritten    int   `json:"packs_rewritten"`
	PacksDeleted      int   `json:"packs_deleted"`
	// Warnings are problems that did not stop the purge (a damaged pack
	// left as it was, rewriting stopped by the space reserve).
	Warnings []string `json:"warnings,omitempty"`
}

// RemovedItem is one deleted message removed from the backup.
type RemovedItem struct {
	Account string `json:"account"`
	Folder  string `json:"folder"`
	// Name is the message's last file name.
	Name string `json:"name"`
	// AccountB64, FolderB64 and NameB64 are the exact bytes of the names
	// that are not UTF-8.
	AccountB64 string `json:"account_b64,omitempty"`
	FolderB64  string `json:"folder_b64,omitempty"`
	NameB64    string `json:"name_b64,omitempty"`
	Size       int64  `json:"size"`
	// DeletedAt is when it left the folder (deleted, expunged or moved).
	DeletedAt time.Time `json:"deleted_at"`
	// Versions is how many versions of it were removed.
	Versions int `json:"versions"`
	// RetentionDays is the item retention that applied.
	RetentionDays int `json:"retention_days"`
}

// RemovedAccount is one account removed with its whole history.
type RemovedAccount struct {
	Account string `json:"account"`
	// AccountB64 is the account's exact bytes when they are not UTF-8.
	AccountB64 string    `json:"account_b64,omitempty"`
	DeletedAt  time.Time `json:"deleted_at"`
	// Reason is "deleted" (gone from the mail store) or "excluded" (left
	// out by accounts { include, exclude }).
	Reason string `json:"reason"`
	// RetentionDays is the account retention that applied.
	RetentionDays int `json:"retention_days"`
	// Messages and Bytes describe its last state; Versions counts every
	// message version removed.
	Messages int64 `json:"messages"`
	Bytes    int64 `json:"bytes"`
	Versions int64 `json:"versions"`
}

// HeldAccount is an account kept whole by legal hold although retention
// would have purged some or all of it.
type HeldAccount struct {
	Account string `json:"account"`
	// AccountB64 is the account's exact bytes when they are not UTF-8.
	AccountB64 string `json:"account_b64,omitempty"`
	// DeletedAt is set for a deleted account.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// WholeAccount is set when the account retention would have removed
	// the account; otherwise KeptVersions counts the versions (messages,
	// folders, account state) retention would have dropped.
	WholeAccount bool  `json:"whole_account,omitempty"`
	KeptVersions int64 `json:"kept_versions,omitempty"`
}

// RemovedRows counts the catalog rows a purge removed, by table.
type RemovedRows struct {
	Items           int64 `json:"items"`
	FolderVersions  int64 `json:"folder_versions"`
	AccountVersions int64 `json:"account_versions"`
	Accounts        int64 `json:"accounts"`
	Blobs           int64 `json:"blobs"`
}
