// Package history answers the questions an administrator asks before
// choosing what to restore, from the catalog alone: what happened to an
// account and when (Events: created, deleted, folders created, renamed and
// deleted, bulk deletions, restores made into it), and what changed
// between two instants (Diff: messages added, deleted, moved and
// re-flagged, per folder). Both only read the catalog, so they answer
// while SmartScans, purges and restores run.
package history
