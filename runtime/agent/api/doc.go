// Package api is the agent's HTTP API as types: every body the agent
// sends or takes (config state, evaluations and their impacts, operation
// requests, operations and their progress, one result type per operation
// kind, status, listings, history, diffs, searches, the error body), the
// operation kinds and states, the header names, the API version and the
// instant syntax every instant parameter shares (ParseInstant).
//
// The agent (runtime/agent) serves these types; the client
// (runtime/client), the planner (reconcile) and the command line decode
// them. The package imports only the standard library, so that a client
// of the API links neither SQLite, nor zstd, nor fsnotify, nor the policy
// language. docs/API.md documents the API itself.
package api
