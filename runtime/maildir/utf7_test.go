package maildir

import (
	"errors"
	"testing"
)

func TestUTF7(t *testing.T) {
	cases := []struct{ utf8, utf7 string }{
		{"", ""},
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"A&B", "A&-B"},
		{"&", "&-"},
		{"&&", "&-&-"},
		{"日本語", "&ZeVnLIqe-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Gelöschte Elemente", "Gel&APY-schte Elemente"},
		{"😀", "&2D3eAA-"},
		{"a😀b€", "a&2D3eAA-b&IKw-"},
		{"tab\there", "tab&AAk-here"},
		{"Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
	}
	for _, c := range cases {
		if got := EncodeUTF7(c.utf8); got != c.utf7 {
			t.Errorf("EncodeUTF7(%q) = %q, want %q", c.utf8, got, c.utf7)
		}
		got, err := DecodeUTF7(c.utf7)
		if err != nil || got != c.utf8 {
			t.Errorf("DecodeUTF7(%q) = %q, %v; want %q", c.utf7, got, err, c.utf8)
		}
	}
}

func TestDecodeUTF7Errors(t *testing.T) {
	for _, s := range []string{
		"Entw&APw",     // unterminated
		"Entwürfe",     // 8-bit byte
		"&APw*-",       // not base64
		"&2D0-",        // lone high surrogate
		"&3gA-",        // lone low surrogate
		"&AGE-",        // "a" must not be encoded
		"&APx-",        // non-zero padding bits
		"&APwA-",       // a dangling 6-bit group
		"new\nline",    // control character
		"&2D3eAAAh-",   // surrogate pair then an encoded "!"
		"&ZeVnLIqe,-x", // odd trailing bits
	} {
		if got, err := DecodeUTF7(s); err == nil || !errors.Is(err, errUTF7) {
			t.Errorf("DecodeUTF7(%q) = %q, %v; want an error", s, got, err)
		}
	}
}

func TestUTF7RoundTrip(t *testing.T) {
	// Deterministic: every rune class next to ASCII, '&' and each other.
	runes := []rune{'a', '&', ' ', '-', 'é', 'ß', '台', '\u00a0', '\U0001F600', '\U0010FFFF', '\x7f', '\x01', ',', '/'}
	for _, r1 := range runes {
		for _, r2 := range runes {
			for _, r3 := range runes {
				s := string([]rune{r1, r2, r3})
				enc := EncodeUTF7(s)
				dec, err := DecodeUTF7(enc)
				if err != nil || dec != s {
					t.Fatalf("round trip of %q: encoded %q, decoded %q, %v", s, enc, dec, err)
				}
			}
		}
	}
}
