// Package selection decides which accounts a policy covers: the accounts
// block's include and exclude globs (which accounts are backed up) and the
// legal_hold block's globs (which accounts retention must keep whole).
//
// Patterns are shell globs (path.Match) matched against the account's
// name, "user@domain". SmartScan, the realtime scanner, the retention
// purge and the agent's impact rules all decide through this package, so
// that an account is selected, or held, the same way everywhere.
package selection
