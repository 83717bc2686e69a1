package maildir

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// utf7Alphabet is the modified base64 alphabet of RFC 3501 §5.1.3: base64
// with ',' in place of '/'.
const utf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// utf7Value maps a byte to its 6-bit value in utf7Alphabet, or 0xff.
var utf7Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(utf7Alphabet); i++ {
		t[utf7Alphabet[i]] = byte(i)
	}
	return t
}()

// errUTF7 is wrapped by every modified UTF-7 decoding error.
var errUTF7 = errors.New("invalid modified UTF-7")

// EncodeUTF7 encodes a UTF-8 mailbox name in IMAP modified UTF-7 (RFC 3501
// §5.1.3): printable ASCII stands for itself except "&", which becomes
// "&-"; every other run of characters becomes "&" + modified base64 of its
// UTF-16BE form + "-". A name that is not valid UTF-8 (a directory
// created by something other than an IMAP server) is returned as it is:
// its bytes above 0x7f are never valid modified UTF-7, so DecodeUTF7
// refuses it and FolderName keeps it as it is, and the name goes back to
// the same bytes on disk.
func EncodeUTF7(s string) string {
	if isPlainUTF7(s) || !utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
			if c == '&' {
				b.WriteByte('-')
			}
			i++
			continue
		}
		// A run of characters outside printable ASCII.
		var units []uint16
		for i < len(s) && (s[i] < 0x20 || s[i] > 0x7e) {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError || r2 != utf8.RuneError {
				units = append(units, uint16(r1), uint16(r2))
			} else {
				units = append(units, uint16(r))
			}
		}
		b.WriteByte('&')
		var acc uint32
		bits := 0
		for _, u := range units {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				b.WriteByte(utf7Alphabet[(acc>>uint(bits))&0x3f])
			}
		}
		if bits > 0 {
			b.WriteByte(utf7Alphabet[(acc<<uint(6-bits))&0x3f])
		}
		b.WriteByte('-')
	}
	return b.String()
}

// isPlainUTF7 reports whether s is printable ASCII without '&', which
// encodes as itself.
func isPlainUTF7(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '&' {
			return false
		}
	}
	return true
}

// DecodeUTF7 decodes an IMAP modified UTF-7 mailbox name (RFC 3501 §5.1.3)
// to UTF-8. It is strict: 8-bit bytes, unterminated or malformed base64
// runs, non-zero padding bits, broken surrogate pairs and base64 runs that
// encode printable ASCII are errors.
func DecodeUTF7(s string) (string, error) {
	if strings.IndexByte(s, '&') < 0 {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return "", fmt.Errorf("%w: byte 0x%02x at offset %d in %q", errUTF7, s[i], i, s)
			}
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: byte 0x%02x at offset %d in %q", errUTF7, c, i, s)
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", fmt.Errorf("%w: unterminated \"&\" at offset %d in %q", errUTF7, i, s)
		}
		run := s[i+1 : i+1+end]
		if run == "" {
			b.WriteByte('&')
			i++
			continue
		}
		if err := decodeUTF7Run(&b, run); err != nil {
			return "", fmt.Errorf("%w: %s at offset %d in %q", errUTF7, err.Error(), i, s)
		}
		i += 1 + end
	}
	return b.String(), nil
}

// decodeUTF7Run decodes the modified base64 between '&' and '-'.
func decodeUTF7Run(b *strings.Builder, run string) error {
	var acc uint32
	bits := 0
	var high uint16
	for j := 0; j < len(run); j++ {
		v := utf7Value[run[j]]
		if v == 0xff {
			return fmt.Errorf("byte %q is not modified base64", run[j])
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits < 16 {
			continue
		}
		bits -= 16
		u := uint16(acc >> uint(bits))
		acc &= 1<<uint(bits) - 1
		switch {
		case high != 0:
			if u < 0xdc00 || u > 0xdfff {
				return errors.New("unpaired high surrogate")
			}
			b.WriteRune(utf16.DecodeRune(rune(high), rune(u)))
			high = 0
		case u >= 0xd800 && u <= 0xdbff:
			high = u
		case u >= 0xdc00 && u <= 0xdfff:
			return errors.New("unpaired low surrogate")
		case u >= 0x20 && u <= 0x7e:
			return errors.New("printable ASCII must not be base64-encoded")
		default:
			b.WriteRune(rune(u))
		}
	}
	if high != 0 {
		return errors.New("unpaired high surrogate")
	}
	if bits >= 6 || acc != 0 {
		return errors.New("bad base64 padding")
	}
	return nil
}
