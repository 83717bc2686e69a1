package restore

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailkeep/mailkeep/runtime/maildir"
)

// DecodeName reads an account or folder argument: the name as it is, or
// "b64:BASE64" for the exact bytes of a name that is not UTF-8.
func DecodeName(s string) (string, error) {
	enc, ok := strings.CutPrefix(s, "b64:")
	if !ok {
		return s, nil
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return "", fmt.Errorf("name %q: not valid base64 after \"b64:\": %v", s, err)
		}
	}
	return string(b), nil
}

// folderDir is the directory of a folder the store must be able to hold.
// A name that is not UTF-8 cannot be created (Maildir++ keeps names in
// modified UTF-7, which encodes characters, not bytes).
func folderDir(layout, name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("folder %q is not UTF-8: a new folder's name must be, as the mail store keeps names in modified UTF-7", name)
	}
	dir, err := maildir.FolderDir(layout, name)
	if err != nil {
		return "", fmt.Errorf("folder %q cannot be written in this mail store (%s): %w", name, layout, err)
	}
	return dir, nil
}
