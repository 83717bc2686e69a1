// Package restore writes backed-up mail back into the mail store.
//
// Run is the full restore of an account as it was at an instant, into the
// account itself or another one: into an empty (or missing) account it
// writes everything exactly as recorded — folders, messages with their
// names, flags, keywords, dates, UIDs, owners and modes, dovecot-uidlist,
// dovecot-keywords and subscriptions — and keeps a restore marker in the
// account until it is done, so that one cut short is carried on (see
// resume.go); into an account that has mail it merges, adding what is
// missing and never replacing a message. The granular restores
// (RestoreItems, Undelete, IntoFolder and their Prepare forms) add
// messages to a live account without disturbing it (see live.go).
//
// The mail store is reached only through the store driver interface: a
// store.Writable, whose Writer stages and publishes messages (never
// replacing one) and whose Naming says how a message written is named.
package restore
