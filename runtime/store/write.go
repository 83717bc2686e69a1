package store

import (
	"io"
	"time"
)

// Writable is the capability of a store that restores write into.
type Writable interface {
	Store
	Naming
	// AccountWriter returns a Writer for one account.
	AccountWriter(a Account) Writer
	// FolderDir maps a folder name to the Dir it is written in, or says
	// why the store cannot hold a folder of that name.
	FolderDir(name string) (string, error)
	// Layout names how the store lays out folders (Maildir: "maildir++" or
	// "fs"), for messages.
	Layout() string
	// ParseSubscriptions reads the folder names of a subscriptions file
	// recorded from this store (Snapshot.SubscriptionsRaw).
	ParseSubscriptions(raw []byte) []string
}

// Naming is how a Writable store names the messages written into it.
type Naming interface {
	// MessageName is the Name (the change key) of a message of identity
	// id with these standard flags and keyword letters (see
	// Folder.Keywords).
	MessageName(id, flags, letters string) string
	// NewID returns a fresh identity for a message written next to the
	// one it was copied from, keeping what id says of its content.
	NewID(id string) string
	// ListableID reports whether a message of identity id can keep its
	// UID in the folder's UID list.
	ListableID(id string) bool
	// KeywordLetters maps keyword names to the letters of a folder's
	// keyword table, or names the first keyword the table lacks.
	KeywordLetters(table, names []string) (string, error)
	// MaxKeywords is how many keywords a folder's table holds.
	MaxKeywords() int
}

// Inbox is the name of the folder every account has.
const Inbox = "INBOX"

// Writer writes into one account. It never replaces an existing message:
// writing one whose identity is already in the folder fails with an error
// wrapping ErrExists. Its methods are safe for concurrent use: restores
// stage and publish from several goroutines at once.
type Writer interface {
	// Folder creates a folder (and what it needs above it) with its owner.
	Folder(f FolderSpec) error
	// Lock takes the folder's lock against the mail server's own writers
	// until unlock is called.
	Lock(folderDir string) (unlock func() error, err error)
	// Stage writes a message into the folder without making it visible or
	// durable, with its received date and owner, and reserves its
	// identity. Publish many staged messages at once to share the cost of
	// making them durable.
	Stage(folderDir, subdir, name string, r io.Reader, date time.Time, o Owner) (Staged, error)
	// Publish makes staged messages durable and visible; errs[i] is the
	// error of batch[i].
	Publish(batch []Staged) (errs []error)
	// Discard drops staged messages that will not be published.
	Discard(batch []Staged)
	// Keywords reads the folder's keyword table as it is now; nil when it
	// has none.
	Keywords(folderDir string) ([]string, error)
	// WriteKeywords replaces the folder's keyword table.
	WriteKeywords(folderDir string, names []string, o Owner) error
	// WriteUIDList replaces the folder's UID list.
	WriteUIDList(folderDir string, uidValidity, nextUID uint32, guid string, entries []UIDEntry, o Owner) error
	// WriteSubscriptions replaces the account's subscriptions: raw's exact
	// bytes when non-nil, else names.
	WriteSubscriptions(names []string, raw []byte, o Owner) error
	// WriteRestoreMarker, RestoreMarker and RemoveRestoreMarker keep the
	// mark of a full restore in progress in the account, durably, so that
	// one cut short is known and resumed.
	WriteRestoreMarker(data []byte, o Owner) error
	RestoreMarker() ([]byte, error)
	RemoveRestoreMarker() error
	// Sync makes everything written durable.
	Sync() error
}

// Staged is a message a Writer staged; only that Writer can publish or
// discard it.
type Staged interface {
	// StagedName is the name the message is published under.
	StagedName() string
}

// FolderSpec says which folder Writer.Folder creates.
type FolderSpec struct {
	// Name is the folder's UTF-8 name ("INBOX", "Projects/2026"); used to
	// compute Dir when Dir is "" and Name is not INBOX.
	Name string
	// Dir is the folder's Dir as in Folder.Dir; it wins over Name when
	// set.
	Dir string
	// Owner is given to the folder; a zero Owner leaves the owner as
	// created and uses mode 0700.
	Owner Owner
}

// UIDEntry is one message of a folder's UID list.
type UIDEntry struct {
	// UID is the message's IMAP UID.
	UID uint32
	// Ext are the extension fields, space-separated as in
	// dovecot-uidlist (e.g. "W1234 S1200"); "" when none.
	Ext string
	// Base is the message's ID (Maildir: the file's base name, without
	// the ":2," info).
	Base string
}
