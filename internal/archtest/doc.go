// Package archtest holds the test that enforces the import rules of
// docs/ARCHITECTURE.md: which of mailkeep's packages may import which, and
// which third-party packages the planner and the API client must never
// pull in. It has no code of its own.
package archtest
