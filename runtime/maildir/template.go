package maildir

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// template is a parsed mail_location path template with the variables
// %u (user@domain), %n (user) and %d (domain), also spelt %{user},
// %{username} and %{domain}; %% is a literal '%'.
type template struct {
	raw   string
	parts []tmplPart
	hasU  bool
	hasN  bool
	hasD  bool
	re    *regexp.Regexp // built on first use by match
}

// tmplPart is a literal (v == 0) or a variable ('u', 'n' or 'd').
type tmplPart struct {
	lit string
	v   byte
}

// parseTemplate parses a path template; what names it is used in errors.
func parseTemplate(what, p string) (*template, error) {
	t := &template{raw: p}
	var lit strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			lit.WriteByte(p[i])
			continue
		}
		if i+1 >= len(p) {
			return nil, fmt.Errorf("%s %q ends with a lone %%", what, p)
		}
		v, n := templateVariable(p[i+1:])
		i += n
		switch v {
		case '%':
			lit.WriteByte('%')
			continue
		case 'u':
			t.hasU = true
		case 'n':
			t.hasN = true
		case 'd':
			t.hasD = true
		default:
			return nil, fmt.Errorf("%s %q uses %%%s, which mailkeep cannot expand; use %%u (user@domain), %%n (user) and %%d (domain)", what, p, p[i+1-n:i+1])
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, tmplPart{v: v})
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tmplPart{lit: lit.String()})
	}
	return t, nil
}

// templateVariable reads the variable after a '%' and returns its short
// name (0 when unknown) and the number of bytes consumed.
func templateVariable(s string) (byte, int) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 0, len(s)
		}
		switch s[1:end] {
		case "user":
			return 'u', end + 1
		case "username":
			return 'n', end + 1
		case "domain":
			return 'd', end + 1
		}
		return 0, end + 1
	}
	switch s[0] {
	case 'u', 'n', 'd', '%':
		return s[0], 1
	}
	return 0, 1
}

// expand fills the template for one account.
func (t *template) expand(user, domain string) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.v {
		case 0:
			b.WriteString(p.lit)
		case 'u':
			b.WriteString(user)
			if domain != "" {
				b.WriteByte('@')
				b.WriteString(domain)
			}
		case 'n':
			b.WriteString(user)
		case 'd':
			b.WriteString(domain)
		}
	}
	return b.String()
}

// glob turns the template into a filepath.Glob pattern, each variable "*".
func (t *template) glob() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.v != 0 {
			b.WriteByte('*')
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			switch c := p.lit[i]; c {
			case '*', '?', '[', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// match extracts user and domain from a path the template expands to.
// A variable that occurs twice must have one value.
func (t *template) match(path string) (user, domain string, ok bool) {
	if t.re == nil {
		var b strings.Builder
		b.WriteString("^")
		for _, p := range t.parts {
			if p.v != 0 {
				b.WriteString("([^/]+)")
			} else {
				b.WriteString(regexp.QuoteMeta(p.lit))
			}
		}
		b.WriteString("$")
		t.re = regexp.MustCompile(b.String())
	}
	m := t.re.FindStringSubmatch(path)
	if m == nil {
		return "", "", false
	}
	vals := map[byte]string{}
	k := 1
	for _, p := range t.parts {
		if p.v == 0 {
			continue
		}
		if old, seen := vals[p.v]; seen && old != m[k] {
			return "", "", false
		}
		vals[p.v] = m[k]
		k++
	}
	u, hasU := vals['u']
	n, hasN := vals['n']
	d, hasD := vals['d']
	switch {
	case hasN:
		user, domain = n, d
		if hasU {
			want := n
			if hasD {
				want = n + "@" + d
			} else if at := strings.IndexByte(u, '@'); at >= 0 {
				domain = u[at+1:]
				want = n + "@" + domain
			}
			if u != want {
				return "", "", false
			}
		}
	case hasU:
		user = u
		if at := strings.IndexByte(u, '@'); at >= 0 {
			user, domain = u[:at], u[at+1:]
		}
		if hasD && d != domain {
			return "", "", false
		}
	default:
		return "", "", false
	}
	return user, domain, user != ""
}

// fixedDir is the directory part of the template before its first
// variable, the part the administrator wrote ("/var/vmail" for
// "/var/vmail/%d/%n/Maildir"): the Writer follows symbolic links there,
// and none below it.
func (t *template) fixedDir() string {
	prefix := ""
	if len(t.parts) > 0 && t.parts[0].v == 0 {
		prefix = t.parts[0].lit
	}
	if len(t.parts) == 1 && t.parts[0].v == 0 {
		return filepath.Dir(filepath.Clean(prefix))
	}
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		return filepath.Clean(prefix[:i+1])
	}
	return "/"
}
