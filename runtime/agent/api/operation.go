package api

import (
	"encoding/json"
	"time"
)

// Operation kinds: the Type of an OperationRequest. The result of a
// finished operation (Operation.Result) is, by kind: ScanResult for
// KindSmartScan, RestoreResult for KindRestore (LiveRestoreResult with
// IntoFolder), LiveRestoreResult for KindRestoreItem and
// KindRestoreUndelete, VerifyReport for KindVerify, PurgeResult for
// KindPurge and ExportResult for an export (GET .../export).
const (
	KindSmartScan       = "smartscan"
	KindRestore         = "restore"
	KindRestoreItem     = "restore-item"
	KindRestoreUndelete = "restore-undelete"
	KindVerify          = "verify"
	KindPurge           = "purge"
	KindExport          = "export"
)

// Kinds lists the kinds an OperationRequest may name, for messages.
var Kinds = []string{KindSmartScan, KindRestore, KindRestoreItem, KindRestoreUndelete, KindVerify, KindPurge}

// Operation types that name an account: every restore of any kind is
// listed as "restore:" and the account it writes into, an export as
// "export:" and its account.
const (
	TypeRestorePrefix = KindRestore + ":"
	TypeExportPrefix  = KindExport + ":"
)

// Operation states.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Progress is a snapshot of a running operation's counters.
type Progress struct {
	ItemsDone  int64   `json:"items_done"`
	ItemsTotal int64   `json:"items_total"`
	Bytes      int64   `json:"bytes"`
	RateBytes  float64 `json:"rate_bytes_per_second"`
	Errors     int64   `json:"errors"`
	// Phase says what the operation is doing, e.g. "scanning accounts".
	Phase string `json:"phase,omitempty"`
}

// Operation is an asynchronous job of the agent: a SmartScan, a restore,
// a verify.
type Operation struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Params   map[string]any `json:"params"`
	State    string         `json:"state"`
	Started  time.Time      `json:"started"`
	Finished *time.Time     `json:"finished,omitempty"`
	Progress Progress       `json:"progress"`
	// Result is the operation's report once finished (also when it failed
	// part-way: what was done until then): on the agent, a value of the
	// result type of its kind; decoded by a client, a generic JSON value
	// (DecodeResult reads it into its type).
	Result any `json:"result,omitempty"`
	// Error says why the operation failed or stopped.
	Error string `json:"error,omitempty"`
}

// DecodeResult reads an operation's result into out, a pointer to the
// result type of its kind. It reports false when the operation has no
// result or the result is not of that shape.
func DecodeResult(op *Operation, out any) bool {
	if op.Result == nil {
		return false
	}
	b, err := json.Marshal(op.Result)
	return err == nil && json.Unmarshal(b, out) == nil
}

// OperationList is the body of GET /v1/operations, newest first.
type OperationList struct {
	Operations []Operation `json:"operations"`
}

// OperationRequest is the body of POST /v1/operations.
type OperationRequest struct {
	// Type is one of Kinds: "smartscan", "restore", "restore-item",
	// "restore-undelete", "verify" or "purge".
	Type string `json:"type"`
	Deep bool   `json:"deep,omitempty"`
	RestoreRequest
}

// RestoreRequest is what POST /v1/operations takes for a restore.
type RestoreRequest struct {
	Account string `json:"account,omitempty"`
	// At is the instant to restore, as ParseInstant reads it; "" or
	// "last" for the latest state.
	At     string `json:"at,omitempty"`
	To     string `json:"to,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
	GranularRequest
}

// GranularRequest holds the fields of the granular restores in
// POST /v1/operations: type "restore-item" (Items, To, Folder),
// "restore-undelete" (From, Until, Folder) and type "restore" with
// IntoFolder (At). Account and folder names accept "b64:BASE64".
type GranularRequest struct {
	// Items are catalog item ids (items.id), as backup search gives them.
	Items []int64 `json:"items,omitempty"`
	// Folder is the folder to restore into; "" means each message's own.
	Folder string `json:"folder,omitempty"`
	// From and Until bound the deletions an undelete brings back, as
	// ParseInstant reads them.
	From  string `json:"from,omitempty"`
	Until string `json:"until,omitempty"`
	// IntoFolder makes a restore write the account's tree under this new
	// folder of the live account instead of into its folders.
	IntoFolder string `json:"into_folder,omitempty"`
}
