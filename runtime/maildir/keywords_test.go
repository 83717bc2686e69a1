package maildir

import (
	"reflect"
	"testing"
)

func TestParseKeywords(t *testing.T) {
	got, err := ParseKeywords([]byte("0 $Important\n1 Junk\n3 $label1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"$Important", "Junk", "", "$label1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	data, err := FormatKeywords(want)
	if err != nil || string(data) != "0 $Important\n1 Junk\n3 $label1\n" {
		t.Fatalf("FormatKeywords = %q, %v", data, err)
	}
	for _, bad := range []string{"x Junk\n", "26 Junk\n", "-1 a\n", "0 \n", "Junk\n"} {
		if _, err := ParseKeywords([]byte(bad)); err == nil {
			t.Errorf("ParseKeywords(%q) gave no error", bad)
		}
	}
	if _, err := FormatKeywords(make([]string, 27)); err == nil {
		t.Error("27 keywords accepted")
	}
	if _, err := FormatKeywords([]string{"two words"}); err == nil {
		t.Error("a keyword with a space accepted")
	}
}

func TestKeywordNamesAndLetters(t *testing.T) {
	table := []string{"$Important", "Junk", ""}
	names := keywordNames(table, 1<<0|1<<2|1<<4)
	if want := []string{"$Important", "?c", "?e"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("keywordNames = %q, want %q", names, want)
	}
	letters, err := KeywordLetters(table, names)
	if err != nil || letters != "ace" {
		t.Fatalf("KeywordLetters = %q, %v", letters, err)
	}
	if _, err := KeywordLetters(table, []string{"Other"}); err == nil {
		t.Error("unknown keyword accepted")
	}
}
