package maildir

import "strings"

// StandardFlags are the Maildir standard flags in the order they appear in
// file names: Draft, Flagged, Passed (forwarded), Replied, Seen, Trashed
// (deleted).
const StandardFlags = "DFPRST"

// Info is the parsed info part of a Maildir file name
// "<unique>[,S=<size>][,W=<vsize>][:2,<flags>]".
type Info struct {
	// Base is the unique part of the name: everything before ":2," (or
	// ":1,"), or the whole name when it has no info. It is the message's
	// identity across flag changes, and the name dovecot-uidlist records.
	Base string
	// Flags are the standard flags present, a sorted subset of
	// StandardFlags. Other upper-case letters are dropped.
	Flags string
	// Letters are the keyword letters present ('a' is dovecot-keywords
	// index 0), sorted and without repeats.
	Letters string
	// HasInfo reports whether the name has a ":2," or ":1," part.
	HasInfo bool
}

// flagStrings[mask] is the sorted flag string for a bit mask over
// StandardFlags, so that parsing allocates nothing for flags.
var flagStrings = func() (t [1 << len(StandardFlags)]string) {
	for m := range t {
		var b []byte
		for i := 0; i < len(StandardFlags); i++ {
			if m&(1<<i) != 0 {
				b = append(b, StandardFlags[i])
			}
		}
		t[m] = string(b)
	}
	return t
}()

// flagBit maps an upper-case letter to its bit in a flag mask, or 0.
var flagBit = func() (t [256]uint8) {
	for i := 0; i < len(StandardFlags); i++ {
		t[StandardFlags[i]] = 1 << i
	}
	return t
}()

// ParseInfo parses a Maildir file name. The old ":1," info (experimental
// semantics, never written by Dovecot) is treated as no flags.
func ParseInfo(name string) Info {
	base, flags, letters, has := parseInfo(name)
	return Info{Base: base, Flags: flagStrings[flags], Letters: lettersString(letters), HasInfo: has}
}

// parseInfo is ParseInfo without allocations: flags as a bit mask over
// StandardFlags and keyword letters as a bit mask ('a' is bit 0).
func parseInfo(name string) (base string, flags uint8, letters uint32, hasInfo bool) {
	i := strings.IndexByte(name, ':')
	for i >= 0 {
		rest := name[i+1:]
		if len(rest) >= 2 && rest[1] == ',' && (rest[0] == '2' || rest[0] == '1') {
			break
		}
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			i = -1
			break
		}
		i += 1 + j
	}
	if i < 0 {
		return name, 0, 0, false
	}
	base = name[:i]
	if name[i+1] == '1' {
		return base, 0, 0, true
	}
	for _, c := range []byte(name[i+3:]) {
		switch {
		case c >= 'a' && c <= 'z':
			letters |= 1 << (c - 'a')
		default:
			flags |= flagBit[c]
		}
	}
	return base, flags, letters, true
}

// baseOf returns the unique part of a Maildir file name.
func baseOf(name string) string {
	base, _, _, _ := parseInfo(name)
	return base
}

// lettersString renders a keyword letter mask as sorted letters.
func lettersString(m uint32) string {
	if m == 0 {
		return ""
	}
	b := make([]byte, 0, 4)
	for i := 0; i < 26; i++ {
		if m&(1<<i) != 0 {
			b = append(b, byte('a'+i))
		}
	}
	return string(b)
}

// FormatName builds a Maildir file name from a base, standard flags and
// keyword letters, in Dovecot's form "<base>:2,<flags><letters>" with both
// sorted; with neither it is "<base>:2,", as Dovecot names a message in
// cur/ without flags. (A message in new/ that nobody touched has no info
// part at all: its name is the base.)
func FormatName(base, flags, letters string) string {
	var fm uint8
	for i := 0; i < len(flags); i++ {
		fm |= flagBit[flags[i]]
	}
	var lm uint32
	for i := 0; i < len(letters); i++ {
		if c := letters[i]; c >= 'a' && c <= 'z' {
			lm |= 1 << (c - 'a')
		}
	}
	return base + ":2," + flagStrings[fm] + lettersString(lm)
}
