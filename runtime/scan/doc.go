// Package scan is SmartScan: it walks every account of the mail store and
// records in the repository what changed since the last scan, reading only
// messages whose content it does not already know.
//
// It reads the mail store through the store driver interface (package
// store): a snapshot of each account, and Open for the messages to read.
// Change detection follows the Maildir rules the interface carries: a
// message keeps its identity (Message.ID, the base name) across flag
// changes (a rename), so a known identity with the same size, mtime and
// inode is the same content; a move keeps the inode, so a new name whose
// inode, size and mtime match a known item reuses its blob. A message that
// vanished between the snapshot and Open is skipped, not taken for deleted.
// Everything else is read, hashed (SHA-256) and, when the content is new
// to the repository, compressed into a pack.
//
// A run keeps the disk and every processor busy by overlapping accounts
// (see work): the catalog state and the listing of the next accounts are
// read in the background while one account is diffed and another one
// recorded, and the messages to read go through a pipeline (see pipeline)
// in which readers wait for the disk while other goroutines hash and
// compress. Each account is recorded in one savepoint, and every commit
// follows a sync of the packs, so a scan killed at any point leaves a
// consistent repository and the next one finishes the job.
package scan
