// Package agent is the mailkeep agent: the long-running process on a mail
// server that holds the server's config document, opens its backup
// repository, runs SmartScans on schedule and on request, restores
// accounts and verifies the repository, and reports all of it over an
// HTTP API (docs/API.md) on a unix socket or TCP with a token.
//
// Operations run asynchronously: starting one returns its id at once;
// its progress and outcome are read, and it can be cancelled, through the
// API. At most one operation of a kind runs at a time.
//
// The types on the wire are those of package api (runtime/agent/api),
// which clients import instead of this package; the agent converts its
// engines' results into them (results.go). What an evaluation reports is
// decided by the rules of runtime/agent/impact, which read the agent's catalog
// and store through impact.Data (impact_data.go).
package agent
