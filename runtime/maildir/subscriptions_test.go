package maildir

import (
	"reflect"
	"testing"
)

// dovecotSubscriptions is a subscriptions file as Dovecot 2.3 wrote it:
// the version 2 header, tab as the hierarchy separator, names in modified
// UTF-7.
const dovecotSubscriptions = "V\t2\n\nINBOX\nEntw&APw-rfe\nProjects\t2026\n"

func TestParseSubscriptionsV2(t *testing.T) {
	got := ParseSubscriptions([]byte(dovecotSubscriptions), LayoutMaildirPP)
	want := []string{"INBOX", "Entwürfe", "Projects/2026"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if out := FormatSubscriptions(want); string(out) != dovecotSubscriptions {
		t.Fatalf("FormatSubscriptions = %q, want %q", out, dovecotSubscriptions)
	}
}

func TestParseSubscriptionsV1(t *testing.T) {
	data := []byte("INBOX\nProjects.2026\nArchive/2019\nEntw&APw-rfe\n\n")
	got := ParseSubscriptions(data, LayoutMaildirPP)
	want := []string{"INBOX", "Projects/2026", "Archive/2019", "Entwürfe"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("maildir++: got %q, want %q", got, want)
	}
	got = ParseSubscriptions([]byte("a.b/c\n"), LayoutFS)
	if want := []string{"a.b/c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("fs: got %q, want %q", got, want)
	}
}

func TestSubscriptionsTabEscape(t *testing.T) {
	// Control characters are encoded in modified UTF-7, so Dovecot's tab
	// escapes only appear in files other writers made.
	names := []string{"we\tird/na\x01me", "bad&utf7"}
	data := FormatSubscriptions(names)
	if string(data) != "V\t2\n\nwe&AAk-ird\tna&AAE-me\nbad&-utf7\n" {
		t.Fatalf("FormatSubscriptions = %q", data)
	}
	if got := ParseSubscriptions(data, LayoutFS); !reflect.DeepEqual(got, names) {
		t.Fatalf("got %q, want %q", got, names)
	}
	escaped := []byte("V\t2\n\nwe\x01tird\tna\x011me\x01n\x010\x01r\n")
	if got, want := ParseSubscriptions(escaped, LayoutFS), []string{"we\tird/na\x01me\n\x00\r"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := tabEscape("a\tb\x01c\nd\re\x00"); got != "a\x01tb\x011c\x01nd\x01re\x010" || tabUnescape(got) != "a\tb\x01c\nd\re\x00" {
		t.Fatalf("tabEscape = %q", got)
	}
	// A level that is not modified UTF-7 is kept as it is.
	if got := ParseSubscriptions([]byte("V\t2\n\nbad&utf7\n"), LayoutFS); !reflect.DeepEqual(got, []string{"bad&utf7"}) {
		t.Fatalf("got %q", got)
	}
}
