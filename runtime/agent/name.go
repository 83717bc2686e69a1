package agent

import (
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/names"
)

// decodeArg reads an account or folder name of a request (names.Decode:
// "b64:BASE64" is the exact bytes); a bad one is the client's error,
// naming what it was.
func decodeArg(what, arg string) (string, error) {
	name, err := names.Decode(arg)
	if err != nil {
		return "", &BadRequestError{fmt.Errorf("%s: %w", what, err)}
	}
	return name, nil
}
