package maildir

import (
	"io/fs"
	"time"
)

// Snapshot is what Scan read of one account.
type Snapshot struct {
	// Account is the account scanned.
	Account Account
	// Owner is the owner, group and mode of the Maildir root directory.
	Owner Owner
	// Subscriptions are the subscribed folder names (UTF-8, '/'
	// separated), from the subscriptions file; nil when there is none.
	Subscriptions []string
	// SubscriptionsRaw is the subscriptions file as it is on disk, so
	// that a restore can give back the exact bytes; nil when there is
	// none.
	SubscriptionsRaw []byte
	// SubscriptionsOwner is the owner and mode of the subscriptions file.
	SubscriptionsOwner Owner
	// Folders are the selectable folders, INBOX first, then by name.
	Folders []Folder
	// Warnings are problems that did not stop the scan, each naming its
	// path: a damaged dovecot-uidlist (its folder's messages then have
	// UID 0) or dovecot-keywords (letters become "?x"), a folder with new/
	// but no cur/.
	Warnings []error
	// Skipped are the files and directories below the root that were not
	// read, and why: symbolic links the mail store does not follow, FIFOs,
	// devices, sockets, directories among the messages, and what could
	// not be read. A message, or a folder's messages, missing from the
	// snapshot because of a Skip may still be on disk.
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

// Folder is one selectable folder (a directory with cur/; INBOX always).
type Folder struct {
	// Name is the folder's UTF-8 name with '/' separators: "INBOX",
	// "Projects/2026".
	Name string
	// Dir is the folder's directory relative to the Maildir root, as
	// encoded on disk: "" for INBOX, ".Projects.2026" (Maildir++) or
	// "Projects/2026" (LAYOUT=fs).
	Dir string
	// Owner is the owner and mode of the folder's directory.
	Owner Owner
	// UIDValidity and GUID come from the dovecot-uidlist header (zero
	// when there is no uidlist). NextUID is the next UID Dovecot will
	// assign: the header's N field or, when Dovecot appended beyond it,
	// the highest listed UID + 1.
	UIDValidity, NextUID uint32
	// GUID is the folder's GUID in hex, "" when absent.
	GUID string
	// UIDExt are the extension fields of the dovecot-uidlist header other
	// than V, N and G, kept so that a restore writes them back.
	UIDExt []string
	// Keywords is the folder's dovecot-keywords table: Keywords[i] is the
	// keyword of letter 'a'+i in file names ("" when unused).
	Keywords []string
	// KeywordsOwner and UIDListOwner are the owner and mode of the
	// folder's dovecot-keywords and dovecot-uidlist files (zero when
	// absent).
	KeywordsOwner, UIDListOwner Owner
	// Messages are the folder's messages, by UID (unlisted ones, UID 0,
	// last), then by name.
	Messages []Message
	// Stamp identifies the state of the folder's directories and files;
	// Reused is set when ScanWith skipped the folder because its stamp was
	// unchanged: only Name, Dir and Stamp are then filled in.
	Stamp  Stamp
	Reused bool
}

// Stamp is what changes whenever anything changes in a folder: every
// delivery, flag change (a rename), move and expunge updates the mtime of
// new/ or cur/, and every UID or keyword assignment rewrites
// dovecot-uidlist or dovecot-keywords. Times are Unix nanoseconds; 0 means
// absent.
type Stamp struct {
	New, Cur, UIDList, Keywords int64
}

// Latest returns the most recent time in the stamp.
func (s Stamp) Latest() int64 {
	return max(s.New, s.Cur, s.UIDList, s.Keywords)
}

// Message is one message file in new/ or cur/.
type Message struct {
	// Subdir is "new" or "cur".
	Subdir string
	// Name is the full file name.
	Name string
	// Base is the unique part of Name, up to ":2," (or the whole name):
	// the message's identity across flag changes.
	Base string
	// Flags are the standard flags of the ":2," info, a sorted subset of
	// "DFPRST".
	Flags string
	// Keywords are the keyword names of the info's lower-case letters,
	// mapped through the folder's dovecot-keywords; a letter the table
	// does not name is reported as "?x". The slice may be shared between
	// messages: do not modify it.
	Keywords []string
	// Size is the file's size in bytes (the S= value in the name is
	// informational only).
	Size int64
	// MTime is the file's modification time: the message's received date.
	MTime time.Time
	// Ino and Dev identify the file; Dovecot hard-links a message it
	// copies, so one file may appear in several folders.
	Ino, Dev uint64
	// UID is the message's IMAP UID from dovecot-uidlist; 0 when not
	// listed (yet).
	UID uint32
	// Owner is the file's owner, group and mode.
	Owner Owner
}

// Letters returns the message's keyword letters in table, the folder's
// dovecot-keywords, or an error naming the first keyword table lacks.
func (m *Message) Letters(table []string) (string, error) {
	return KeywordLetters(table, m.Keywords)
}
