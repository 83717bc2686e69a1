package mailheader

import (
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/catalog"
)

func TestParsePlain(t *testing.T) {
	msg := "Return-Path: <x@y>\r\nFrom: Alice Martin <Alice@Example.org>\r\nTo: bob@example.org, Carol <carol@example.org>\r\n" +
		"Cc: dave@example.org\r\nSubject: Quarterly report\r\nDate: Tue, 01 Dec 2026 10:00:00 +0100\r\n" +
		"Message-ID: <abc.123@example.org>\r\n\r\nFrom: not a header\r\nbody\r\n"
	got := Parse([]byte(msg))
	want := catalog.Headers{
		From: "Alice Martin <Alice@Example.org>", To: "bob@example.org, Carol <carol@example.org>", Cc: "dave@example.org",
		Subject: "Quarterly report", Date: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano(), MessageID: "abc.123@example.org",
	}
	if got != want {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseEncodedWordsAndFolding(t *testing.T) {
	msg := "from: =?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <renee@example.fr>\n" +
		"SUBJECT: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\n" +
		"To: a@example.org,\n\tb@example.org\n" +
		"To: c@example.org\n" +
		"Cc: =?koi8-r?B?8NLJ18XU?= <d@example.org>\n" +
		"Message-Id:\n <folded@example.org>\n\nbody"
	got := Parse([]byte(msg))
	if got.From != "Renée Dupré <renee@example.fr>" {
		t.Errorf("From = %q", got.From)
	}
	if got.Subject != "If you can read this you understand the example." {
		t.Errorf("Subject = %q", got.Subject)
	}
	if got.To != "a@example.org, b@example.org, c@example.org" {
		t.Errorf("To = %q (folded and repeated To)", got.To)
	}
	if got.Cc != "Привет <d@example.org>" {
		t.Errorf("Cc = %q (koi8-r encoded word)", got.Cc)
	}
	if got.MessageID != "folded@example.org" {
		t.Errorf("MessageID = %q", got.MessageID)
	}
}

func TestParseMissingAndMalformed(t *testing.T) {
	for name, msg := range map[string]string{
		"empty":        "",
		"body only":    "\r\nFrom: x@y\r\n",
		"no colon":     "garbage line\nanother\n",
		"mbox from":    "From alice@example.org Tue Dec  1 10:00:00 2026\nSubject: s\n\n",
		"bad date":     "Date: yesterday at noon\nSubject: s\n\n",
		"bad encoding": "Subject: =?x-unknown?Q?abc?=\n\n",
		"no newline":   "Subject: s",
	} {
		got := Parse([]byte(msg))
		switch name {
		case "empty", "body only", "no colon":
			if got != (catalog.Headers{}) {
				t.Errorf("%s: got %+v, want no headers", name, got)
			}
		case "mbox from", "bad date", "no newline":
			if got.Subject != "s" || got.Date != 0 || got.From != "" {
				t.Errorf("%s: got %+v, want Subject s only", name, got)
			}
		case "bad encoding":
			if got.Subject != "=?x-unknown?Q?abc?=" {
				t.Errorf("%s: Subject = %q, want it kept as it is", name, got.Subject)
			}
		}
	}
	// The first From counts; a second one and its continuation are
	// skipped.
	got := Parse([]byte("From: a@example.org\nFrom: b@example.org\n c@example.org\nSubject: s\n\n"))
	if got.From != "a@example.org" || got.Subject != "s" {
		t.Errorf("repeated From: got %+v", got)
	}
}

func TestParseNonUTF8(t *testing.T) {
	// Raw 8-bit Latin-1 in a header (not allowed, but common).
	got := Parse([]byte("Subject: caf\xe9 cr\xe8me\nFrom: Andr\xe9 <a@example.org>\n\n"))
	if got.Subject != "café crème" || got.From != "André <a@example.org>" {
		t.Errorf("got %+v", got)
	}
	// Raw UTF-8 stays as it is.
	got = Parse([]byte("Subject: привет\n\n"))
	if got.Subject != "привет" {
		t.Errorf("Subject = %q", got.Subject)
	}
}

func TestParseHugeHeaderBlock(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: first\n")
	for b.Len() < 2*MaxBlock {
		b.WriteString("X-Filler: " + strings.Repeat("x", 70) + "\n")
	}
	b.WriteString("From: beyond@example.org\n\n")
	got := Parse([]byte(b.String()))
	if got.Subject != "first" || got.From != "" {
		t.Errorf("got %+v: want the Subject before the cap and nothing beyond it", got)
	}
	// A single huge header is kept up to maxValue bytes.
	got = Parse([]byte("Subject: " + strings.Repeat("y", 3*maxValue) + "\n To: folded\n\n"))
	if len(got.Subject) > maxValue || !strings.HasPrefix(got.Subject, "yyyy") {
		t.Errorf("huge Subject: %d bytes", len(got.Subject))
	}
}

func TestNormalizeMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<a@b>":            "a@b",
		" a@b ":            "a@b",
		"<a@b> (comment)":  "a@b",
		"junk <x@y> <z@w>": "x@y",
		"":                 "",
	} {
		if got := catalog.NormalizeMessageID(in); got != want {
			t.Errorf("NormalizeMessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkParse measures Parse on generated messages (the cost SmartScan
// pays per stored message):
//
//	go test -run '^$' -bench Parse ./runtime/mailheader
func BenchmarkParse(b *testing.B) {
	root := b.TempDir()
	if _, err := corpus.Generate(root, corpus.Options{Seed: 1, Accounts: 2, Messages: 1000}); err != nil {
		b.Fatal(err)
	}
	var msgs [][]byte
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "/cur/") && !strings.Contains(p, "/new/") {
			return err
		}
		data, err := os.ReadFile(p)
		msgs = append(msgs, data)
		total += int64(len(data))
		return err
	})
	if err != nil || len(msgs) == 0 {
		b.Fatalf("%d messages: %v", len(msgs), err)
	}
	b.SetBytes(total / int64(len(msgs)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Parse(msgs[i%len(msgs)])
	}
}

// The hand-written reading of the common Date form agrees with
// net/mail.ParseDate, and leaves the other forms to it.
func TestParseDate(t *testing.T) {
	for _, s := range []string{
		"Tue, 01 Dec 2026 10:00:00 +0100", "1 Dec 2026 10:00 -0530", "Mon, 30 Nov 2026 23:59:60 +0000 (UTC)",
		"Tue, 1 Dec 2026 10:00:00 GMT", "Tue, 1 Dec 2026 10:00:00 EST", "Tue,  1 dec 2026 10:00:00 +0000",
		"31 Feb 2026 10:00:00 +0000", "Tue, 01 Dec 26 10:00:00 +0100", "yesterday", "",
	} {
		want, werr := mail.ParseDate(s)
		got, ok := parseDate(s)
		if ok != (werr == nil) || ok && !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; net/mail: %v, %v", s, got, ok, want, werr)
		}
	}
}
