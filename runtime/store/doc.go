// Package store is the seam between mailkeep's engines and the mail store
// drivers: the interfaces a driver implements and the neutral types it
// reports an account in.
//
// A driver (runtime/maildir; storetest.Memory for tests) implements
// Store: it lists accounts, takes a Snapshot of one account (its folders
// and messages, without reading any message) and opens a message as an
// io.ReadCloser. Every Message has an identity, Message.ID, that stays
// the same while the message is in its folder — a change of flags or
// keywords keeps it — and a change key, Message.Key, that changes
// whenever anything the backup records of the message changes. SmartScan
// (runtime/scan) matches a snapshot against the catalog by identity and
// change key; a message that vanished between the snapshot and Open is
// reported with ErrVanished and skipped, never taken for a deletion.
//
// What not every driver can do is an optional capability, discovered as
// io/fs does, by a type assertion on a small interface:
//
//   - Writable: the store can be written into (the restores take one); its
//     Writer never replaces an existing message, and its Naming says how
//     a written message is named.
//   - DirWatcher: the store lives in directories whose changes the kernel
//     reports; the realtime scanner (runtime/realtime) watches the
//     directories it names.
//   - OwnerKeeper: the store records and restores the owner, group and
//     mode of its files.
//
// Some fields of the neutral types only mean something to a driver that
// keeps its messages as files (Message.Subdir, Message.Ino, Folder.Dir,
// Account.Root...) or that has IMAP UIDs (Folder.UIDValidity,
// Message.UID); a driver without them leaves them zero. The contract every
// driver keeps is written down as a test suite, runtime/store/storetest.
package store
