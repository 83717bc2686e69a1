package history

import (
	"encoding/base64"
	"unicode/utf8"
)

// nameB64 is the exact bytes of a name that is not valid UTF-8, for the
// `*_b64` fields of the JSON beside the displayed name (whose invalid
// bytes JSON shows as U+FFFD); "" for a valid name.
func nameB64(name string) string {
	if utf8.ValidString(name) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(name))
}
