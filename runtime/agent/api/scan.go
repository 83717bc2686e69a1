package api

// ScanResult summarises a finished (or stopped) SmartScan: the result of
// a KindSmartScan operation.
type ScanResult struct {
	Accounts        int   `json:"accounts"`
	DeletedAccounts int   `json:"deleted_accounts"`
	Items           int64 `json:"items"`
	New             int64 `json:"new"`
	Changed         int64 `json:"changed"`
	Moved           int64 `json:"moved"`
	Deleted         int64 `json:"deleted"`
	Unchanged       int64 `json:"unchanged"`
	// FoldersSkipped counts the folders not listed at all because their
	// stamp showed they had not changed since their last listing.
	FoldersSkipped int   `json:"folders_skipped"`
	Vanished       int64 `json:"vanished"`
	BytesRead      int64 `json:"bytes_read"`
	BytesStored    int64 `json:"bytes_stored"`
	NewBlobs       int64 `json:"new_blobs"`
	// Mismatches lists, for a deep scan, the items whose content differs
	// from their backup.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// Skipped counts, by reason ("symlink", "fifo", "unreadable", ...),
	// the files and directories of the mail store that were not read;
	// SkippedItems names the first hundred of them. What a skip hides is
	// never recorded as deleted: the backup of a skipped message or folder
	// stays as it was.
	Skipped      map[string]int64 `json:"skipped,omitempty"`
	SkippedItems []SkippedItem    `json:"skipped_items,omitempty"`
	// Warnings are problems of the mail store that did not stop anything
	// from being backed up (a damaged dovecot-uidlist, a folder without
	// cur/), each naming its account and path.
	Warnings []string `json:"warnings,omitempty"`
	// Errors are per-account problems that did not stop the scan, and
	// Failed the accounts they concern (not recorded by this run).
	Errors []string `json:"errors,omitempty"`
	Failed []string `json:"failed_accounts,omitempty"`
	// Busy are the accounts not recorded because a restore was writing
	// into them.
	Busy []string `json:"busy_accounts,omitempty"`
}

// SkippedTotal returns how many files and directories were skipped.
func (r *ScanResult) SkippedTotal() int64 {
	var n int64
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// Mismatch is a message whose content no longer matches its backup (a
// deep SmartScan). Its fields have no JSON tags: they are on the wire as
// they are named.
type Mismatch struct {
	Account, Folder, Name string
	Backup, Live          string // hex blob ids
}

// SkippedItem is one file or directory of the mail store a scan did not
// read. Path is relative to the account's Maildir root (or its CONTROL=
// directory); names that are not UTF-8 are shown with U+FFFD and given
// exactly in the _b64 fields.
type SkippedItem struct {
	Account    string `json:"account"`
	AccountB64 string `json:"account_b64,omitempty"`
	Path       string `json:"path"`
	PathB64    string `json:"path_b64,omitempty"`
	Reason     string `json:"reason"`
	Error      string `json:"error,omitempty"`
}
