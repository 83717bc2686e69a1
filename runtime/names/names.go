// Package names handles account, folder and file names as the bytes
// they are (PRODUCT.md §4, "Names are bytes"): a name that is valid UTF-8
// is shown and typed as it is; otherwise JSON carries it for display
// (invalid bytes as U+FFFD) beside its exact bytes in base64, and every
// account or folder argument also accepts "b64:BASE64". Arg is the form
// a name is shown in where it must be typed back (listings, messages):
// "b64:BASE64" for a name that is not UTF-8, holds a control character,
// or itself begins with "b64:".
package names

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
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

// Arg is a name as an argument that names it exactly and is safe to
// print on a terminal: the name itself when it is UTF-8 without control
// characters and does not begin with "b64:", else "b64:BASE64".
func Arg(name string) string {
	if !utf8.ValidString(name) || strings.HasPrefix(name, "b64:") || strings.ContainsFunc(name, unicode.IsControl) {
		return "b64:" + base64.StdEncoding.EncodeToString([]byte(name))
	}
	return name
}

// Display is a name as a terminal shows it: the name itself when Arg
// leaves it as it is; else the name with its invalid bytes and control
// characters as U+FFFD, followed by its Arg in parentheses, which types
// it back: "Caf\uFFFD (b64:Q2Fm6Q==)".
func Display(name string) string {
	arg := Arg(name)
	if arg == name {
		return name
	}
	shown := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(name, "\uFFFD"))
	return shown + " (" + arg + ")"
}

// Exact is the name a JSON pair of Fields stands for: the bytes of b64
// when it is set (and decodes), else display.
func Exact(display, b64 string) string {
	if b64 == "" {
		return display
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return display
	}
	return string(b)
}
