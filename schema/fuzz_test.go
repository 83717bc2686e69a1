package schema

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// seedPolicies adds every fixture policy file to a fuzz corpus, each file
// alone and each fixture directory's *.hcl files concatenated.
func seedPolicies(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		sort.Strings(files)
		var all []byte
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
			all = append(append(all, src...), '\n')
		}
		if len(files) > 1 {
			f.Add(all)
		}
	}
}

// FuzzLoad feeds arbitrary bytes as a policy file through Load (parse,
// decode, validate, merge), renders the diagnostics and, when the policy is
// valid, builds, serialises and decodes every server's document. Nothing
// may panic; a valid policy's documents must round-trip.
func FuzzLoad(f *testing.F) {
	seedPolicies(f)
	for _, src := range edgePolicies {
		f.Add([]byte(src))
	}
	// One directory per process: inputs run one at a time in a process,
	// and creating a directory per input costs more than loading it.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		p, diags := Load(dir, LoadOptions{})
		WriteDiagnostics(io.Discard, diags, nil, true)
		DiagnosticsJSON(diags, nil)
		if p == nil {
			if !diags.HasErrors() {
				t.Fatal("no policy and no error")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatal("a policy together with errors")
		}
		WriteDiagnostics(io.Discard, diags, NewSources(p.Files), false)
		for i, s := range p.Servers {
			if i > 0 && p.Servers[i-1].Name >= s.Name {
				t.Fatalf("servers not sorted or not unique: %q, %q", p.Servers[i-1].Name, s.Name)
			}
			checkServerDocument(t, s)
		}
	})
}

// checkServerDocument checks that a valid server's values are all known
// and that its document survives serialisation.
func checkServerDocument(t *testing.T, s *Server) {
	for _, v := range s.Values() {
		if v.Setting == nil || !v.Val.IsWhollyKnown() || v.Val.IsNull() || v.Val.IsMarked() {
			t.Fatalf("server %s: invalid effective value %#v for %v", s.Name, v.Val, v.Setting)
		}
	}
	doc := NewDocument(s)
	c := doc.Canonical()
	back, err := DecodeDocument(c)
	if err != nil {
		t.Fatalf("server %s: document does not decode: %v\n%s", s.Name, err, c)
	}
	if !bytes.Equal(back.Canonical(), c) {
		t.Fatalf("server %s: document changed in a round trip:\n%s\n%s", s.Name, c, back.Canonical())
	}
}

// FuzzDecodeDocument feeds arbitrary bytes to DecodeDocument. A document
// it accepts must be canonical after one re-encoding: decoding that
// encoding gives the same bytes again.
func FuzzDecodeDocument(f *testing.F) {
	for _, name := range []string{"document-defaults.json", "document-full.json"} {
		src, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`{"format_version":1,"mail_store":"maildir:/var/vmail/%d/%n/Maildir","purge":{"item_retention_days":1e3}}`))
	f.Add([]byte(`{"format_version":1,"mail_store":"maildir:/m/%u","restore":{"post_command":["a\u2028b"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := DecodeDocument(data)
		if err != nil {
			return
		}
		c := doc.Canonical()
		again, err := DecodeDocument(c)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v\n%s", err, c)
		}
		if !bytes.Equal(again.Canonical(), c) || again.ETag() != doc.ETag() {
			t.Fatalf("canonical form is not stable:\n%s\n%s", c, again.Canonical())
		}
	})
}

// edgePolicies are small inputs at the edges of the language, run with the
// seed corpus on every go test.
var edgePolicies = []string{
	``,
	`server "mx1" {}`,
	"global {}\nglobal {}\n",
	"variable {}\nserver {}\nglobal \"x\" {}\n",
	`variable "x" {
  type    = any
  default = null
  validation {
    condition     = var.x
    error_message = 5
  }
}`,
	`variable "x" {
  validation {
    condition     = var.y
    error_message = "m"
  }
}`,
	`locals {
  a = each.key
  b = local.b
  c = var.nope
}`,
	`server "s" {
  for_each = toset([])
}`,
	`server "s" {
  for_each = toset([null])
}`,
	`server "s" {
  for_each   = { a = null }
  mail_store = each.value
}`,
	`server "s" {
  for_each = 5
}`,
	`server "s" {
  for_each = null
}`,
	`server "s" {
  for_each   = toset([1, 2])
  mail_store = "maildir:/m/%u"
  address    = "https://h${each.key}:1"
}`,
	`server "s" {
  mail_store = "maildir:/m/%u"
  reserved_space {
    backup_mb   = -0
    metadata_mb = 9007199254740992
  }
}`,
	`server "s" {
  mail_store = "maildir:/m/%u"
  index {
    max_size_mb = 1e400
  }
}`,
	`server "s" {
  mail_store = "maildir:/m/%u"
  restore {
    post_command = ["", null]
  }
  accounts {
    include = ["["]
  }
}`,
	`server "s" {
  mail_store  = "maildir:/m/%u"
  description = "\u00e9e\u0301 <&> \u2028"
}`,
	`server "s" {
  mail_store = "maildir:/m/%u"
  purge "x" {}
  smartscan = {}
}`,
	`server "s" {
  mail_store = "maildir:/m/%u"
  address    = "https://h:1"
  ca_file    = "/ca"
  token_env  = "not a name"
  protect    = "maybe"
}`,
}
