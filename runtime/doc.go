// Package runtime will hold the mailkeep agent: its HTTP API, the mail store
// driver, the backup repository, the realtime scanner, SmartScan, the
// scheduler, purge, restore and the plugin host.
//
// It is empty in this version; the agent's config document is already
// defined by package schema (Document, DecodeDocument).
package runtime
