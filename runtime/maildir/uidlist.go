package maildir

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// UIDListFile is the name of Dovecot's per-folder UID list.
const UIDListFile = "dovecot-uidlist"

// UIDList is a parsed dovecot-uidlist file.
//
// Version 3 (what Dovecot 2.x writes) starts with a header line
// "3 V<uidvalidity> N<nextuid> G<guid>" followed by one line per message,
// "<uid> [<ext fields like W123 S456>] :<base name>". Version 1 has the
// header "1 <uidvalidity> <nextuid>" and lines "<uid> <base name>".
type UIDList struct {
	// Version is 1 or 3.
	Version int
	// UIDValidity is the folder's UIDVALIDITY.
	UIDValidity uint32
	// NextUID is the N field of the header. Dovecot appends lines without
	// rewriting the header, so it may be lower than the highest listed UID
	// + 1; Next gives the value Dovecot uses.
	NextUID uint32
	// GUID is the folder's GUID in hex (the G field), "" when absent.
	GUID string
	// HeaderExt are the other header fields ("<key><value>"), in order.
	HeaderExt []string
	// Entries are the message lines, in file order.
	Entries []UIDEntry
}

// UIDEntry is one message line of dovecot-uidlist.
type UIDEntry = store.UIDEntry

// Next returns the next UID Dovecot will assign: the header's N field, or
// the highest listed UID + 1 when that is larger (Dovecot appends lines
// without rewriting the header).
func (l *UIDList) Next() uint32 {
	n := l.NextUID
	for _, e := range l.Entries {
		if e.UID >= n {
			n = e.UID + 1
		}
	}
	return n
}

// ParseUIDList parses a dovecot-uidlist file. An empty file yields an
// empty list with Version 0. An unterminated last line that does not parse
// is ignored: it is Dovecot's append caught half-way. When the same base
// name appears twice the later line wins, as in Dovecot. Entries reference
// one copy of data, so parsing allocates little per line.
func ParseUIDList(data []byte) (*UIDList, error) {
	l := &UIDList{}
	if len(data) == 0 {
		return l, nil
	}
	s := string(data)
	lineNo := 0
	for len(s) > 0 {
		line := s
		terminated := false
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s, terminated = s[:i], s[i+1:], true
		} else {
			s = ""
		}
		lineNo++
		var err error
		if lineNo == 1 {
			err = l.parseHeader(line)
		} else if line != "" {
			var e UIDEntry
			e, err = parseUIDEntry(line, l.Version)
			if err == nil {
				l.Entries = append(l.Entries, e)
			}
		}
		if err != nil {
			if !terminated && lineNo > 1 {
				break
			}
			return l, fmt.Errorf("line %d: %w", lineNo, err)
		}
	}
	return l, nil
}

func (l *UIDList) parseHeader(line string) error {
	if len(line) < 2 || line[1] != ' ' {
		return fmt.Errorf("header %q has no version number", line)
	}
	switch line[0] {
	case '1':
		l.Version = 1
		f := strings.Fields(line[2:])
		if len(f) < 2 {
			return fmt.Errorf("version 1 header %q lacks UIDVALIDITY and next UID", line)
		}
		v, err1 := parseUint32(f[0])
		n, err2 := parseUint32(f[1])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("version 1 header %q has bad numbers", line)
		}
		l.UIDValidity, l.NextUID = v, n
	case '3':
		l.Version = 3
		for _, f := range strings.Fields(line[2:]) {
			key, val := f[0], f[1:]
			var err error
			switch key {
			case 'V':
				l.UIDValidity, err = parseUint32(val)
			case 'N':
				l.NextUID, err = parseUint32(val)
			case 'G':
				l.GUID = val
			default:
				l.HeaderExt = append(l.HeaderExt, f)
			}
			if err != nil {
				return fmt.Errorf("header field %q: %w", f, err)
			}
		}
	default:
		return fmt.Errorf("unsupported version %q", line[:1])
	}
	if l.UIDValidity == 0 {
		return fmt.Errorf("header %q has no UIDVALIDITY", line)
	}
	return nil
}

func parseUIDEntry(line string, version int) (UIDEntry, error) {
	var e UIDEntry
	sp := strings.IndexByte(line, ' ')
	if sp <= 0 {
		return e, fmt.Errorf("entry %q is not \"<uid> <name>\"", line)
	}
	uid, err := parseUint32(line[:sp])
	if err != nil || uid == 0 {
		return e, fmt.Errorf("entry %q has a bad UID", line)
	}
	e.UID = uid
	rest := strings.TrimLeft(line[sp+1:], " ")
	if version == 3 {
		c := strings.IndexByte(rest, ':')
		if c < 0 {
			return e, fmt.Errorf("entry %q has no \":<name>\"", line)
		}
		e.Ext = strings.TrimRight(rest[:c], " ")
		rest = rest[c+1:]
	}
	if rest == "" || strings.IndexByte(rest, '/') >= 0 {
		return e, fmt.Errorf("entry %q has a bad file name", line)
	}
	e.Base = baseOf(rest)
	return e, nil
}

func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// Marshal renders the list in the version 3 format Dovecot 2.x writes,
// entries sorted by UID. The header's N field is Next().
func (l *UIDList) Marshal() []byte {
	entries := append([]UIDEntry(nil), l.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].UID < entries[j].UID })
	var b bytes.Buffer
	b.Grow(64 + len(entries)*64)
	fmt.Fprintf(&b, "3 V%d N%d", l.UIDValidity, l.Next())
	if l.GUID != "" {
		b.WriteString(" G")
		b.WriteString(l.GUID)
	}
	for _, f := range l.HeaderExt {
		b.WriteByte(' ')
		b.WriteString(f)
	}
	b.WriteByte('\n')
	var num []byte
	for _, e := range entries {
		num = strconv.AppendUint(num[:0], uint64(e.UID), 10)
		b.Write(num)
		b.WriteByte(' ')
		if e.Ext != "" {
			b.WriteString(e.Ext)
			b.WriteByte(' ')
		}
		b.WriteByte(':')
		b.WriteString(e.Base)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ListableBase reports whether a message's base name can stand in a
// dovecot-uidlist line: not empty, without '/' or ':', and without a line
// break (Dovecot reads the file by lines and drops a '\r' before '\n').
// A message whose base cannot is restored without its UID: Dovecot gives
// it a new one.
func ListableBase(base string) bool {
	return base != "" && !strings.ContainsAny(base, "/:\n\r")
}

// validate checks what Dovecot requires of a list it is to read: a
// UIDVALIDITY, UIDs above zero and unique, base names without '/', ':' or
// line breaks, extension fields whose keys are upper-case letters.
func (l *UIDList) validate() error {
	if l.UIDValidity == 0 {
		return fmt.Errorf("UIDVALIDITY is 0")
	}
	for i := 0; i < len(l.GUID); i++ {
		if c := l.GUID[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return fmt.Errorf("folder GUID %q is not hex", l.GUID)
		}
	}
	seen := make(map[uint32]bool, len(l.Entries))
	for _, e := range l.Entries {
		if e.UID == 0 {
			return fmt.Errorf("UID 0 for %q", e.Base)
		}
		if seen[e.UID] {
			return fmt.Errorf("UID %d is given twice", e.UID)
		}
		seen[e.UID] = true
		if !ListableBase(e.Base) {
			return fmt.Errorf("UID %d has a bad base name %q", e.UID, e.Base)
		}
		for _, f := range strings.Fields(e.Ext) {
			if f[0] < 'A' || f[0] > 'Z' || strings.ContainsAny(f, ":\n") {
				return fmt.Errorf("UID %d has a bad extension field %q", e.UID, f)
			}
		}
	}
	return nil
}
