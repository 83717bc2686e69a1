package schema

import (
	"fmt"
	"math/big"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	// The agent and the policy tools must agree on time zones whatever the
	// machine's tzdata; embed the database.
	_ "time/tzdata"
)

// check validates a converted, known, non-null setting value. It returns a
// diagnostic without a subject range; the caller points it at the source.
type check func(v cty.Value) *hcl.Diagnostic

func invalid(summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)}
}

func checkWholeNonNegative(v cty.Value) *hcl.Diagnostic {
	bf := v.AsBigFloat()
	if bf.Sign() < 0 {
		return invalid("Negative value", "The value must be zero or more; got %s.", bf.Text('f', -1))
	}
	if !bf.IsInt() {
		return invalid("Not a whole number", "The value must be a whole number; got %s.", bf.Text('f', -1))
	}
	if bf.Cmp(new(big.Float).SetInt64(1<<53)) > 0 {
		return invalid("Value too large", "The value must be at most 2^53; got %s.", bf.Text('f', -1))
	}
	return nil
}

func checkAbsPath(v cty.Value) *hcl.Diagnostic {
	p := v.AsString()
	if p == "" {
		return invalid("Empty path", "The path must be an absolute path, such as %q.", DefaultBackupPath)
	}
	if !filepath.IsAbs(p) {
		return invalid("Relative path", "The path %q is relative; it must be absolute, because the agent resolves it on the mail server, not where the policy is.", p)
	}
	return nil
}

func checkOptionalAbsPath(v cty.Value) *hcl.Diagnostic {
	if v.AsString() == "" {
		return nil
	}
	return checkAbsPath(v)
}

func checkOneOf(allowed ...string) check {
	return func(v cty.Value) *hcl.Diagnostic {
		s := v.AsString()
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return invalid("Unsupported value", "The value %q is not one of %s.", s, quoteList(allowed))
	}
}

func checkTimezone(v cty.Value) *hcl.Diagnostic {
	name := v.AsString()
	if name == "" {
		return nil
	}
	if _, err := time.LoadLocation(name); err != nil {
		return invalid("Unknown time zone", "%q is not an IANA time zone name such as \"Europe/Paris\" or \"UTC\"; leave it empty for the agent's local zone.", name)
	}
	return nil
}

func checkCron(v cty.Value) *hcl.Diagnostic {
	if err := ParseCron(v.AsString()); err != nil {
		msg := err.Error()
		return invalid("Invalid cron expression", "%s%s.", strings.ToUpper(msg[:1]), msg[1:])
	}
	return nil
}

func checkCommand(v cty.Value) *hcl.Diagnostic {
	if v.LengthInt() == 0 {
		return nil
	}
	first := v.Index(cty.NumberIntVal(0))
	if first.IsNull() || first.AsString() == "" {
		return invalid("Empty command", "The first element names the program to run and must not be empty.")
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			return invalid("Null argument", "Command arguments must be strings, not null.")
		}
	}
	return nil
}

// checkUserName accepts a user name as useradd takes it (a letter, digit
// or _ first, then letters, digits, _, . and -, with an optional final
// $; at most 32 bytes) or a numeric uid. Whether the user exists is the
// agent's to check: the policy is validated elsewhere than on the server.
func checkUserName(v cty.Value) *hcl.Diagnostic {
	s := v.AsString()
	if s == "" {
		return invalid("Empty user name", `The command needs a user to run as; "root" runs it as the agent.`)
	}
	ok := len(s) <= 32
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		case c == '$' && i == len(s)-1 && i > 0:
		default:
			ok = false
		}
	}
	if !ok {
		return invalid("Malformed user name", "%q is not a user name (letters, digits, _, . and -, at most 32 bytes, not starting with . or -) nor a numeric uid.", s)
	}
	return nil
}

func checkGlobs(v cty.Value) *hcl.Diagnostic {
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.AsString() == "" {
			return invalid("Empty account pattern", "Account patterns are shell globs matched against user@domain, such as \"*@example.com\"; they must not be empty.")
		}
		p := e.AsString()
		if _, err := path.Match(p, "user@example.com"); err != nil {
			return invalid("Malformed account pattern", "%q is not a valid shell glob: %s.", p, err)
		}
		if strings.ContainsAny(p, "/ ") {
			return invalid("Malformed account pattern", "%q contains a slash or a space; account patterns match user@domain.", p)
		}
	}
	return nil
}

func checkEndpoint(v cty.Value) *hcl.Diagnostic {
	s := v.AsString()
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("Malformed endpoint", "%q is not an http:// or https:// URL with a host.", s)
	}
	if u.User != nil {
		return invalid("Credentials in endpoint", "The endpoint %q carries credentials; pass them by reference with profile or credentials_file instead.", redactURL(u))
	}
	return nil
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
