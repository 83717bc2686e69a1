package restore

import (
	"fmt"
	"unicode/utf8"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// folderDir is the directory of a folder the store must be able to hold.
// A name that is not UTF-8 cannot be created (Maildir++ keeps names in
// modified UTF-7, which encodes characters, not bytes).
func folderDir(st store.Writable, name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("folder %q is not UTF-8: a new folder's name must be, as the mail store keeps names in modified UTF-7", name)
	}
	dir, err := st.FolderDir(name)
	if err != nil {
		return "", fmt.Errorf("folder %q cannot be written in this mail store (%s): %w", name, st.Layout(), err)
	}
	return dir, nil
}
