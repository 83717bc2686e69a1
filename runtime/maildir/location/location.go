package location

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Location is a parsed mail_store setting, in Dovecot's mail_location
// syntax: DRIVER:PATH[:KEY=VALUE...].
type Location struct {
	// Driver is the store format; "maildir" is the one supported.
	Driver string
	// Path is the template of an account's Maildir root, with %u (the full
	// address), %n (the local part) and %d (the domain).
	Path string
	// Index is the INDEX= option: where Dovecot keeps index files, a path
	// template or "MEMORY"; "" when not set.
	Index string
	// Control is the CONTROL= option: where dovecot-uidlist, dovecot-keywords
	// and subscriptions live; "" when they live in the Maildir.
	Control string
	// Layout is "maildir++" (the default: .Folder.Sub directories) or "fs"
	// (Folder/Sub directories).
	Layout string
	// VolatileDir is the VOLATILEDIR= option, where Dovecot keeps lock
	// files; "" when not set.
	VolatileDir string
}

// options are the mail_location options mailkeep honours.
var options = []string{"INDEX", "CONTROL", "LAYOUT", "VOLATILEDIR"}

// Parse parses a mail_store value. Options that mailkeep does not honour
// are an error, never ignored: they move files the backup must find.
func Parse(s string) (Location, error) {
	driver, rest, ok := strings.Cut(s, ":")
	if !ok || driver == "" {
		return Location{}, fmt.Errorf("%q is not DRIVER:PATH; write it as in Dovecot's mail_location, e.g. \"maildir:/var/vmail/%%d/%%n/Maildir\"", s)
	}
	if driver != "maildir" {
		return Location{}, fmt.Errorf("the %q store format is not supported in this version; the supported format is \"maildir\"", driver)
	}
	parts := strings.Split(rest, ":")
	l := Location{Driver: driver, Path: parts[0], Layout: "maildir++"}
	if err := checkPath("the Maildir path", l.Path, true); err != nil {
		return Location{}, err
	}
	seen := map[string]bool{}
	for _, opt := range parts[1:] {
		key, val, hasVal := strings.Cut(opt, "=")
		if opt == "" {
			return Location{}, fmt.Errorf("%q has an empty option (two colons in a row)", s)
		}
		upper := strings.ToUpper(key)
		if seen[upper] {
			return Location{}, fmt.Errorf("the option %s is given twice", upper)
		}
		seen[upper] = true
		if !hasVal {
			return Location{}, fmt.Errorf("the option %q is not supported by mailkeep; supported options are %s", key, strings.Join(options, "=, ")+"=")
		}
		switch upper {
		case "INDEX":
			if val != "MEMORY" {
				if err := checkPath("INDEX", val, false); err != nil {
					return Location{}, err
				}
			}
			l.Index = val
		case "CONTROL":
			if err := checkPath("CONTROL", val, false); err != nil {
				return Location{}, err
			}
			l.Control = val
		case "VOLATILEDIR":
			if err := checkPath("VOLATILEDIR", val, false); err != nil {
				return Location{}, err
			}
			l.VolatileDir = val
		case "LAYOUT":
			switch strings.ToLower(val) {
			case "maildir++", "fs":
				l.Layout = strings.ToLower(val)
			default:
				return Location{}, fmt.Errorf("LAYOUT=%s is not supported; use LAYOUT=maildir++ (the default) or LAYOUT=fs", val)
			}
		default:
			return Location{}, fmt.Errorf("the option %s= is not supported by mailkeep; supported options are %s", key, strings.Join(options, "=, ")+"=")
		}
	}
	return l, nil
}

// checkPath validates a path template: absolute, printable, without "..",
// only the variables mailkeep can expand, and (for the Maildir path)
// naming the account.
func checkPath(what, p string, needAccount bool) error {
	if p == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if strings.HasPrefix(p, "~") {
		return fmt.Errorf("%s %q is relative to the user's home directory; mailkeep has no userdb, give an absolute template such as /var/vmail/%%d/%%n/Maildir", what, p)
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s %q must be absolute", what, p)
	}
	if err := CheckChars(p); err != nil {
		return fmt.Errorf("%s %q %v", what, p, err)
	}
	if HasDotDot(p) {
		return fmt.Errorf("%s %q has a \"..\" component, which could lead an account's path out of the store; write the directory it means", what, p)
	}
	account := false
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		if i+1 >= len(p) {
			return fmt.Errorf("%s %q ends with a lone %%", what, p)
		}
		v, n := Variable(p[i+1:])
		switch v {
		case "%":
		case "u", "n":
			account = true
		case "d":
		default:
			return fmt.Errorf("%s %q uses %%%s, which mailkeep cannot expand; use %%u (user@domain), %%n (user) and %%d (domain)", what, p, p[i+1:i+1+n])
		}
		i += n
	}
	if needAccount && !account {
		return fmt.Errorf("%s %q does not name the account; it must contain %%u or %%n", what, p)
	}
	return nil
}

// CheckChars refuses the characters no path setting may hold (this one and
// the policy's other paths, such as backup_path): NUL, which ends a path
// for the kernel, and the other control characters (newlines among them),
// which split and garble logs, messages and scripts.
func CheckChars(p string) error {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == 0:
			return fmt.Errorf("contains a NUL byte")
		case c == '\n' || c == '\r':
			return fmt.Errorf("contains a line break")
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("contains the control character %q", string(c))
		}
	}
	return nil
}

// HasDotDot reports whether a slash-separated path has a ".." component.
func HasDotDot(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

// Variable reads the variable after a '%' in a path template: a single
// character or the long forms %{user}, %{username} and %{domain}. It
// returns the short name ("u", "n", "d", "%" or, for anything else, the
// character or "?") and the number of bytes consumed.
func Variable(s string) (string, int) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "?", len(s)
		}
		switch s[1:end] {
		case "user":
			return "u", end + 1
		case "username":
			return "n", end + 1
		case "domain":
			return "d", end + 1
		}
		return "?", end + 1
	}
	// A whole character, so that messages never quote half of one.
	_, n := utf8.DecodeRuneInString(s)
	return s[:n], n
}

// Expand fills a path template for one account.
func Expand(template, user, domain string) string {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		if template[i] != '%' || i+1 >= len(template) {
			b.WriteByte(template[i])
			continue
		}
		v, n := Variable(template[i+1:])
		switch v {
		case "%":
			b.WriteByte('%')
		case "u":
			if domain == "" {
				b.WriteString(user)
			} else {
				b.WriteString(user + "@" + domain)
			}
		case "n":
			b.WriteString(user)
		case "d":
			b.WriteString(domain)
		default:
			b.WriteString(template[i : i+1+n])
		}
		i += n
	}
	return b.String()
}
