package secret

import (
	"fmt"
	"strings"
)

// MinTokenLen is the length, in bytes, below which a token is refused: 16
// random bytes cannot be guessed over the network. `openssl rand -hex 32`
// makes a good one.
const MinTokenLen = 16

// ReadToken reads a token file (see ReadFile): its content, without the
// white space around it, must pass CheckToken.
func ReadToken(path string) (string, error) {
	b, err := ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if err := CheckToken(t, path); err != nil {
		return "", err
	}
	return t, nil
}

// CheckToken refuses a token that is empty, shorter than MinTokenLen
// bytes, or holds a byte that cannot stand in an Authorization header
// (white space, control characters, non-ASCII). source names where the
// token came from (a file, an environment variable); the token itself is
// never in the message.
func CheckToken(token, source string) error {
	if token == "" {
		return fmt.Errorf("the token in %s is empty", source)
	}
	if len(token) < MinTokenLen {
		return fmt.Errorf("the token in %s is %d bytes long; a token must be at least %d (make one with: openssl rand -hex 32)", source, len(token), MinTokenLen)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("the token in %s holds byte %d (0x%02x), which cannot stand in an Authorization header: use printable ASCII without spaces (e.g. openssl rand -hex 32)", source, i+1, c)
		}
	}
	return nil
}
