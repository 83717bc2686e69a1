// Package client talks to a mailkeep agent's HTTP API over a unix socket,
// HTTP or HTTPS. The CLI's operational commands and the reconciler use it.
// It speaks in the types of package api (runtime/agent/api) and imports
// nothing else of mailkeep, so that a client links none of the agent's
// storage (SQLite, zstd, fsnotify).
package client
