// Package e2e tests mailkeep end to end against a real Dovecot (issue 6,
// PRODUCT.md §3 and §5): mail is delivered through LMTP and `doveadm save`,
// a real IMAP client (github.com/emersion/go-imap/v2) creates nested and
// non-ASCII folders, appends, flags, moves, copies and expunges, so that
// Dovecot itself writes the Maildirs; a mailkeep agent backs them up; and
// what comes back after a restore is checked through Dovecot's IMAP server,
// never by reading files behind its back.
//
// The tests (go test ./internal/e2e, a few minutes at most, fixed seeds):
//
//   - TestRealtimeRestoreDeletedAccount: the realtime scanner follows a
//     history of several hundred IMAP, LMTP and doveadm operations over
//     three accounts, without any SmartScan; the account's Maildir is then
//     deleted with rm -rf, `mailkeep restore account -at last` (the real
//     binary) brings it back, Dovecot resyncs through restore.post_command,
//     and a fresh IMAP login sees exactly the snapshot taken before:
//     folders, subscriptions, UIDVALIDITY, UIDNEXT, and per message its
//     UID, flags and keywords, INTERNALDATE and byte-identical body. No
//     file is chowned by the test; restored files must already belong to
//     the mail user.
//   - TestRestoreAtInstants: IMAP snapshots taken at chosen instants during
//     a history; restoring each instant into a fresh account (-to) gives
//     exactly what IMAP showed then.
//   - TestRestoreToOtherAccount: -to gives another account the source's
//     content and leaves the source as it was: into a new account (the same
//     UIDs) and into one with mail of its own (a merge).
//   - TestSmartScanRestoreDeletedAccount: the first scenario with the
//     realtime scanner off and a SmartScan before the deletion.
//   - TestKillDuringSmartScanWhileDelivering: Dovecot receives mail through
//     LMTP at a steady rate (20 messages a second) while SmartScans run and
//     the agent (the real binary, as a separate process) is killed with
//     SIGKILL in their middle and restarted; after a final SmartScan, the
//     repository verifies (deep) and every message delivered before that
//     scan started comes back in a restore. It runs with the realtime
//     scanner off and on.
//   - TestRealtimeWithControlAndIndexDirs: the realtime scanner on a store
//     with :LAYOUT=fs, :CONTROL= and :INDEX=.
//   - TestRestoreAfterMailArrivedForDeletedAccount: mail arrives for a
//     deleted account (Dovecot recreates it); restoring the instant before
//     the deletion merges the old mail back and keeps the new.
//   - TestSmartScanDuringRealtime: SmartScans and the realtime scanner write
//     the repository at the same time.
//   - TestRealtimeStatusCountsBatchInFlight: the realtime status must not
//     report nothing pending while a batch is being recorded.
//
// Each test starts its own Dovecot (internal/dovecot: IMAP and LMTP on
// loopback, mail owned by the unprivileged user mailkeep-vmail) and its own
// agent, and stops both when it ends, also on failure. The tests run as
// root, like the agent on a mail server; when Dovecot is missing they fail
// and say to run .ci/deps.
//
// The non-test files hold what the tests and `make demo`
// (internal/demo/cmd/demo) share: IMAP snapshots and their comparison
// (Snapshot, TakeSnapshot, Diff), LMTP delivery (DeliverLMTP) and
// deterministic sample messages (SampleMessage).
package e2e
