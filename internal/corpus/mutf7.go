package corpus

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mutf7 is the base64 alphabet of IMAP's modified UTF-7 (RFC 3501 §5.1.3):
// standard base64 with ',' instead of '/', never padded.
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// encodeMUTF7 encodes a UTF-8 mailbox name component in modified UTF-7, the
// way Dovecot names Maildir++ folders on disk ("Entwürfe" → "Entw&APw-rfe").
// Printable ASCII stands for itself except '&', which becomes "&-"; every run
// of other characters becomes '&' + modified base64 of its UTF-16BE + '-'.
func encodeMUTF7(s string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		units := utf16.Encode(run)
		raw := make([]byte, 0, 2*len(units))
		for _, u := range units {
			raw = append(raw, byte(u>>8), byte(u))
		}
		b.WriteByte('&')
		b.WriteString(mutf7.EncodeToString(raw))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		run = append(run, r)
	}
	flush()
	return b.String()
}

// decodeMUTF7 is the inverse of encodeMUTF7.
func decodeMUTF7(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", errors.New("modified UTF-7: byte outside printable ASCII")
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", errors.New("modified UTF-7: unterminated shift sequence")
		}
		enc := s[i+1 : i+1+end]
		i += end + 2
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := mutf7.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", errors.New("modified UTF-7: bad base64 in shift sequence")
		}
		units := make([]uint16, len(raw)/2)
		for j := range units {
			units[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError {
				return "", errors.New("modified UTF-7: invalid UTF-16")
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// maildirDirName returns the Maildir++ directory of a folder: "" for INBOX,
// ".Projects.2026" for "Projects/2026", each level in modified UTF-7.
func maildirDirName(folder string) string {
	if folder == "INBOX" {
		return ""
	}
	parts := strings.Split(folder, "/")
	for i, p := range parts {
		parts[i] = encodeMUTF7(p)
	}
	return "." + strings.Join(parts, ".")
}

// folderFromDirName is the inverse of maildirDirName.
func folderFromDirName(dir string) (string, error) {
	if dir == "" {
		return "INBOX", nil
	}
	if !strings.HasPrefix(dir, ".") {
		return "", errors.New("not a Maildir++ folder directory: " + dir)
	}
	parts := strings.Split(dir[1:], ".")
	for i, p := range parts {
		d, err := decodeMUTF7(p)
		if err != nil {
			return "", err
		}
		parts[i] = d
	}
	return strings.Join(parts, "/"), nil
}
