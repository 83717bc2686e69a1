package maildir

import "github.com/mailkeep/mailkeep/runtime/store"

// The types of a scan are the store driver interface's own (package
// store); Maildir fills every field of them.
type (
	// Snapshot is what Scan read of one account.
	Snapshot = store.Snapshot
	// Owner is the owner, group and mode of a file or directory.
	Owner = store.Owner
	// Folder is one selectable folder (a directory with cur/; INBOX
	// always).
	Folder = store.Folder
	// Stamp is what changes whenever anything changes in a folder.
	Stamp = store.Stamp
	// Message is one message file in new/ or cur/; its ID is its base
	// name, its Key its file name.
	Message = store.Message
)
