package store

import "fmt"

// Reason says why an entry of an account was not read.
type Reason string

// The reasons of Skip.
const (
	ReasonSymlink Reason = "symlink"
	// ReasonOutside is a symbolic link that the store follows only within
	// the account, leading out of it.
	ReasonOutside   Reason = "symlink outside the account"
	ReasonFIFO      Reason = "fifo"
	ReasonDevice    Reason = "device"
	ReasonSocket    Reason = "socket"
	ReasonDirectory Reason = "directory"
	// ReasonNotDir is a file where a directory (a folder, new/, cur/) was
	// expected.
	ReasonNotDir Reason = "not a directory"
	// ReasonUnreadable is an entry that could not be read: Skip.Err says
	// why.
	ReasonUnreadable Reason = "unreadable"
)

// SkipScope says how much of a folder a Skip hides.
type SkipScope uint8

const (
	// ScopeMessage is one message (Skip.Name).
	ScopeMessage SkipScope = iota
	// ScopeFolder is a folder, or part of it: the folder's messages that
	// were not listed may still be in the store. A folder that was
	// skipped as a whole is not in Snapshot.Folders.
	ScopeFolder
	// ScopeMeta is a folder's or the account's metadata (Maildir: a
	// dovecot-uidlist, dovecot-keywords or subscriptions file), read as if
	// it were absent.
	ScopeMeta
)

// Skip is an entry of an account that a snapshot did not read, and why.
type Skip struct {
	// Folder and Dir are the name and Dir of the folder it belongs to
	// ("" and "" for the account's own metadata).
	Folder, Dir string
	// Path is where it is, relative to the account's root (Maildir: or,
	// for a file kept under CONTROL=, to the control directory).
	Path string
	// Name and ID are the message's Name and ID for ScopeMessage, ""
	// otherwise.
	Name, ID string
	Scope    SkipScope
	// Subtree is set when the folders below this one (Folder + "/...")
	// were not listed either.
	Subtree bool
	// Reason says why; Err is the error for ReasonUnreadable.
	Reason Reason
	Err    error
}

// String describes the skip: its path and reason.
func (k Skip) String() string {
	if k.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", k.Path, k.Reason, k.Err)
	}
	return fmt.Sprintf("%s: %s", k.Path, k.Reason)
}

// RefusedError is returned (wrapped) by Store.Open for a message the store
// refuses to read (Maildir: not a regular file, or below a symbolic link
// it does not follow); nothing was read from it.
type RefusedError struct {
	Path   string
	Reason Reason
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s: refused: %s", e.Path, e.Reason) }
