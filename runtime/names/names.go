// Package names handles account, folder and file names as the bytes
// they are (PRODUCT.md §4, "Names are bytes"): a name that is valid UTF-8
// is shown and typed as it is; otherwise JSON carries it for display
// (invalid bytes as U+FFFD) beside its exact bytes in base64, and every
// account or folder argument also accepts "b64:BASE64".
package names

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Decode reads an account or folder argument: "b64:BASE64" (padded or
// not) is the exact bytes of a name; anything else is the name itself.
func Decode(arg string) (string, error) {
	enc, ok := strings.CutPrefix(arg, "b64:")
	if !ok {
		return arg, nil
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return "", fmt.Errorf("name %q: not valid base64 after \"b64:\": %v", arg, err)
		}
	}
	if len(b) == 0 {
		return "", fmt.Errorf("name %q: empty", arg)
	}
	return string(b), nil
}

// B64 is the base64 of a name that is not valid UTF-8, for the `*_b64`
// field beside it in JSON; "" for a valid name.
func B64(name string) string {
	if utf8.ValidString(name) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(name))
}

// Fields returns a name as JSON shows it (invalid bytes as U+FFFD) and
// its B64.
func Fields(name string) (display, b64 string) {
	return strings.ToValidUTF8(name, "\uFFFD"), B64(name)
}

// Arg is a name as an argument that names it exactly: the name itself
// when it is UTF-8, else "b64:BASE64".
func Arg(name string) string {
	if b := B64(name); b != "" {
		return "b64:" + b
	}
	return name
}
