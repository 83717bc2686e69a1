package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

const smallPolicy = "server \"mx1\" {\n  address = \"https://mx1:7443\"\n  mail_store = \"maildir:/v/%d/%n\"\n}\n"

// loadWithin runs Load and fails the test if it does not return within a
// generous deadline: the old loader read a FIFO or /dev/zero forever.
func loadWithin(t *testing.T, path string, opts LoadOptions) (*Policy, hcl.Diagnostics) {
	t.Helper()
	type result struct {
		p     *Policy
		diags hcl.Diagnostics
	}
	done := make(chan result, 1)
	go func() {
		p, diags := Load(path, opts)
		done <- result{p, diags}
	}()
	select {
	case r := <-done:
		return r.p, r.diags
	case <-time.After(30 * time.Second):
		t.Fatalf("Load(%s) still reading after 30s", path)
		return nil, nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSpecialInputFiles gives a FIFO, a device and a directory where
// policy and variable files are read: each is refused at once with an
// error that names it.
func TestSpecialInputFiles(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(t *testing.T, dir string) (string, LoadOptions, string)
		summary string
		detail  string
	}{
		{"FIFO policy file in a directory", func(t *testing.T, dir string) (string, LoadOptions, string) {
			mkfifo(t, filepath.Join(dir, "z.hcl"))
			return dir, LoadOptions{}, filepath.Join(dir, "z.hcl")
		}, "Cannot read policy file", "is a FIFO, not a regular file"},
		{"FIFO policy path", func(t *testing.T, dir string) (string, LoadOptions, string) {
			p := filepath.Join(dir, "fifo.hcl")
			mkfifo(t, p)
			return p, LoadOptions{}, p
		}, "Cannot read policy file", "is a FIFO, not a regular file"},
		{"device as policy", func(t *testing.T, dir string) (string, LoadOptions, string) {
			return "/dev/zero", LoadOptions{}, "/dev/zero"
		}, "Cannot read policy file", "/dev/zero is a character device, not a regular file"},
		{"FIFO -var-file", func(t *testing.T, dir string) (string, LoadOptions, string) {
			p := filepath.Join(t.TempDir(), "v.mkvars")
			mkfifo(t, p)
			return dir, LoadOptions{Vars: []VarArg{{File: p}}}, p
		}, "Cannot read variable file", "is a FIFO, not a regular file"},
		{"/dev/zero -var-file", func(t *testing.T, dir string) (string, LoadOptions, string) {
			return dir, LoadOptions{Vars: []VarArg{{File: "/dev/zero"}}}, "/dev/zero"
		}, "Cannot read variable file", "/dev/zero is a character device, not a regular file"},
		{"directory -var-file", func(t *testing.T, dir string) (string, LoadOptions, string) {
			d := t.TempDir()
			return dir, LoadOptions{Vars: []VarArg{{File: d}}}, d
		}, "Cannot read variable file", "is a directory, not a regular file"},
		{"FIFO auto variable file", func(t *testing.T, dir string) (string, LoadOptions, string) {
			p := filepath.Join(dir, "x.auto.mkvars")
			mkfifo(t, p)
			return dir, LoadOptions{}, p
		}, "Cannot read variable file", "is a FIFO, not a regular file"},
		{"FIFO mailkeep.mkvars", func(t *testing.T, dir string) (string, LoadOptions, string) {
			p := filepath.Join(dir, AutoVarsFile)
			mkfifo(t, p)
			return dir, LoadOptions{}, p
		}, "Cannot read variable file", "is a FIFO, not a regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writePolicy(t, map[string]string{"main.hcl": smallPolicy})
			path, opts, file := tc.setup(t, dir)
			p, diags := loadWithin(t, path, opts)
			if p != nil || len(diags) != 1 || diags[0].Summary != tc.summary {
				t.Fatalf("want one %q error, got:\n%s", tc.summary, details(diags))
			}
			if !strings.Contains(diags[0].Detail, file) || !strings.Contains(diags[0].Detail, tc.detail) {
				t.Errorf("detail %q does not name %s and say %q", diags[0].Detail, file, tc.detail)
			}
		})
	}
}

// TestInputBounds checks the bounds on the size and number of files.
func TestInputBounds(t *testing.T) {
	t.Run("file too large", func(t *testing.T) {
		dir := writePolicy(t, map[string]string{"main.hcl": smallPolicy})
		big := filepath.Join(dir, "big.hcl")
		if err := os.WriteFile(big, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(big, MaxFileBytes+1); err != nil { // sparse: nothing to write
			t.Fatal(err)
		}
		_, diags := loadWithin(t, dir, LoadOptions{})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, big+" is larger than 32 MiB") {
			t.Fatalf("want one size error naming %s, got:\n%s", big, details(diags))
		}
	})
	t.Run("policy too large", func(t *testing.T) {
		defer func(n int64) { maxPolicyBytes = n }(maxPolicyBytes)
		maxPolicyBytes = int64(len(smallPolicy)) + 10
		dir := writePolicy(t, map[string]string{"a.hcl": smallPolicy, "b.hcl": "# a comment of more than ten bytes\n", "c.hcl": smallPolicy})
		_, diags := loadWithin(t, dir, LoadOptions{})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, filepath.Join(dir, "b.hcl")+" brings the policy's files to more than") {
			t.Fatalf("want one error naming b.hcl, got:\n%s", details(diags))
		}
	})
	t.Run("too many policy files", func(t *testing.T) {
		defer func(n int) { maxPolicyFiles = n }(maxPolicyFiles)
		maxPolicyFiles = 2
		dir := writePolicy(t, map[string]string{"a.hcl": smallPolicy, "b.hcl": "", "c.hcl": ""})
		_, diags := loadWithin(t, dir, LoadOptions{})
		if len(diags) != 1 || diags[0].Summary != "Too many policy files" || !strings.Contains(diags[0].Detail, "has 3 *.hcl files; mailkeep reads at most 2") {
			t.Fatalf("want one too-many-files error, got:\n%s", details(diags))
		}
	})
	t.Run("too many variable files", func(t *testing.T) {
		defer func(n int) { maxPolicyFiles = n }(maxPolicyFiles)
		maxPolicyFiles = 2
		dir := writePolicy(t, map[string]string{"a.hcl": smallPolicy, "x.auto.mkvars": "", "y.auto.mkvars": ""})
		_, diags := loadWithin(t, dir, LoadOptions{})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, filepath.Join(dir, "y.auto.mkvars")+" is one file too many: mailkeep reads at most 2") {
			t.Fatalf("want one error naming y.auto.mkvars, got:\n%s", details(diags))
		}
	})
	t.Run("-var value too deep", func(t *testing.T) {
		dir := writePolicy(t, map[string]string{"main.hcl": smallPolicy + "variable \"l\" {\n  type = list(string)\n}\n"})
		deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
		_, diags := loadWithin(t, dir, LoadOptions{Vars: []VarArg{{Name: "l", Value: deep}}})
		if len(diags) != 1 || diags[0].Summary != "Nesting too deep" || !strings.Contains(diags[0].Detail, `The value of "l" from -var`) {
			t.Fatalf("want one nesting error for -var l, got:\n%s", details(diags))
		}
	})
}

// fleetPolicy generates a policy of n servers, each with its own address,
// token file, description and backup path: about 215 bytes a server.
func fleetPolicy(n int) []byte {
	var b strings.Builder
	b.WriteString("global {\n  mail_store = \"maildir:/var/vmail/%d/%n/Maildir\"\n  purge {\n    item_retention_days = 30\n  }\n}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\nserver \"mx%05d\" {\n  address     = \"https://mx%05d.mail.example.com:7443\"\n  token_file  = \"/etc/mailkeep/tokens/mx%05d\"\n"+
			"  description = \"Mail server %d in rack %d, row %d\"\n  backup_path = \"/srv/backup/mx%05d\"\n}\n", i, i, i, i, i%97, i%13, i)
	}
	return []byte(b.String())
}

// TestFleetPolicyLoads loads a generated fleet policy: a tenth of the
// 60,000 servers in 10 MB that the bounds must allow, to keep make test
// quick; BenchmarkFleetPolicy60000 loads the full size.
func TestFleetPolicyLoads(t *testing.T) {
	loadFleet(t, 6_000)
}

// BenchmarkFleetPolicy60000 loads a policy of 60,000 servers, over 10 MB:
// the size the bounds of docs/POLICY.md are set for.
func BenchmarkFleetPolicy60000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		loadFleet(b, 60_000)
	}
}

func loadFleet(tb testing.TB, n int) {
	src := fleetPolicy(n)
	if n == 60_000 && len(src) < 10<<20 {
		tb.Fatalf("the fleet policy is %d bytes, under 10 MB", len(src))
	}
	path := filepath.Join(tb.TempDir(), "fleet.hcl")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		tb.Fatal(err)
	}
	p, diags := Load(path, LoadOptions{})
	if p == nil || len(p.Servers) != n {
		tb.Fatalf("the fleet policy of %d servers (%d bytes) does not load:\n%s", n, len(src), details(diags))
	}
}
