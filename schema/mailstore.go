package schema

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// MailStore is a parsed mail_store setting, in Dovecot's mail_location
// syntax: DRIVER:PATH[:KEY=VALUE...].
type MailStore struct {
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

// mailStoreOptions are the mail_location options mailkeep honours.
var mailStoreOptions = []string{"INDEX", "CONTROL", "LAYOUT", "VOLATILEDIR"}

// ParseMailStore parses a mail_store value. Options that mailkeep does not
// honour are an error, never ignored: they move files the backup must find.
func ParseMailStore(s string) (MailStore, error) {
	driver, rest, ok := strings.Cut(s, ":")
	if !ok || driver == "" {
		return MailStore{}, fmt.Errorf("%q is not DRIVER:PATH; write it as in Dovecot's mail_location, e.g. \"maildir:/var/vmail/%%d/%%n/Maildir\"", s)
	}
	if driver != "maildir" {
		return MailStore{}, fmt.Errorf("the %q store format is not supported in this version; the supported format is \"maildir\"", driver)
	}
	parts := strings.Split(rest, ":")
	ms := MailStore{Driver: driver, Path: parts[0], Layout: "maildir++"}
	if err := checkStorePath("the Maildir path", ms.Path, true); err != nil {
		return MailStore{}, err
	}
	seen := map[string]bool{}
	for _, opt := range parts[1:] {
		key, val, hasVal := strings.Cut(opt, "=")
		if opt == "" {
			return MailStore{}, fmt.Errorf("%q has an empty option (two colons in a row)", s)
		}
		upper := strings.ToUpper(key)
		if seen[upper] {
			return MailStore{}, fmt.Errorf("the option %s is given twice", upper)
		}
		seen[upper] = true
		if !hasVal {
			return MailStore{}, fmt.Errorf("the option %q is not supported by mailkeep; supported options are %s", key, strings.Join(mailStoreOptions, "=, ")+"=")
		}
		switch upper {
		case "INDEX":
			if val != "MEMORY" {
				if err := checkStorePath("INDEX", val, false); err != nil {
					return MailStore{}, err
				}
			}
			ms.Index = val
		case "CONTROL":
			if err := checkStorePath("CONTROL", val, false); err != nil {
				return MailStore{}, err
			}
			ms.Control = val
		case "VOLATILEDIR":
			if err := checkStorePath("VOLATILEDIR", val, false); err != nil {
				return MailStore{}, err
			}
			ms.VolatileDir = val
		case "LAYOUT":
			switch strings.ToLower(val) {
			case "maildir++", "fs":
				ms.Layout = strings.ToLower(val)
			default:
				return MailStore{}, fmt.Errorf("LAYOUT=%s is not supported; use LAYOUT=maildir++ (the default) or LAYOUT=fs", val)
			}
		default:
			return MailStore{}, fmt.Errorf("the option %s= is not supported by mailkeep; supported options are %s", key, strings.Join(mailStoreOptions, "=, ")+"=")
		}
	}
	return ms, nil
}

// checkStorePath validates a path template: absolute, printable, without
// "..", only the variables mailkeep can expand, and (for the Maildir path)
// naming the account.
func checkStorePath(what, p string, needAccount bool) error {
	if p == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if strings.HasPrefix(p, "~") {
		return fmt.Errorf("%s %q is relative to the user's home directory; mailkeep has no userdb, give an absolute template such as /var/vmail/%%d/%%n/Maildir", what, p)
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s %q must be absolute", what, p)
	}
	if err := checkPathChars(p); err != nil {
		return fmt.Errorf("%s %q %v", what, p, err)
	}
	if hasDotDot(p) {
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
		v, n := storeVariable(p[i+1:])
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

// storeVariable reads the variable after a '%': a single letter or the long
// forms %{user}, %{username} and %{domain}. It returns the short name and the
// number of bytes consumed.
func storeVariable(s string) (string, int) {
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

// ExpandMailStore fills a path template for one account.
func ExpandMailStore(template, user, domain string) string {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		if template[i] != '%' || i+1 >= len(template) {
			b.WriteByte(template[i])
			continue
		}
		v, n := storeVariable(template[i+1:])
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

func checkMailStore(v cty.Value) *hcl.Diagnostic {
	if _, err := ParseMailStore(v.AsString()); err != nil {
		return invalid("Invalid mail_store", "%s.", err)
	}
	return nil
}
