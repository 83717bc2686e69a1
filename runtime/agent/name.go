package agent

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// DecodeName reads an account or folder name as the API and the command
// line take it: "b64:BASE64" is the exact bytes of a name that is not
// UTF-8 (PRODUCT.md, "Names are bytes"); anything else is the name itself.
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
	if len(b) == 0 {
		return "", fmt.Errorf("name %q: empty", s)
	}
	return string(b), nil
}
