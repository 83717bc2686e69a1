package main

import (
	"fmt"

	"github.com/mailkeep/mailkeep/runtime/names"
)

// nameArg reads an account or folder argument of the command line: the
// name as it is, or "b64:BASE64" for its exact bytes. It returns the name
// in the form sent to the agent, names.Arg of the exact bytes, so that a
// name typed as raw bytes that are not UTF-8 survives the JSON and the
// URLs of the API. "" stays "" (the flag was not given).
func nameArg(c *cli, cmd, what, arg string) (string, bool) {
	if arg == "" {
		return "", true
	}
	name, err := names.Decode(arg)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: %s: %v\n", cmd, what, err)
		return "", false
	}
	return names.Arg(name), true
}

// nameArgs applies nameArg to each named argument in place.
func nameArgs(c *cli, cmd string, args ...namedArg) bool {
	for _, a := range args {
		v, ok := nameArg(c, cmd, a.what, *a.value)
		if !ok {
			return false
		}
		*a.value = v
	}
	return true
}

// namedArg is an argument for nameArgs: what it is, for messages, and
// where it is.
type namedArg struct {
	what  string
	value *string
}

// mustDecode is the exact name of an argument nameArg returned.
func mustDecode(arg string) string {
	name, err := names.Decode(arg)
	if err != nil {
		return arg
	}
	return name
}
