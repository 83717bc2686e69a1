package schema

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNestingDepth bounds how deeply a policy or variable file nests: the
// HCL parser and evaluator recurse once per level, and a file nested
// deeper than the stack allows would crash them. Every open parenthesis,
// bracket, brace, string, heredoc and ${ } or %{ } sequence counts a level,
// and so does every operator of a chain such as a && b && c and every
// template %{ if } or %{ for } still open.
const MaxNestingDepth = 500

// checkNesting reports, as an error at the place it happens, a source
// nested deeper than MaxNestingDepth. It reads src the way the HCL lexer
// does (comments, quoted strings, heredocs and template sequences), in one
// pass and without recursion, so that it can run before the parser.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	at, ok := nestingWithin(src, MaxNestingDepth)
	if ok {
		return nil
	}
	pos := positionOf(src, at)
	end := pos
	end.Byte++
	end.Column++
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep",
		Detail: fmt.Sprintf("%s nests deeper than %d levels here; mailkeep reads no deeper. Every parenthesis, bracket, brace, string and ${ } counts a level, and so does every operator of a chain.",
			filename, MaxNestingDepth),
		Subject: &hcl.Range{Filename: filename, Start: pos, End: end}}
}

// positionOf returns the line, column and byte of offset at in src.
func positionOf(src []byte, at int) hcl.Pos {
	if at > len(src) {
		at = len(src)
	}
	lineStart := bytes.LastIndexByte(src[:at], '\n') + 1
	return hcl.Pos{Line: bytes.Count(src[:lineStart], []byte{'\n'}) + 1,
		Column: utf8.RuneCount(src[lineStart:at]) + 1, Byte: at}
}

// Kinds of nestScanner modes, as the HCL lexer has them.
const (
	modeMain    = iota // expressions and bodies
	modeQuoted         // a "quoted" template
	modeHeredoc        // a heredoc template
)

// nestLevel is one open parenthesis, bracket or brace, or the body of the
// file, and the operators seen in its current element.
type nestLevel struct {
	body bool // newlines end an element: the file's body and braces
	ops  int
}

// nestMode is one mode of the lexer: the file, a template, or a ${ } or
// %{ } sequence inside a template.
type nestMode struct {
	kind   int
	levels []nestLevel // modeMain
	// ops counts the %{ if } and %{ for } directives open in a template.
	ops         int
	marker      []byte // modeHeredoc: the closing marker
	startOfLine bool   // modeHeredoc
}

// nestScanner measures nesting depth; see checkNesting.
type nestScanner struct {
	src   []byte
	modes []nestMode
	// braces and retBraces mirror the HCL lexer: the brace level of each
	// open template sequence, whose closing brace returns to the template.
	braces    int
	retBraces []int
	depth     int
	max       int
	// value is true after a token that ends a value, so that a following
	// [ is an index, which nests the expression it indexes.
	value bool
}

// nestingWithin reports whether src nests at most max levels deep, and if
// not, the offset where it goes deeper.
func nestingWithin(src []byte, max int) (int, bool) {
	s := &nestScanner{src: stripBOM(src), max: max}
	off := len(src) - len(s.src)
	s.modes = []nestMode{{kind: modeMain, levels: []nestLevel{{body: true}}}}
	for i := 0; i < len(s.src); {
		var ok bool
		switch s.top().kind {
		case modeMain:
			i, ok = s.main(i)
		case modeQuoted:
			i, ok = s.quoted(i)
		default:
			i, ok = s.heredoc(i)
		}
		if !ok {
			return off + i, false
		}
	}
	return 0, true
}

func stripBOM(src []byte) []byte { return bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) }

func (s *nestScanner) top() *nestMode { return &s.modes[len(s.modes)-1] }

func (s *nestScanner) level() *nestLevel {
	m := s.top()
	return &m.levels[len(m.levels)-1]
}

// add changes the depth by n and reports whether it is still within max.
func (s *nestScanner) add(n int) bool {
	s.depth += n
	return s.depth <= s.max
}

// op counts an operator in the current element.
func (s *nestScanner) op() bool {
	s.level().ops++
	return s.add(1)
}

// endElement forgets the operators of the element that ends.
func (s *nestScanner) endElement() {
	l := s.level()
	s.depth -= l.ops
	l.ops = 0
}

func (s *nestScanner) open(body bool) bool {
	m := s.top()
	m.levels = append(m.levels, nestLevel{body: body})
	return s.add(1)
}

// close ends the innermost parenthesis, bracket or brace of the current
// mode; an unbalanced closer is the parser's to report.
func (s *nestScanner) close() {
	m := s.top()
	if len(m.levels) > 1 {
		l := m.levels[len(m.levels)-1]
		s.depth -= 1 + l.ops
		m.levels = m.levels[:len(m.levels)-1]
	}
}

func (s *nestScanner) pushMode(m nestMode) bool {
	s.modes = append(s.modes, m)
	return s.add(1)
}

func (s *nestScanner) popMode() {
	m := s.top()
	n := 1 + m.ops
	for i, l := range m.levels {
		n += l.ops
		if i > 0 {
			n++
		}
	}
	s.depth -= n
	s.modes = s.modes[:len(s.modes)-1]
}

// main scans one token in expression mode and returns the offset after it.
func (s *nestScanner) main(i int) (int, bool) {
	src := s.src
	c := src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	wasValue := s.value
	s.value = false
	switch {
	case c == ' ' || c == '\t' || c == '\r':
		s.value = wasValue
		return i + 1, true
	case c == '\n':
		if s.level().body {
			s.endElement()
		}
		return i + 1, true
	case c == '#' || (c == '/' && next == '/'):
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			return len(src), true
		}
		if s.level().body {
			s.endElement()
		}
		return i + end + 1, true
	case c == '/' && next == '*':
		if end := bytes.Index(src[i+2:], []byte("*/")); end >= 0 {
			s.value = wasValue
			return i + 2 + end + 2, true
		}
		return i + 1, s.op() // the lexer reads an unclosed /* as / and *
	case c == '"':
		return i + 1, s.pushMode(nestMode{kind: modeQuoted})
	case c == '<' && next == '<':
		if n, marker, ok := heredocStart(src[i:]); ok {
			return i + n, s.pushMode(nestMode{kind: modeHeredoc, marker: marker, startOfLine: true})
		}
		return i + 1, s.op()
	case c == '{':
		s.braces++
		return i + 1, s.open(true)
	case c == '}' || (c == '~' && next == '}'):
		n := 1
		if c == '~' {
			n = 2
		}
		if k := len(s.retBraces); k > 0 && s.retBraces[k-1] == s.braces {
			s.braces--
			s.retBraces = s.retBraces[:k-1]
			s.popMode()
			return i + n, true
		}
		s.braces--
		s.close()
		s.value = true
		return i + n, true
	case c == '(' || c == '[':
		if c == '[' && wasValue {
			if !s.op() {
				return i, false
			}
		}
		return i + 1, s.open(false)
	case c == ')' || c == ']':
		s.close()
		s.value = true
		return i + 1, true
	case c == ',':
		s.endElement()
		return i + 1, true
	case c == '=':
		switch next {
		case '=':
			return i + 2, s.op()
		case '>':
			return i + 2, true
		}
		return i + 1, true
	case c == '&' && next == '&', c == '|' && next == '|',
		(c == '!' || c == '<' || c == '>') && next == '=':
		return i + 2, s.op()
	case bytes.IndexByte([]byte("!?+-*/%<>&|^~"), c) >= 0:
		return i + 1, s.op()
	case isDigit(c):
		s.value = true
		return i + numberLen(src[i:]), true
	case c == '.':
		s.value = wasValue
		return i + 1, true
	case isIdentByte(c):
		j := i
		for j < len(src) && (isIdentByte(src[j]) || src[j] == '-') && src[j] < 0x80 {
			j++
		}
		if j < len(src) && src[j] >= 0x80 {
			j = i + lexedTokenLen(src[i:])
		}
		s.value = true
		return j, true
	}
	return i + 1, true
}

// lexedTokenLen returns the length of the first token the HCL lexer reads
// in src. The scanner asks it for identifiers with non-ASCII bytes, which
// the lexer's Unicode tables read in ways no simple rule mirrors (it takes
// some broken UTF-8 sequences, and the byte after them, into the
// identifier).
func lexedTokenLen(src []byte) int {
	for w := 64; ; w *= 2 {
		end := min(w, len(src))
		toks, _ := hclsyntax.LexConfig(src[:end], "", hcl.InitialPos)
		n := toks[0].Range.End.Byte
		if n < end || end == len(src) {
			return max(n, 1)
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numberLen returns the length of the number at the start of b, as the
// HCL lexer reads it: digits and dots, and exponents e, e+ or e- only
// where a digit follows them.
func numberLen(b []byte) int {
	j := 1
	for j < len(b) {
		switch c := b[j]; {
		case isDigit(c) || c == '.':
			j++
		case c|0x20 == 'e':
			k := j + 1
			if k < len(b) && (b[k] == '+' || b[k] == '-') {
				k++
			}
			if k >= len(b) || !isDigit(b[k]) {
				return j
			}
			j = k + 1
		default:
			return j
		}
	}
	return j
}

// isIdentByte reports whether c may be part of an identifier: non-ASCII
// bytes may be, as the HCL lexer decides.
func isIdentByte(c byte) bool {
	return c == '_' || isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80
}

// heredocStart reads a heredoc introducer, <<MARKER or <<-MARKER and a
// newline, at the start of b: its length and marker.
func heredocStart(b []byte) (int, []byte, bool) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return 0, nil, false
	}
	marker := b[2:nl]
	if len(marker) > 0 && marker[0] == '-' {
		marker = marker[1:]
	}
	marker = bytes.TrimSuffix(marker, []byte("\r"))
	if len(marker) == 0 || !hclsyntax.ValidIdentifier(string(marker)) {
		return 0, nil, false
	}
	return nl + 1, marker, true
}

// templateSequence reads a ${ or %{ at src[i:], or an escaped $${ or %%{:
// the bytes it takes, whether it opens a sequence, and whether that is a
// %{ if } or %{ for } (+1) or their end (-1).
func templateSequence(src []byte, i int) (n int, opens bool, directive int) {
	c := src[i]
	rest := src[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == '{':
		n = 2
	case len(rest) > 1 && rest[0] == c && rest[1] == '{':
		n = 3
		if len(rest) > 2 && rest[2] == '~' {
			n++
		}
		return n, false, 0
	default:
		return 1, false, 0
	}
	if len(rest) > 1 && rest[1] == '~' {
		n++
	}
	if c == '%' {
		word := skipBlanks(src[i+n:])
		switch {
		case hasKeyword(word, "if"), hasKeyword(word, "for"):
			directive = 1
		case hasKeyword(word, "endif"), hasKeyword(word, "endfor"):
			directive = -1
		}
	}
	return n, true, directive
}

// skipBlanks skips the white space, line breaks and comments at the start
// of b, as the parser does between %{ and a directive's keyword.
func skipBlanks(b []byte) []byte {
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case bytes.HasPrefix(b, []byte("/*")):
			end := bytes.Index(b[2:], []byte("*/"))
			if end < 0 {
				return b
			}
			b = b[2+end+2:]
		case bytes.HasPrefix(b, []byte("#")), bytes.HasPrefix(b, []byte("//")):
			end := bytes.IndexByte(b, '\n')
			if end < 0 {
				return nil
			}
			b = b[end+1:]
		default:
			return b
		}
	}
}

// hasKeyword reports whether b starts with the keyword kw as a whole word.
func hasKeyword(b []byte, kw string) bool {
	return bytes.HasPrefix(b, []byte(kw)) && (len(b) == len(kw) || !isIdentByte(b[len(kw)]) && b[len(kw)] != '-')
}

// sequence handles a $ or % in a template.
func (s *nestScanner) sequence(i int) (int, bool) {
	n, opens, directive := templateSequence(s.src, i)
	m := s.top()
	if m.kind == modeHeredoc {
		m.startOfLine = false
	}
	if !opens {
		return i + n, true
	}
	switch {
	case directive > 0:
		m.ops++
		if !s.add(1) {
			return i, false
		}
	case directive < 0 && m.ops > 0:
		m.ops--
		s.depth--
	}
	s.braces++
	s.retBraces = append(s.retBraces, s.braces)
	return i + n, s.pushMode(nestMode{kind: modeMain, levels: []nestLevel{{}}})
}

// quoted scans a quoted template from src[i].
func (s *nestScanner) quoted(i int) (int, bool) {
	switch s.src[i] {
	case '"':
		s.popMode()
		s.value = true
		return i + 1, true
	case '\\':
		if i+1 < len(s.src) && s.src[i+1] != '\n' && s.src[i+1] != '\r' {
			return i + 2, true
		}
	case '$', '%':
		return s.sequence(i)
	}
	return i + 1, true
}

// heredoc scans a heredoc template from src[i].
func (s *nestScanner) heredoc(i int) (int, bool) {
	src := s.src
	m := s.top()
	switch c := src[i]; {
	case c == '$' || c == '%':
		return s.sequence(i)
	case c >= 0x80 && !validUTF8At(src, i):
		return i + 1, true // a broken byte leaves the line's start as it is
	}
	// A literal: up to a $, %, line end or broken byte.
	j := i
	for j < len(src) {
		c := src[j]
		if c == '$' || c == '%' || c == '\n' || c == '\r' {
			break
		}
		if c >= 0x80 {
			if !validUTF8At(src, j) {
				break
			}
			j += utf8SeqLen(c)
			continue
		}
		j++
	}
	eol := 0
	switch {
	case j < len(src) && src[j] == '\n':
		eol = 1
	case j+1 < len(src) && src[j] == '\r' && src[j+1] == '\n':
		eol = 2
	}
	if eol == 0 {
		if j == i { // a lone carriage return: the lexer stops here
			return i + 1, true
		}
		m.startOfLine = false
		return j, true
	}
	if m.startOfLine && bytes.Equal(bytes.TrimSpace(src[i:j+eol]), m.marker) {
		s.popMode()
		s.value = true
		return j + eol - 1, true // the newline is the body's
	}
	m.startOfLine = true
	return j + eol, true
}

// utf8SeqLen is the length of the UTF-8 sequence that lead byte c starts,
// as the HCL lexer counts it.
func utf8SeqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	}
	return 2
}

// validUTF8At reports whether src[i] starts a sequence the HCL lexer reads
// as one character: a lead byte C0-F7 and its continuation bytes.
func validUTF8At(src []byte, i int) bool {
	c := src[i]
	if c < 0x80 {
		return true
	}
	if c < 0xC0 || c > 0xF7 {
		return false
	}
	n := utf8SeqLen(c)
	if i+n > len(src) {
		return false
	}
	for _, b := range src[i+1 : i+n] {
		if b < 0x80 || b > 0xBF {
			return false
		}
	}
	return true
}
