package api

import (
	"encoding/json"
	"time"
)

// ConfigState is the agent's live configuration (GET and PUT /v1/config).
type ConfigState struct {
	Document    json.RawMessage `json:"document"`
	ETag        string          `json:"etag"`
	Revision    int64           `json:"revision"`
	UpdatedAt   time.Time       `json:"updated_at"`
	LastApplied *Applied        `json:"last_applied"`
}

// Applied records the last change pushed by a client (mailkeep apply).
type Applied struct {
	ETag   string    `json:"etag"`
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	// Document is the canonical document that was applied, so that plan
	// can show what changed on the agent since (drift). Absent in state
	// written by agents older than this field.
	Document json.RawMessage `json:"document,omitempty"`
}
