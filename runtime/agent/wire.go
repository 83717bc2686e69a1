package agent

import "github.com/mailkeep/mailkeep/runtime/agent/api"

// The agent serves the types of package api. These aliases are the names
// the agent's own code and tests use for them; clients of the agent use
// package api itself (they must not import the agent).
type (
	ConfigState       = api.ConfigState
	Applied           = api.Applied
	Evaluation        = api.Evaluation
	Impact            = api.Impact
	Operation         = api.Operation
	Progress          = api.Progress
	OperationRequest  = api.OperationRequest
	RestoreRequest    = api.RestoreRequest
	GranularRequest   = api.GranularRequest
	Status            = api.Status
	RealtimeStatus    = api.RealtimeStatus
	JobStatus         = api.JobStatus
	PurgeStatus       = api.PurgeStatus
	RunRecord         = api.RunRecord
	RepoRecord        = api.RepoRecord
	HeaderIndexStatus = api.HeaderIndexStatus
	AccountListing    = api.AccountListing
	SearchRequest     = api.SearchRequest
	SearchResponse    = api.SearchResponse
	FoundMessage      = api.FoundMessage
	ExportRequest     = api.ExportRequest
	ExportResult      = api.ExportResult
)

// Operation states (api.StateRunning and the others).
const (
	StateRunning   = api.StateRunning
	StateSucceeded = api.StateSucceeded
	StateFailed    = api.StateFailed
	StateCancelled = api.StateCancelled
)
