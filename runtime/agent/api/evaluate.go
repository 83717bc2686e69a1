package api

import "time"

// Evaluation is the answer of POST /v1/config/evaluate: what replacing the
// live config by a candidate document would do to the backup, without
// applying it.
type Evaluation struct {
	// LiveETag is the ETag of the config the candidate was compared with;
	// "" while the agent is unconfigured (everything is created, nothing
	// is lost).
	LiveETag string `json:"live_etag"`
	// CandidateETag is the ETag of the candidate with defaults filled in.
	CandidateETag string    `json:"candidate_etag"`
	EvaluatedAt   time.Time `json:"evaluated_at"`
	// Impacts lists the changes that matter to the backup's data, one per
	// setting path; changes that cannot lose data are not listed.
	Impacts []Impact `json:"impacts"`
	// Note says why numbers are missing, when the repository could not be
	// read (the backup module is not running, the agent is switching).
	Note string `json:"note,omitempty"`
}

// Impact is what one setting change does to the backup.
type Impact struct {
	// Path is the setting the impact is reported on.
	Path string `json:"path"`
	// Destructive is true when the change can lose backup data or stop
	// backing data up.
	Destructive bool `json:"destructive"`
	// Reason says what the change does, in a sentence, with the numbers.
	Reason string `json:"reason"`
	// Counted is true when Items, Bytes and Accounts were measured in the
	// repository; false when the impact is known only from the settings.
	Counted bool `json:"counted"`
	// Items and Bytes are the messages affected (purgeable at the next
	// purge, or held by accounts that stop being backed up).
	Items int64 `json:"items"`
	Bytes int64 `json:"bytes"`
	// Accounts names the accounts affected, sorted.
	Accounts []string `json:"accounts,omitempty"`
	// NextPurge is when the next purge runs under the candidate, for
	// retention changes.
	NextPurge *time.Time `json:"next_purge,omitempty"`
}
