// Package testkit holds the helpers that tests of several packages share:
// golden files rewritten with -update, a settable clock, and a fixture that
// generates a mail store, opens it and opens a repository beside it. It is
// imported by tests only.
package testkit
