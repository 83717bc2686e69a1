// Package purge keeps a backup repository within its retention: it removes
// deleted messages and deleted accounts once their retention has passed,
// drops history that no restore inside the retention window can need, and
// gives the space back (docs/REPOSITORY.md, "Purge").
//
// # What is removed
//
// Retention is counted in 24-hour days back from Options.Now. With
// item_retention_days = N, the item cutoff is C = Now − N days, and every
// account keeps the window [C, Now]: restoring it at any instant T of the
// window gives exactly what it gave before the purge. A version (a row of
// items, folder_versions or account_versions, valid from valid_from until
// valid_to) is visible at T when valid_from ≤ T < valid_to; a version with
// valid_to < C is visible at no instant of the window, so it is dropped.
// Current versions, and versions ending at or after C, stay. So:
//
//   - A deleted message (its last version in a folder ended, and no later
//     version continues it there; a message moved to another folder counts
//     as deleted from the old one) is removed when it was deleted strictly
//     more than N days ago: deleted_at < C. One deleted exactly N days ago
//     (deleted_at = C) is kept; the next purge removes it. The report lists
//     it as a removed item.
//   - Older versions of messages still kept (before a flag change, before
//     a message went away and came back), and folder and account-state
//     versions, go by the same rule; the report counts them as Versions.
//   - For a deleted account not yet past its own retention, the clock
//     stopped at its deletion: it keeps [deleted_at − N days, deleted_at),
//     so that it restores as it was when deleted, with its recent history,
//     until the account purge removes it.
//
// With account_retention_days = M, an account deleted strictly more than M
// days ago (accounts.deleted_at < Now − M days) is removed with every row of
// its history and its accounts row. An account left out by the accounts
// block (include/exclude) is one SmartScan marked deleted when it stopped
// matching, so it is purged the same way, M days after it was excluded;
// the report gives the reason "excluded" (Options.Include and Exclude are
// only used for that). An account that is not marked deleted is live,
// whatever the patterns say: purge trusts deleted_at.
//
// 0 disables that purge: with item_retention_days = 0 no item or history
// version is ever dropped; with account_retention_days = 0 deleted
// accounts stay forever (with their history trimmed by the item purge,
// from their deletion as above). Blobs and packs are still reclaimed.
//
// Legal hold (Options.LegalHold, user@domain shell globs, as the accounts
// block) wins over both retentions: nothing of a held account is removed.
// The report lists the held accounts retention would have purged.
//
// # Space
//
// In the same catalog transaction, every blob no item refers to any more
// is dropped from the catalog (and the catalog's purge generation rises).
// Then pack files are reclaimed: a pack nothing refers to (its blobs all
// dropped, or the leftovers of an interrupted write) is deleted; a pack
// whose unreferenced share of bytes passes Options.RepackThreshold
// (default 0.3) is rewritten: its live records are copied byte for byte
// (CRC checked, no recompression) into the pack being written, the copies
// are fsynced, one catalog transaction repoints the blobs, and only after
// that commit is the old pack deleted. The pack this process is writing is
// never touched. Rewrites go emptiest pack first, in batches of about 64
// MiB, and stop (with a warning) when the space reserve would be crossed;
// a damaged record keeps its pack as it is, with a warning.
//
// # Crashes
//
// A SIGKILL or power loss at any moment leaves a consistent repository
// that loses nothing still within retention: before the first commit
// nothing changed; after it the removed rows are gone and their records
// are unreferenced leftovers (verify lists them as harmless); copies not
// yet committed are unreferenced records in the new pack; old packs whose
// deletion did not happen are unreferenced packs. The next purge reclaims
// all of these. crash_test.go kills a purge process at each commit point
// and at random moments and checks exactly that.
//
// # Report and dry run
//
// Run returns a Result (JSON-friendly): the removed items (account,
// folder, name, size, deleted at, retention that applied), the removed
// accounts (deleted at, reason, retention, size of their last state),
// counts by table, blobs freed, pack bytes freed, packs deleted and
// rewritten. The lists stop at Options.ListLimit (1000) entries each; the
// totals count everything.
// A dry run does the same work inside a transaction it rolls back, so it
// reports exactly what the real run would do, and touches no pack.
//
// # Concurrency
//
// Run holds the repository's WriteMu for its whole run, so no other writer
// of the process commits meanwhile. A writer that keeps the set of known
// blobs in memory across its own commits (SmartScan's deduplication index)
// must reload it when Catalog.PurgeGeneration changed since it loaded it,
// or it could refer to a blob a purge dropped. A restore running while a
// purge rewrites may find the pack it was about to read gone, and fails
// rather than reading wrong data; retrying it succeeds.
package purge
