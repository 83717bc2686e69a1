package mailheader

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// recipientHeaders are the headers a delivery agent adds with the address
// it delivered to, in the order Recipient trusts them: Delivered-To
// (Dovecot's LDA and LMTP, Postfix local), X-Original-To (Postfix),
// Envelope-To (Exim).
var recipientHeaders = []string{"delivered-to", "x-original-to", "envelope-to"}

// Recipient returns the mailbox a message was delivered to, as the first
// (topmost, so the last delivery's) recipient header of its header block
// names it, lower-cased; "" when there is none or it is not a plain
// address. The To and Cc headers are not used: they name whoever the
// sender wrote, not who received the copy.
func Recipient(data []byte) string {
	if len(data) > MaxBlock {
		data = data[:MaxBlock]
	}
	found := make([]string, len(recipientHeaders))
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name := strings.ToLower(string(bytes.TrimRight(line[:colon], " \t")))
		for i, h := range recipientHeaders {
			if name == h && found[i] == "" {
				found[i] = plainAddress(string(line[colon+1:]))
			}
		}
	}
	for _, a := range found {
		if a != "" {
			return a
		}
	}
	return ""
}

// plainAddress returns s as one lower-cased addr-spec (angle brackets
// allowed), or "" when it is anything else.
func plainAddress(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 320 {
		return ""
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError || strings.ContainsRune(`<>()[]\,;:"/`, r) {
			return ""
		}
	}
	return strings.ToLower(s)
}
