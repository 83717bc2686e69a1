package maildir

import (
	"reflect"
	"strings"
	"testing"
)

// dovecotUIDList is a dovecot-uidlist as Dovecot 2.3 wrote it after two
// appends: the header's N was not rewritten.
const dovecotUIDList = "3 V1795641356 N1 G388c51130c50076b7c4d000083ecc375\n" +
	"1 :1795641356.M452121P19846.vm,S=14,W=17\n" +
	"2 :1795641356.M391351P19842.vm,S=89,W=95\n"

func TestParseUIDListV3(t *testing.T) {
	l, err := ParseUIDList([]byte(dovecotUIDList))
	if err != nil {
		t.Fatal(err)
	}
	want := &UIDList{Version: 3, UIDValidity: 1795641356, NextUID: 1, GUID: "388c51130c50076b7c4d000083ecc375", Entries: []UIDEntry{
		{UID: 1, Base: "1795641356.M452121P19846.vm,S=14,W=17"},
		{UID: 2, Base: "1795641356.M391351P19842.vm,S=89,W=95"},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("got %+v\nwant %+v", l, want)
	}
	if l.Next() != 3 {
		t.Errorf("Next() = %d, want 3 (highest UID + 1 beats a stale header)", l.Next())
	}
}

func TestParseUIDListExtAndHeaderFields(t *testing.T) {
	data := "3 V42 N10 Gabc0 Xfoo\n" +
		"3 W1234 S1200 :b3:2,S\n" + // old files may carry the info: it is dropped
		"7  :b7\n" +
		"9 P123 :b9\n"
	l, err := ParseUIDList([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if l.UIDValidity != 42 || l.NextUID != 10 || l.GUID != "abc0" || !reflect.DeepEqual(l.HeaderExt, []string{"Xfoo"}) {
		t.Errorf("header = %+v", l)
	}
	want := []UIDEntry{{UID: 3, Ext: "W1234 S1200", Base: "b3"}, {UID: 7, Ext: "", Base: "b7"}, {UID: 9, Ext: "P123", Base: "b9"}}
	if !reflect.DeepEqual(l.Entries, want) {
		t.Errorf("entries = %+v, want %+v", l.Entries, want)
	}
	if l.Next() != 10 {
		t.Errorf("Next() = %d, want 10", l.Next())
	}
	// Marshal and parse again: the same list.
	again, err := ParseUIDList(l.Marshal())
	if err != nil || !reflect.DeepEqual(again, l) {
		t.Errorf("round trip: %+v, %v\nwant %+v", again, err, l)
	}
	if got := string(l.Marshal()); got != "3 V42 N10 Gabc0 Xfoo\n3 W1234 S1200 :b3\n7 :b7\n9 P123 :b9\n" {
		t.Errorf("Marshal = %q", got)
	}
}

func TestParseUIDListV1(t *testing.T) {
	l, err := ParseUIDList([]byte("1 1000 5\n1 a\n4 b:2,S\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &UIDList{Version: 1, UIDValidity: 1000, NextUID: 5, Entries: []UIDEntry{{UID: 1, Base: "a"}, {UID: 4, Base: "b"}}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("got %+v, want %+v", l, want)
	}
	if !strings.HasPrefix(string(l.Marshal()), "3 V1000 N5\n1 :a\n4 :b\n") {
		t.Errorf("Marshal = %q", l.Marshal())
	}
}

func TestParseUIDListHalfAppended(t *testing.T) {
	l, err := ParseUIDList([]byte(dovecotUIDList + "3 :17956"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 3 {
		t.Fatalf("entries = %+v", l.Entries)
	}
	// A half-written line that does not parse is ignored.
	l, err = ParseUIDList([]byte(dovecotUIDList + "3"))
	if err != nil || len(l.Entries) != 2 {
		t.Fatalf("got %+v, %v", l.Entries, err)
	}
}

func TestParseUIDListErrors(t *testing.T) {
	for _, data := range []string{
		"x\n",
		"2 V1 N1\n",
		"3 N1\n",
		"3 Vabc N1\n",
		"1 1\n",
		"3 V1 N1\n0 :a\n",
		"3 V1 N1\nx :a\n",
		"3 V1 N1\n1 a\n",
		"3 V1 N1\n1 :a/b\n",
		"3 V1 N1\n1 :\n",
	} {
		if _, err := ParseUIDList([]byte(data)); err == nil {
			t.Errorf("ParseUIDList(%q) gave no error", data)
		}
	}
	if l, err := ParseUIDList(nil); err != nil || l.Version != 0 {
		t.Errorf("empty file: %+v, %v", l, err)
	}
}

func TestUIDListValidate(t *testing.T) {
	ok := &UIDList{UIDValidity: 1, GUID: "ab12", Entries: []UIDEntry{{UID: 1, Ext: "W1", Base: "a"}, {UID: 2, Ext: "", Base: "b"}}}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*UIDList{
		{},
		{UIDValidity: 1, GUID: "xyz"},
		{UIDValidity: 1, Entries: []UIDEntry{{UID: 0, Ext: "", Base: "a"}}},
		{UIDValidity: 1, Entries: []UIDEntry{{UID: 1, Ext: "", Base: "a"}, {UID: 1, Ext: "", Base: "b"}}},
		{UIDValidity: 1, Entries: []UIDEntry{{UID: 1, Ext: "", Base: "a:2,S"}}},
		{UIDValidity: 1, Entries: []UIDEntry{{UID: 1, Ext: "w1", Base: "a"}}},
	} {
		if err := l.validate(); err == nil {
			t.Errorf("validate(%+v) gave no error", l)
		}
	}
}
