package maildir

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseUIDList: any dovecot-uidlist parses or is refused without a
// panic, and a list that Dovecot would accept (validate) survives
// Marshal and a second parse unchanged.
func FuzzParseUIDList(f *testing.F) {
	f.Add([]byte("3 V1700000000 N3 G0123abcd\n1 :1700000000.M1P1.host\n2 W1200 S1180 :1700000001.M2P1.host\n"))
	f.Add([]byte("1 1700000000 5\n1 1700000000.a\n3 1700000000.b"))
	f.Add([]byte("3 V1 N1\n4294967295 :x\n"))
	f.Add([]byte("3 V1 N2 Xfoo\n1 :caf\xe9\n1 :dup\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseUIDList(data)
		if err != nil || l.validate() != nil {
			return
		}
		again, err := ParseUIDList(l.Marshal())
		if err != nil {
			t.Fatalf("the marshalled list does not parse: %v\n%q", err, l.Marshal())
		}
		if again.UIDValidity != l.UIDValidity || again.Next() != l.Next() || again.GUID != l.GUID {
			t.Fatalf("header changed: %+v -> %+v", l, again)
		}
		byUID := func(es []UIDEntry) []UIDEntry {
			es = slices.Clone(es)
			slices.SortFunc(es, func(a, b UIDEntry) int { return int(a.UID) - int(b.UID) })
			return es
		}
		if !slices.Equal(byUID(l.Entries), byUID(again.Entries)) {
			t.Fatalf("entries changed:\n%+v\n%+v", l.Entries, again.Entries)
		}
	})
}

// FuzzParseKeywords: a dovecot-keywords file parses or is refused; a
// table that can be written back reads back the same.
func FuzzParseKeywords(f *testing.F) {
	f.Add([]byte("0 $Forwarded\n1 $Junk\n3 NonJunk\n"))
	f.Add([]byte("25 z\n"))
	f.Add([]byte("26 toomany\n"))
	f.Add([]byte("0 caf\xe9\n-1 x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, err := ParseKeywords(data)
		if err != nil {
			return
		}
		out, err := FormatKeywords(names)
		if err != nil {
			return
		}
		again, err := ParseKeywords(out)
		if err != nil {
			t.Fatalf("formatted keywords do not parse: %v\n%q", err, out)
		}
		if !slices.Equal(trimEmpty(names), trimEmpty(again)) {
			t.Fatalf("keywords changed: %q -> %q", names, again)
		}
	})
}

func trimEmpty(s []string) []string {
	for len(s) > 0 && s[len(s)-1] == "" {
		s = s[:len(s)-1]
	}
	return s
}

// FuzzUTF7: modified UTF-7 decoding never panics, and encoding any UTF-8
// name decodes back to it.
func FuzzUTF7(f *testing.F) {
	for _, s := range []string{"Entw&APw-rfe", "&BBIERQQ+BDQETwRJBDgENQ-", "&-", "a&", "&AGE-", "&Jjo-!", "Caf\xe9", "日本語", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := DecodeUTF7(s); err == nil {
			if !utf8.ValidString(d) {
				t.Fatalf("DecodeUTF7(%q) = %q, not UTF-8", s, d)
			}
			if back, err := DecodeUTF7(EncodeUTF7(d)); err != nil || back != d {
				t.Fatalf("re-encoding %q: %q, %v", d, back, err)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		if d, err := DecodeUTF7(EncodeUTF7(s)); err != nil || d != s {
			t.Fatalf("EncodeUTF7(%q) = %q decodes to %q, %v", s, EncodeUTF7(s), d, err)
		}
	})
}

// FuzzFolderNames: a folder name that maps to a directory maps back to
// itself, in both layouts, and the directory stays one level of the
// Maildir root (Maildir++) or below it (fs).
func FuzzFolderNames(f *testing.F) {
	for _, s := range []string{"INBOX", "Sent", "Projects/2026", "Entwürfe", "a.b", "../x", "x/../y", "cur", ".hidden", "Caf\xe9", "a\nb", "&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, layout := range []string{LayoutMaildirPP, LayoutFS} {
			dir, err := FolderDir(layout, name)
			if err != nil {
				continue
			}
			if err := checkFolderDir(layout, dir); err != nil {
				t.Fatalf("%s: FolderDir(%q) = %q, which checkFolderDir refuses: %v", layout, name, dir, err)
			}
			if layout == LayoutMaildirPP && strings.Contains(dir, "/") || slices.Contains(strings.Split(dir, "/"), "..") {
				t.Fatalf("%s: FolderDir(%q) = %q leaves its place", layout, name, dir)
			}
			back := FolderName(layout, dir)
			if back != name && !(strings.EqualFold(name, Inbox) && back == Inbox) {
				t.Fatalf("%s: %q -> %q -> %q", layout, name, dir, back)
			}
		}
	})
}

// FuzzParseInfo: any file name parses, its base is a prefix of it, and
// its flags and letters are sorted without repeats.
func FuzzParseInfo(f *testing.F) {
	for _, s := range []string{"1700000000.M1P1.host,S=120,W=124:2,FRS", "x:2,Sab", "x:1,foo", "x", ":2,", "x:2,zzZZ\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		in := ParseInfo(name)
		if !strings.HasPrefix(name, in.Base) {
			t.Fatalf("base %q is not a prefix of %q", in.Base, name)
		}
		for _, s := range []string{in.Flags, in.Letters} {
			b := []byte(s)
			if !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
				t.Fatalf("ParseInfo(%q) = %+v: not sorted and unique", name, in)
			}
		}
	})
}

// FuzzParseSubscriptions: a subscriptions file gives names that format
// and parse back to themselves.
func FuzzParseSubscriptions(f *testing.F) {
	f.Add([]byte("V\t2\n\nINBOX\nSent\nProjects\t2026\n"))
	f.Add([]byte("Sent\nTrash\n"))
	f.Add([]byte("V\t2\n\na\x00b\n\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, layout := range []string{LayoutMaildirPP, LayoutFS} {
			names := ParseSubscriptions(data, layout)
			again := ParseSubscriptions(FormatSubscriptions(names), layout)
			if !slices.Equal(names, again) && !bytes.Contains(data, []byte{0}) {
				t.Fatalf("%s: %q -> %q -> %q", layout, data, names, again)
			}
		}
	})
}
