package maildir

import (
	"bytes"
	"strings"
)

// SubscriptionsFile is the name of the account's subscription list, in the
// Maildir root (or the CONTROL= directory).
const SubscriptionsFile = "subscriptions"

// subscriptionsV2Header starts a version 2 subscriptions file, which
// Dovecot 2.x writes.
const subscriptionsV2Header = "V\t2\n\n"

// ParseSubscriptions parses a subscriptions file into UTF-8 folder names
// with '/' as the hierarchy separator.
//
// Version 2 (header "V\t2\n\n") has one folder a line, its hierarchy levels
// separated by tabs, each level tab-escaped (\x01 followed by '0', '1',
// 't', 'r' or 'n') and in modified UTF-7. Version 1 (no header) has plain
// lines in the storage's own separator: '.' for Maildir++ (older Dovecot
// versions also wrote '/'), '/' for LAYOUT=fs. A level that is not valid
// modified UTF-7 is kept as it is. Empty lines, and lines of separators
// alone, are skipped; INBOX in any case is INBOX.
func ParseSubscriptions(data []byte, layout string) []string {
	s := string(data)
	v2 := strings.HasPrefix(s, subscriptionsV2Header)
	if v2 {
		s = s[len(subscriptionsV2Header):]
	}
	seps := "/"
	if layout != LayoutFS {
		seps = "./"
	}
	var names []string
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		var levels []string
		if v2 {
			levels = strings.Split(line, "\t")
			for i := range levels {
				levels[i] = tabUnescape(levels[i])
			}
		} else {
			levels = strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(seps, r) })
		}
		if len(levels) == 0 {
			continue // only separators
		}
		for i, l := range levels {
			if d, err := DecodeUTF7(l); err == nil {
				levels[i] = d
			}
		}
		name := strings.Join(levels, "/")
		if strings.EqualFold(name, Inbox) {
			name = Inbox
		}
		names = append(names, name)
	}
	return names
}

// FormatSubscriptions renders a version 2 subscriptions file, as Dovecot
// 2.x writes it, from UTF-8 folder names with '/' as the separator.
func FormatSubscriptions(names []string) []byte {
	var b bytes.Buffer
	b.WriteString(subscriptionsV2Header)
	for _, name := range names {
		if strings.EqualFold(name, "INBOX") {
			name = "INBOX"
		}
		for i, level := range strings.Split(name, "/") {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tabEscape(EncodeUTF7(level)))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// tabEscape escapes NUL, \x01, tab, CR and LF as Dovecot's
// str_append_tabescaped does.
func tabEscape(s string) string {
	if !strings.ContainsAny(s, "\x00\x01\t\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0:
			b.WriteString("\x010")
		case 1:
			b.WriteString("\x011")
		case '\t':
			b.WriteString("\x01t")
		case '\r':
			b.WriteString("\x01r")
		case '\n':
			b.WriteString("\x01n")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// tabUnescape reverses tabEscape; an unknown escape keeps the escaped byte.
func tabUnescape(s string) string {
	if strings.IndexByte(s, 1) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 1 || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '0':
			b.WriteByte(0)
		case '1':
			b.WriteByte(1)
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
