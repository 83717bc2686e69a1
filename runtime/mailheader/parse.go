// Package mailheader reads the headers a search needs (From, To, Cc,
// Subject, Date, Message-ID) from a message's bytes, and indexes them in
// the background for messages stored before mailkeep recorded them at
// backup time.
package mailheader

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// Limits of Parse: it reads at most MaxBlock bytes of header block, and
// keeps at most maxValue bytes of each header.
const (
	MaxBlock = 64 << 10
	maxValue = 4 << 10
)

// field is one of the headers Parse keeps.
type field int

const (
	fieldNone field = iota
	fieldFrom
	fieldTo
	fieldCc
	fieldSubject
	fieldDate
	fieldMessageID
	fieldCount
)

var fieldNames = [fieldCount]string{"", "from", "to", "cc", "subject", "date", "message-id"}

// Parse reads the search headers of a message. It stops at the end of the
// header block or after MaxBlock bytes and never fails: a malformed line
// is skipped, a header that cannot be decoded is kept as it is (bytes that
// are not UTF-8 read as Windows-1252), a Date that does not parse is 0.
// Repeated To and Cc headers are joined; of the others the first counts.
func Parse(data []byte) catalog.Headers {
	var raw [fieldCount][]byte
	cur := fieldNone
	for line := range headerLines(data) {
		if line[0] == ' ' || line[0] == '\t' {
			if cur != fieldNone {
				raw[cur] = appendCapped(raw[cur], line)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			cur = fieldNone // not a header line ("From " of mbox, garbage)
			continue
		}
		cur = lookup(bytes.TrimRight(line[:colon], " \t"))
		if cur == fieldNone {
			continue
		}
		value := line[colon+1:]
		switch {
		case raw[cur] == nil:
			raw[cur] = appendCapped(make([]byte, 0, len(value)), value)
		case cur == fieldTo || cur == fieldCc:
			raw[cur] = appendCapped(append(raw[cur], ','), value)
		default:
			cur = fieldNone // a repeated From, Subject, ...: the first counts
		}
	}
	h := catalog.Headers{
		From:    decode(raw[fieldFrom]),
		To:      decode(raw[fieldTo]),
		Cc:      decode(raw[fieldCc]),
		Subject: decode(raw[fieldSubject]),
	}
	h.MessageID = catalog.NormalizeMessageID(decode(raw[fieldMessageID]))
	if d := decode(raw[fieldDate]); d != "" {
		if t, ok := parseDate(d); ok {
			h.Date = t.UnixNano()
		}
	}
	return h
}

// headerLines yields the lines of a message's header block, without
// their line ends, up to the empty line that ends it or MaxBlock bytes;
// continuation lines (starting with a space or a tab) come as they are.
func headerLines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if len(data) > MaxBlock {
			data = data[:MaxBlock]
		}
		for len(data) > 0 {
			var line []byte
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				line, data = data, nil
			}
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) == 0 || !yield(line) {
				return
			}
		}
	}
}

// lookup returns which kept header a name is, case-insensitively.
func lookup(name []byte) field {
	if len(name) < 2 || len(name) > 10 {
		return fieldNone
	}
	for f := fieldFrom; f < fieldCount; f++ {
		if len(name) == len(fieldNames[f]) && bytes.EqualFold(name, []byte(fieldNames[f])) {
			return f
		}
	}
	return fieldNone
}

func appendCapped(dst, src []byte) []byte {
	if room := maxValue - len(dst); len(src) > room {
		src = src[:max(room, 0)]
	}
	return append(dst, src...)
}

var wordDecoder = mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader reads the charsets of RFC 2047 encoded words beyond the
// three the standard library knows.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}

// decode unfolds a header value, decodes its encoded words and collapses
// runs of white space; the result is valid UTF-8.
func decode(v []byte) string {
	if v == nil {
		return ""
	}
	s := string(v)
	if !utf8.ValidString(s) {
		if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
			s = d
		} else {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = strings.ToValidUTF8(d, "\uFFFD")
		}
	}
	return strings.Join(strings.Fields(s), " ")
}
