package api

import "time"

// Status is the server listing of one agent (PRODUCT.md §1). A field
// that shows a setting's value names it in its setting tag (see
// StatusSettings).
type Status struct {
	Version  string `json:"version"`
	Hostname string `json:"hostname"`
	// State is "unconfigured", "idle", "running", "switching" or "error".
	State       string    `json:"state"`
	Error       string    `json:"error,omitempty"`
	Started     time.Time `json:"started"`
	Revision    int64     `json:"revision"`
	ETag        string    `json:"etag,omitempty"`
	Description string    `json:"description" setting:"description"`
	// BackupAtStartup is enabled_at_startup.
	BackupAtStartup    bool           `json:"backup_at_startup" setting:"enabled_at_startup"`
	SmartScanAtStartup bool           `json:"smartscan_at_startup" setting:"smartscan_at_startup"`
	Realtime           RealtimeStatus `json:"realtime"`
	SmartScan          JobStatus      `json:"smartscan" setting:"smartscan"`
	Purge              PurgeStatus    `json:"purge" setting:"purge"`
	// HeaderIndex is the background indexing of the search headers of
	// messages stored by an older mailkeep.
	HeaderIndex HeaderIndexStatus `json:"header_index"`
	// Location is "local", or "remote" when a remote copy is configured.
	Location   string `json:"location" setting:"remote.enabled"`
	BackupPath string `json:"backup_path" setting:"backup_path"`
	Space      struct {
		MetadataBytes int64 `json:"metadata_bytes"`
		BackupBytes   int64 `json:"backup_bytes"`
	} `json:"space"`
	ReservedSpace struct {
		BackupMB   int64 `json:"backup_mb" setting:"reserved_space.backup_mb"`
		MetadataMB int64 `json:"metadata_mb" setting:"reserved_space.metadata_mb"`
		// Stopped says why writing stopped, when the reserve was reached.
		Stopped string `json:"stopped,omitempty"`
	} `json:"reserved_space"`
	// OldRepositories are repositories left at earlier backup_paths.
	OldRepositories []RepoRecord `json:"old_repositories"`
	// Inactive lists the settings accepted and stored but not active in
	// this version.
	Inactive []string `json:"inactive_settings"`
	// Running lists the operations in progress.
	Running []Operation `json:"running"`
}

// RealtimeStatus is the realtime scanner's state.
type RealtimeStatus struct {
	Enabled bool `json:"enabled" setting:"realtime_scanner"`
	// State is "running", "degraded", "failed", "not running" or "off".
	State string `json:"state"`
	// Problem says why the scanner failed to start.
	Problem string `json:"problem,omitempty"`
	// Detail is the running scanner's own status: watches, how far behind
	// it is, its last change, overflows and rescans.
	Detail *RealtimeDetail `json:"detail,omitempty"`
}

// JobStatus is a scheduled job's state.
type JobStatus struct {
	Enabled  bool       `json:"enabled" setting:".enabled"`
	Schedule string     `json:"schedule" setting:".schedule"`
	Timezone string     `json:"timezone" setting:".timezone"`
	Active   bool       `json:"active"`
	LastRun  *RunRecord `json:"last_run,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	// LastSuccessAgeSeconds is the age of the last successful run.
	LastSuccessAgeSeconds *int64 `json:"last_success_age_seconds,omitempty"`
	// SkippedRuns counts scheduled runs skipped because the previous one
	// was still running.
	SkippedRuns int `json:"skipped_runs"`
}

// PurgeStatus adds the retention to the purge job's state.
type PurgeStatus struct {
	JobStatus
	ItemRetentionDays    int64 `json:"item_retention_days" setting:".item_retention_days"`
	AccountRetentionDays int64 `json:"account_retention_days" setting:".account_retention_days"`
}

// RunRecord is one finished (or running) job run.
type RunRecord struct {
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Outcome  string     `json:"outcome"`
	Detail   string     `json:"detail,omitempty"`
}

// RealtimeDetail is the running realtime scanner's own status.
type RealtimeDetail struct {
	// State is "running", "degraded" (some directories are not watched:
	// see Problem) or "stopped".
	State string `json:"state"`
	// Problem says why realtime is degraded, naming the limit to raise.
	Problem string `json:"problem,omitempty"`
	// Watches is the number of directories watched.
	Watches int `json:"watches"`
	// Pending is the number of accounts with changes not yet recorded, and
	// BehindSeconds the age of the oldest unrecorded change.
	Pending       int     `json:"pending"`
	BehindSeconds float64 `json:"behind_seconds"`
	// LastChange is when the scanner last recorded a change.
	LastChange *time.Time `json:"last_change,omitempty"`
	// Overflows counts kernel queue overflows; each one rescans every
	// account, and LastRescan says when and why the last rescan happened.
	Overflows  int    `json:"overflows"`
	LastRescan string `json:"last_rescan,omitempty"`
	// Recorded counts the batches recorded; Errors the failed ones.
	Recorded int64  `json:"recorded"`
	Errors   int64  `json:"errors"`
	LastErr  string `json:"last_error,omitempty"`
}

// RepoRecord is a repository the agent has used; repositories left behind
// by a backup_path change are listed in status.
type RepoRecord struct {
	Path      string    `json:"path"`
	FirstUsed time.Time `json:"first_used"`
	LastUsed  time.Time `json:"last_used"`
}

// HeaderIndexStatus is the background indexing of the search headers of
// messages stored by a mailkeep older than the header table (status
// header_index).
type HeaderIndexStatus struct {
	// State is "running", "done", "failed" or "not running" (no
	// repository open, or the agent stopping).
	State string `json:"state"`
	// Done of Total blobs had no headers when the indexing started.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Unreadable counts the blobs whose content could not be read.
	Unreadable int64  `json:"unreadable,omitempty"`
	Error      string `json:"error,omitempty"`
}

// AccountListing is one account in GET /v1/backup/accounts.
type AccountListing struct {
	// Name is the account's name for display (invalid bytes as U+FFFD);
	// NameB64 its exact bytes when it is not UTF-8.
	Name        string     `json:"name"`
	NameB64     string     `json:"name_b64,omitempty"`
	Items       int64      `json:"items"`
	Folders     int64      `json:"folders"`
	Bytes       int64      `json:"bytes"`
	Versions    int64      `json:"versions"`
	FirstBackup time.Time  `json:"first_backup"`
	LastBackup  time.Time  `json:"last_backup"`
	DeletedAt   *time.Time `json:"deleted_at"`
	// LastDeletion is when the account last disappeared from the store,
	// also when it came back since; restore an instant before it to get
	// what was there.
	LastDeletion *time.Time `json:"last_deletion"`
	// DeletionBegan is when that last deletion began: a mailbox removed
	// with `rm -rf` may reach the backup in several steps. `restore
	// account` of a deleted account restores the instant just before it.
	DeletionBegan *time.Time `json:"deletion_began"`
	// RestorableFrom is the earliest instant a restore gives whole: the
	// first backup, or the instant before which the retention purge
	// removed history.
	RestorableFrom time.Time `json:"restorable_from"`
}

// AccountList is the body of GET /v1/backup/accounts (and of
// GET /v1/backup/accounts/{account}, with that account alone).
type AccountList struct {
	Accounts []AccountListing `json:"accounts"`
}
