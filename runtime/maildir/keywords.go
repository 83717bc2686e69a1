package maildir

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// KeywordsFile is the name of Dovecot's per-folder keyword table.
const KeywordsFile = "dovecot-keywords"

// MaxKeywords is how many keywords a Maildir folder can hold in file
// names: the letters 'a' to 'z'.
const MaxKeywords = 26

// ParseKeywords parses a dovecot-keywords file: lines "<index> <name>",
// where index 0 is the letter 'a' in file names. The result is indexed by
// letter; indexes not listed are "". Lines that do not parse and indexes
// beyond 'z' are errors.
func ParseKeywords(data []byte) ([]string, error) {
	var names []string
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		sp := strings.IndexByte(line, ' ')
		if sp <= 0 {
			return names, fmt.Errorf("line %d: %q is not \"<index> <name>\"", n+1, line)
		}
		idx, err := strconv.Atoi(line[:sp])
		if err != nil || idx < 0 || idx >= MaxKeywords {
			return names, fmt.Errorf("line %d: bad keyword index %q", n+1, line[:sp])
		}
		name := line[sp+1:]
		if name == "" {
			return names, fmt.Errorf("line %d: keyword %d has no name", n+1, idx)
		}
		for len(names) <= idx {
			names = append(names, "")
		}
		names[idx] = name
	}
	return names, nil
}

// FormatKeywords renders a dovecot-keywords file; names[i] is the keyword
// of letter 'a'+i, and "" leaves that letter unused.
func FormatKeywords(names []string) ([]byte, error) {
	if len(names) > MaxKeywords {
		return nil, fmt.Errorf("%d keywords; a Maildir folder holds at most %d", len(names), MaxKeywords)
	}
	var b bytes.Buffer
	for i, name := range names {
		if name == "" {
			continue
		}
		if strings.ContainsAny(name, " \n\r\x00") {
			return nil, fmt.Errorf("keyword %q contains a space or a control character", name)
		}
		fmt.Fprintf(&b, "%d %s\n", i, name)
	}
	return b.Bytes(), nil
}

// keywordNames maps a letter mask to keyword names through a folder's
// dovecot-keywords table; a letter the table does not name becomes "?x",
// so that nothing is lost.
func keywordNames(table []string, m uint32) []string {
	if m == 0 {
		return nil
	}
	var out []string
	for i := 0; i < MaxKeywords; i++ {
		if m&(1<<i) == 0 {
			continue
		}
		if i < len(table) && table[i] != "" {
			out = append(out, table[i])
		} else {
			out = append(out, "?"+string(rune('a'+i)))
		}
	}
	return out
}

// KeywordLetters maps keyword names to the letters of a dovecot-keywords
// table, sorted; names of the form "?x" stand for letter x itself. It
// returns an error naming the first keyword the table lacks.
func KeywordLetters(table []string, names []string) (string, error) {
	var m uint32
	for _, name := range names {
		if len(name) == 2 && name[0] == '?' && name[1] >= 'a' && name[1] <= 'z' {
			m |= 1 << (name[1] - 'a')
			continue
		}
		found := false
		for i, t := range table {
			if t == name && i < MaxKeywords {
				m |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("keyword %q is not in the folder's %s", name, KeywordsFile)
		}
	}
	return lettersString(m), nil
}
