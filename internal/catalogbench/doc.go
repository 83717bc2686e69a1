// Package catalogbench measures the SQLite drivers for the repository
// catalog on its workload. It has no code: only benchmarks, which run
// under `go test -bench` and never in a plain `go test`:
//
//	go test ./internal/catalogbench -run '^$' -bench . -count 5
//
// The drivers are github.com/mattn/go-sqlite3 (cgo, the SQLite C
// amalgamation) and modernc.org/sqlite (pure Go, SQLite translated from C).
// Both open the database in WAL mode with synchronous=NORMAL or FULL,
// through database/sql with one connection, and the catalog's table:
//
//	items(id INTEGER PRIMARY KEY, account_id, folder, base, name, blob (32 bytes),
//	      size, mtime, ino, flags, keywords, uid, valid_from, valid_to NULL)
//	index (account_id, valid_to), index (account_id, folder, base)
//
// The workloads:
//
//   - Insert100k: 100,000 rows in one transaction through a prepared
//     statement, into an empty table (the first SmartScan).
//   - LoadOpenAccount: every open row (valid_to IS NULL) of one account of
//     5,000 (what a SmartScan compares the Maildir against).
//   - UpdateInsert10k: close 10,000 rows (valid_to) and insert their 10,000
//     new versions in one transaction (a flag-change storm).
//   - PointInTime: the rows of one account valid at an instant (restore -at).
//   - CommitSmall: one transaction closing one row and inserting its new
//     version (the realtime scanner, one message at a time): the commit
//     latency, where synchronous=FULL pays an fsync of the WAL per commit.
//
// The read workloads run on a database of 20 accounts of 5,000 messages
// with 30,000 closed versions of history (130,000 rows); synchronous does
// not change reads, so they run with NORMAL only.
package catalogbench
