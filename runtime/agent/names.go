package agent

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseName reads an account or folder argument: the name as it is, or
// "b64:BASE64" for its exact bytes (names are bytes and need not be
// UTF-8; PRODUCT.md §4).
func ParseName(arg string) (string, error) {
	enc, ok := strings.CutPrefix(arg, "b64:")
	if !ok {
		return arg, nil
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("%q: b64: takes standard base64 of the name's bytes: %v", arg, err)
	}
	if len(raw) == 0 {
		return "", fmt.Errorf("%q: the name is empty", arg)
	}
	return string(raw), nil
}
