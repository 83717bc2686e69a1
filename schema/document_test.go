package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// fullDocument is the document of testdata/policies/full, in which every
// setting differs from its default.
func fullDocument(t *testing.T) *Document {
	t.Helper()
	p, diags := loadFixture(t, "policies/full", LoadOptions{})
	if p == nil {
		t.Fatalf("diagnostics: %s", details(diags))
	}
	return NewDocument(p.Servers[0])
}

// defaultDocument is the document of a policy that sets only mail_store.
func defaultDocument(t *testing.T) *Document {
	t.Helper()
	p := mustLoad(t, writePolicy(t, map[string]string{"main.hcl": minimalPolicy}), LoadOptions{})
	return NewDocument(p.Servers[0])
}

func TestCanonicalJSON(t *testing.T) {
	doc := fullDocument(t)
	c := doc.Canonical()

	var compact bytes.Buffer
	if err := json.Compact(&compact, c); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, c)
	}
	if !bytes.Equal(compact.Bytes(), c) {
		t.Errorf("not compact:\n%s", c)
	}
	checkSortedKeys(t, c)
	if bytes.HasSuffix(c, []byte("\n")) {
		t.Error("canonical JSON ends with a newline")
	}
	// No HTML escaping: the description is written as it is.
	if !bytes.Contains(c, []byte(`"description":"full <policy> & more"`)) {
		t.Errorf("description escaped:\n%s", c)
	}
	// Stable: the same policy loaded again gives the same bytes.
	if again := fullDocument(t).Canonical(); !bytes.Equal(again, c) {
		t.Errorf("canonical JSON differs between loads:\n%s\n%s", c, again)
	}
	if !bytes.Equal(doc.Canonical(), c) {
		t.Error("canonical JSON differs between calls")
	}
	golden(t, "document-full.json", append(c, '\n'))

	sum := sha256.Sum256(c)
	if got, want := doc.ETag(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("ETag %s, want %s", got, want)
	}
	if doc.ETag() == defaultDocument(t).ETag() {
		t.Error("different documents share an ETag")
	}
}

// checkSortedKeys walks JSON tokens and checks that the keys of every
// object are in strictly increasing order.
func checkSortedKeys(t *testing.T, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object  bool
		lastKey string
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:top]
				continue
			}
			key := tok.(string)
			if stack[top].lastKey != "" && key <= stack[top].lastKey {
				t.Errorf("key %q after %q", key, stack[top].lastKey)
			}
			stack[top].lastKey, stack[top].wantKey = key, false
			continue
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Errorf("unbalanced JSON: %s", data)
	}
}

func TestDecodeDocumentRoundTrip(t *testing.T) {
	// The full fixture must set every setting away from its default, or
	// the round trip would not show that each one survives.
	for _, st := range Settings() {
		if fullDocument(t).Get(st.Path).RawEquals(st.Default) {
			t.Errorf("testdata/policies/full leaves %s at its default", st.Path)
		}
	}
	for name, doc := range map[string]*Document{"full": fullDocument(t), "defaults": defaultDocument(t)} {
		got, err := DecodeDocument(doc.Canonical())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(doc) || got.ETag() != doc.ETag() {
			t.Errorf("%s: round trip changed the document:\n%s\n%s", name, doc.Canonical(), got.Canonical())
		}
		for _, st := range Settings() {
			if !got.Get(st.Path).RawEquals(doc.Get(st.Path)) {
				t.Errorf("%s: %s = %#v, want %#v", name, st.Path, got.Get(st.Path), doc.Get(st.Path))
			}
		}
	}
}

// TestDecodeOlderDocument simulates a document written before some
// settings existed: it lacks them, and must equal the document that spells
// their defaults out, so adding a setting never shows up as a change.
func TestDecodeOlderDocument(t *testing.T) {
	full := defaultDocument(t)
	var m map[string]any
	if err := json.Unmarshal(full.Canonical(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "remote")
	delete(m, "legal_hold")
	delete(m, "description")
	delete(m["index"].(map[string]any), "max_size_mb")
	delete(m["purge"].(map[string]any), "timezone")
	m["smartscan"].(map[string]any)["timezone"] = nil // null is absent too
	old, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDocument(old)
	if err != nil {
		t.Fatalf("%v\n%s", err, old)
	}
	if !got.Equal(full) || got.ETag() != full.ETag() {
		t.Errorf("older document decodes to\n%s\nwant\n%s", got.Canonical(), full.Canonical())
	}

	// The oldest possible document: format_version and the one required
	// setting.
	got, err = DecodeDocument([]byte(`{"format_version":1,"mail_store":"maildir:/var/vmail/%d/%n/Maildir"}`))
	if err != nil || got.ETag() != full.ETag() {
		t.Errorf("minimal document: %v\n%s", err, got.Canonical())
	}
}

func TestDecodeDocumentRefuses(t *testing.T) {
	const store = `"mail_store":"maildir:/var/vmail/%d/%n/Maildir"`
	cases := []struct{ doc, err string }{
		{`{"format_version":2,` + store + `}`, "format_version 2 was written by a newer mailkeep (this one reads up to 1)"},
		{`{` + store + `}`, "format_version is missing or not a number"},
		{`{"format_version":"1",` + store + `}`, "format_version is missing or not a number"},
		{`{"format_version":0,` + store + `}`, "format_version 0 is not a positive integer"},
		{`{"format_version":1.5,` + store + `}`, "format_version 1.5 is not a positive integer"},
		{`{"format_version":1}`, "mail_store is required"},
		{`{"format_version":1,` + store + `,"colour":"blue"}`, "unknown setting colour"},
		{`{"format_version":1,` + store + `,"purge":{"frequency":3,"enabled":true}}`, "unknown setting purge.frequency"},
		{`{"format_version":1,` + store + `,"address":"https://mx1:7443"}`, "unknown setting address"},
		{`{"format_version":1,` + store + `,"purge":{"item_retention_days":"30"}}`, "purge.item_retention_days: want a number, got a string"},
		{`{"format_version":1,` + store + `,"realtime_scanner":"yes"}`, "realtime_scanner: want true or false, got a string"},
		{`{"format_version":1,` + store + `,"backup_path":7}`, "backup_path: want a string, got a number"},
		{`{"format_version":1,` + store + `,"restore":{"post_command":"doveadm"}}`, "restore.post_command: want a list, got a string"},
		{`{"format_version":1,` + store + `,"accounts":{"include":["*",1]}}`, "accounts.include: element 1: want a string, got a number"},
		{`{"format_version":1,` + store + `,"purge":7}`, "purge must be an object"},
		{`{"format_version":1,` + store + `,"description":{"a":1}}`, "description: want a string, got an object"},
		// Values are validated like policy values.
		{`{"format_version":1,` + store + `,"backup_path":"relative"}`, `backup_path: The path "relative" is relative`},
		{`{"format_version":1,` + store + `,"purge":{"item_retention_days":-1}}`, "purge.item_retention_days: The value must be zero or more; got -1"},
		{`{"format_version":1,"mail_store":"mbox:/var/mail/%u"}`, "mail_store:"},
		{`{"format_version":1,` + store + `} {}`, "trailing data"},
		{`[1]`, "not a JSON object"},
		{``, "not a JSON object"},
	}
	for _, c := range cases {
		d, err := DecodeDocument([]byte(c.doc))
		if err == nil {
			t.Errorf("%s: decoded to %s", c.doc, d.Canonical())
			continue
		}
		if !strings.HasPrefix(err.Error(), "config document: ") || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %q, want it to contain %q", c.doc, err, c.err)
		}
	}
}

// TestDecodeDocumentBounds checks that a document too large or nested too
// deeply is refused with a message, not decoded.
func TestDecodeDocumentBounds(t *testing.T) {
	big := `{"format_version": 1, "mail_store": "maildir:/v/%u", "description": "` + strings.Repeat("x", MaxDocumentBytes) + `"}`
	if _, err := DecodeDocument([]byte(big)); err == nil || !strings.Contains(err.Error(), "more than the 1 MiB a document may have") {
		t.Errorf("large document: %v", err)
	}
	deep := `{"format_version": 1, "mail_store": "maildir:/v/%u", "x": ` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`
	if _, err := DecodeDocument([]byte(deep)); err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Errorf("deep document: %v", err)
	}
}

// TestDecodeDocumentBackupPath checks that an agent refuses, as a policy
// does, a backup_path that is the root, in a kernel filesystem, holds a
// control character or overlaps the mail store.
func TestDecodeDocumentBackupPath(t *testing.T) {
	for bp, want := range map[string]string{
		"/":                       "is the root directory",
		"/proc/x":                 "is in /proc",
		"/srv/a\nb":               "contains a line break",
		"/var/vmail/example.com":  "where it would be taken for an account's directory",
		"/var":                    "holds the mail store",
		"/var/vmail/d/u/Maildir/": "is inside an account's Maildir",
	} {
		js, _ := json.Marshal(map[string]any{"format_version": 1, "mail_store": "maildir:/var/vmail/%d/%n/Maildir", "backup_path": bp})
		if _, err := DecodeDocument(js); err == nil || !strings.Contains(err.Error(), "config document: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("backup_path %q: %v, want an error saying %q", bp, err, want)
		}
	}
}
