package main

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/mailkeep/mailkeep/runtime/names"
)

// checkNewAccount checks the account a restore's -to names, which the
// restore creates: it must not hold a control character (a NUL, a line
// break, an escape...), which Dovecot's logins never have and which would
// garble every log and listing that shows it. The agent splits it into user
// and domain at its first '@', as Dovecot does.
func checkNewAccount(to string) error {
	name, err := names.Decode(to)
	if err != nil {
		return err
	}
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if unicode.IsControl(r) { // C0, DEL and C1; a broken byte is U+FFFD
			return fmt.Errorf("the account %q contains the control character %U; an account name is printable", name, r)
		}
		i += n
	}
	return nil
}
