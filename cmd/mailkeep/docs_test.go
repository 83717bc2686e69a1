package main

import (
	"os"
	"strings"
	"testing"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/mailkeep/mailkeep/schema"
)

// TestPolicyDocListsEverySetting keeps docs/POLICY.md in step with the
// settings table: each setting appears in a table row with its default.
func TestPolicyDocListsEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/POLICY.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 4 {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[3])
		}
	}
	for _, s := range schema.Settings() {
		got, ok := rows[s.Path]
		if !ok {
			t.Errorf("docs/POLICY.md has no table row for %s", s.Path)
			continue
		}
		want := "*required*"
		if !s.Required() {
			b, _ := ctyjson.Marshal(s.Default, s.Default.Type())
			want = "`" + string(b) + "`"
		}
		if got != want {
			t.Errorf("docs/POLICY.md gives %s the default %s; the code has %s", s.Path, got, want)
		}
	}
}
