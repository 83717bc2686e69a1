package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/mailkeep/mailkeep/internal/testkit"
)

// loadFixture loads the policy in testdata/DIR. The path is relative, so
// file names in diagnostics and golden files are the same on every machine.
func loadFixture(t *testing.T, dir string, opts LoadOptions) (*Policy, hcl.Diagnostics) {
	t.Helper()
	path := filepath.Join("testdata", dir)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("fixture %s: %v", dir, err)
	}
	p, diags := Load(path, opts)
	if p != nil && diags.HasErrors() {
		t.Errorf("Load(%s) returned a policy together with errors", path)
	}
	if p == nil && !diags.HasErrors() {
		t.Errorf("Load(%s) returned no policy and no error", path)
	}
	return p, diags
}

// summarize renders each diagnostic as one line: severity, summary and the
// start of its subject as BASENAME:LINE:COLUMN, or "-" when it has none.
func summarize(diags hcl.Diagnostics) []string {
	out := make([]string, 0, len(diags))
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		at := "-"
		if d.Subject != nil {
			at = fmt.Sprintf("%s:%d:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		out = append(out, fmt.Sprintf("%s: %s @ %s", sev, d.Summary, at))
	}
	return out
}

// writePolicy writes files (name -> content) to a new temporary directory
// and returns it, for policies small enough to read inside the test.
func writePolicy(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads a policy that must be valid.
func mustLoad(t *testing.T, dir string, opts LoadOptions) *Policy {
	t.Helper()
	p, diags := Load(dir, opts)
	if diags.HasErrors() || p == nil {
		var buf bytes.Buffer
		WriteDiagnostics(&buf, diags, nil, false)
		t.Fatalf("Load(%s): unexpected errors:\n%s", dir, buf.String())
	}
	return p
}

// golden compares got with testdata/golden/NAME, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), got)
}
