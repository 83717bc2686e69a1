// Package storetest checks that a mail store driver keeps the contract of
// package store, in the spirit of testing/fstest.TestFS.
//
// A driver's test calls TestStore with a function that makes a Harness: a
// fresh, empty store, plus the two things the mail server does behind the
// store's back that the suite needs to provoke (changing a message's
// flags, expunging a message). TestStore then states, one sub-test each, the invariants
// every driver must keep:
//
//   - accounts are listed sorted, resolve by name, and a missing one is
//     ErrNoAccount;
//   - a written message reads back exactly (bytes, folder, flags,
//     keywords, received date, UID), and a backup-restore round trip —
//     reading one account and writing what was read into another — gives
//     the same snapshot;
//   - a message keeps its identity (ID) when its flags change, while its
//     change key (Key) changes, and Open finds it by its identity;
//   - a message expunged after the snapshot is ErrVanished when opened,
//     and simply absent from the next snapshot: no error, no skip;
//   - a Writer never replaces an existing message, not even when several
//     goroutines write the same new one at once;
//   - owners and modes round-trip when the driver has the OwnerKeeper
//     capability.
//
// Memory is a driver in memory that passes the suite, for tests of the
// engines that need a store without files.
package storetest
