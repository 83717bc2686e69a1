package store

import (
	"context"
	"io/fs"
	"time"
)

// Account is one mail account of a store and where the driver keeps it.
type Account struct {
	// Name is "user@domain", or "user" when the store has no domains.
	Name string
	// User is the local part, Domain the domain ("" when none).
	User, Domain string
	// Root is where the driver keeps the account (Maildir: its root
	// directory, INBOX's); "" for a driver with no such place.
	Root string
	// Control is where a Maildir's dovecot-uidlist, dovecot-keywords and
	// subscriptions live: Root, unless CONTROL= is set.
	Control string
	// Index is where Dovecot keeps its index files when INDEX= is set
	// (never read by mailkeep); "" otherwise.
	Index string
}

// SnapshotOptions tune Store.Snapshot.
type SnapshotOptions struct {
	// Reuse, when set, is asked about each folder once its stamp is known
	// (before its messages are listed); when it returns true the folder is
	// not listed and comes back with Reused set and no messages. A folder
	// of which something was skipped is never reused.
	Reuse func(dir string, st Stamp) bool
	// Context, when set, stops the snapshot once it is done: it is checked
	// between folders and every few thousand messages, and Snapshot then
	// returns its error.
	Context context.Context
}

// Snapshot is what a driver read of one account.
type Snapshot struct {
	// Account is the account read.
	Account Account
	// Owner is the owner, group and mode of the account's root.
	Owner Owner
	// Subscriptions are the subscribed folder names (UTF-8, '/'
	// separated); nil when there is no subscriptions file.
	Subscriptions []string
	// SubscriptionsRaw is the subscriptions file as it is stored, so that
	// a restore can give back the exact bytes; nil when there is none.
	SubscriptionsRaw []byte
	// SubscriptionsOwner is the owner and mode of the subscriptions file.
	SubscriptionsOwner Owner
	// Folders are the selectable folders, INBOX first, then by name.
	Folders []Folder
	// Warnings are problems that did not stop the snapshot, each naming
	// its path: a damaged dovecot-uidlist (its folder's messages then have
	// UID 0) or dovecot-keywords (letters become "?x"), a folder with new/
	// but no cur/.
	Warnings []error
	// Skipped are the entries of the account that were not read, and
	// why. A message, or a folder's messages, missing from the snapshot
	// because of a Skip may still be in the store.
	Skipped []Skip
}

// Owner is the owner, group and mode of a file or directory.
type Owner struct {
	// UID and GID are the numeric owner and group.
	UID, GID uint32
	// Mode holds the permission bits and the setuid, setgid and sticky
	// bits; never type bits. A zero Owner means "unknown" to a Writer.
	Mode fs.FileMode
}

// Known reports whether o carries information (a zero Owner means
// "unknown").
func (o Owner) Known() bool { return o != Owner{} }

// Folder is one selectable folder.
type Folder struct {
	// Name is the folder's UTF-8 name with '/' separators: "INBOX",
	// "Projects/2026".
	Name string
	// Dir is where the driver keeps the folder (Maildir: its directory
	// relative to the root as encoded on disk: "" for INBOX,
	// ".Projects.2026" with Maildir++ or "Projects/2026" with LAYOUT=fs).
	Dir string
	// Owner is the owner and mode of the folder's directory.
	Owner Owner
	// UIDValidity and NextUID are the folder's IMAP UIDVALIDITY and next
	// UID (Maildir: from the dovecot-uidlist header; zero without one).
	UIDValidity, NextUID uint32
	// GUID is the folder's GUID in hex, "" when absent.
	GUID string
	// UIDExt are the extension fields of the dovecot-uidlist header other
	// than V, N and G, kept so that a restore writes them back.
	UIDExt []string
	// Keywords is the folder's keyword table: Keywords[i] is the keyword
	// of letter 'a'+i in Maildir file names ("" when unused).
	Keywords []string
	// KeywordsOwner and UIDListOwner are the owner and mode of the
	// folder's dovecot-keywords and dovecot-uidlist files (zero when
	// absent).
	KeywordsOwner, UIDListOwner Owner
	// Messages are the folder's messages, by UID (unlisted ones, UID 0,
	// last), then by Key.
	Messages []Message
	// Stamp identifies the state of the folder; Reused is set when the
	// snapshot skipped the folder because SnapshotOptions.Reuse said its
	// stamp was unchanged: only Name, Dir and Stamp are then filled in.
	Stamp  Stamp
	Reused bool
}

// Stamp is what changes whenever anything changes in a folder (Maildir:
// every delivery, flag change, move and expunge updates the mtime of new/
// or cur/, and every UID or keyword assignment rewrites dovecot-uidlist or
// dovecot-keywords). Times are Unix nanoseconds; 0 means absent.
type Stamp struct {
	New, Cur, UIDList, Keywords int64
}

// Latest returns the most recent time in the stamp.
func (s Stamp) Latest() int64 {
	return max(s.New, s.Cur, s.UIDList, s.Keywords)
}

// Message is one message of a folder, as a snapshot lists it.
type Message struct {
	// Subdir is where in its folder the message is (Maildir: "new" or
	// "cur").
	Subdir string
	// Name is the message's name in the store (Maildir: the full file
	// name, which carries the flags and keyword letters): see Key.
	Name string
	// Base is the part of Name that names the message whatever its flags
	// (Maildir: up to ":2,"): see ID.
	Base string
	// Flags are the standard flags, a sorted subset of "DFPRST".
	Flags string
	// Keywords are the keyword names of the message, mapped through the
	// folder's keyword table; a letter the table does not name is
	// reported as "?x". The slice may be shared between messages: do not
	// modify it.
	Keywords []string
	// Size is the message's size in bytes.
	Size int64
	// MTime is the message's received date (Maildir: the file's
	// modification time).
	MTime time.Time
	// Ino and Dev identify the stored file; Dovecot hard-links a message
	// it copies, so one file may appear in several folders, and a move
	// keeps the file. Zero for a driver without files: SmartScan then
	// recognises no moves and reads every message it does not know by ID.
	Ino, Dev uint64
	// UID is the message's IMAP UID; 0 when it has none (yet).
	UID uint32
	// Owner is the file's owner, group and mode.
	Owner Owner
}

// ID is the message's identity in its folder: it stays the same when its
// flags or keywords change.
func (m *Message) ID() string { return m.Base }

// Key is the message's change key: it changes whenever anything recorded
// of the message (flags, keywords, place) changes.
func (m *Message) Key() string { return m.Name }
