package maildir

import (
	"errors"
	"io/fs"
)

// RestoreMarkerFile is the file a full restore keeps in the account's
// Maildir root while it writes: when the restore is cut short (a SIGKILL,
// a message it could not write), the next restore finds it and carries
// the full restore on, instead of taking the account's messages for the
// user's own and merging. Dovecot ignores it (a file, not a folder).
const RestoreMarkerFile = "mailkeep-restore-in-progress"

// WriteRestoreMarker writes the restore marker durably (file and root
// directory fsynced), creating the Maildir root and its missing parents
// with the directory owner o.
func (w *Writer) WriteRestoreMarker(data []byte, o Owner) error {
	root, err := w.folderDir("", true, o, false)
	if err != nil {
		return err
	}
	defer root.close()
	removeStaleTemps(root, false)
	if err := w.writeAtomic(root, RestoreMarkerFile, data, fileOwner(o)); err != nil {
		return err
	}
	return root.sync()
}

// RestoreMarker returns the restore marker's content; nil when there is
// none (or no Maildir root).
func (w *Writer) RestoreMarker() ([]byte, error) {
	root, err := w.folderDir("", false, Owner{}, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.close()
	data, err := root.readFile(RestoreMarkerFile, 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// RemoveRestoreMarker removes the restore marker, if any.
func (w *Writer) RemoveRestoreMarker() error {
	root, err := w.folderDir("", false, Owner{}, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer root.close()
	if err := root.remove(RestoreMarkerFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	w.markDirty(root)
	return nil
}
