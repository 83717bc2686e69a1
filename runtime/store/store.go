package store

import (
	"errors"
	"io"
)

// Errors a driver returns, wrapped with what failed and on what.
var (
	// ErrNoAccount means the account does not exist in the store.
	ErrNoAccount = errors.New("no such account")
	// ErrVanished means a message is gone since the snapshot: expunged, or
	// moved to another folder.
	ErrVanished = errors.New("message vanished")
	// ErrExists means a Writer refused to replace a message: one with the
	// same identity is already in the folder.
	ErrExists = errors.New("message already exists")
)

// Store is a mail store as the engines read it. A Store is safe for
// concurrent use.
type Store interface {
	// Accounts lists the accounts that exist, sorted by name.
	Accounts() ([]Account, error)
	// Account resolves an account name, whether or not it exists; it
	// fails for a name the store cannot hold.
	Account(name string) (Account, error)
	// Snapshot reads one account: its folders and their messages, without
	// reading any message. A missing account is an error wrapping
	// ErrNoAccount; what could not be read is in Snapshot.Skipped.
	Snapshot(a Account, opts SnapshotOptions) (*Snapshot, error)
	// Open opens a message of a snapshot for reading. When the message
	// changed since (its Key did), Open finds it by its ID and updates m.
	// A message that is gone gives an error wrapping ErrVanished; one the
	// store refuses to read, a *RefusedError.
	Open(a Account, f *Folder, m *Message) (io.ReadCloser, error)
}

// DirWatcher is the capability of a store kept in directories whose
// changes the kernel can report (inotify). The callbacks are called in
// order, each directory before what is below it is listed, so that what
// is created meanwhile is either listed or reported by its watched parent.
type DirWatcher interface {
	Store
	// WatchDiscovery calls watch for each directory where a new account
	// may appear.
	WatchDiscovery(watch func(dir string))
	// WatchAccount calls watch for each directory whose changes are the
	// account's: its root first, then its folders' directories.
	WatchAccount(a Account, watch func(dir string))
}

// OwnerKeeper is the capability of a store that reports the owner, group
// and mode of an account's files in its snapshots (Snapshot.Owner,
// Folder.Owner, Message.Owner) and gives them back when a Writer is given
// them.
type OwnerKeeper interface {
	Store
	// KeepsOwners reports whether owners are read and written.
	KeepsOwners() bool
}
