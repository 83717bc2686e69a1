package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/testkit"
)

// result is what one mailkeep invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// mailkeep runs the CLI in-process with an empty environment.
func mailkeep(t *testing.T, env []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, environ: env}
	code := c.main(args)
	return result{out.String(), errb.String(), code}
}

// golden compares got with testdata/golden/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), []byte(got))
}

func TestExamplesAreValid(t *testing.T) {
	for _, dir := range []string{"quickstart", "fleet"} {
		r := mailkeep(t, nil, "validate", filepath.Join("..", "..", "examples", dir))
		if r.code != exitOK {
			t.Errorf("validate examples/%s: exit %d\n%s", dir, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "Success!") {
			t.Errorf("validate examples/%s: stdout %q lacks the success line", dir, r.stdout)
		}
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	r := mailkeep(t, nil, "validate", "testdata/invalid")
	if r.code != exitError {
		t.Fatalf("exit %d, want %d", r.code, exitError)
	}
	for _, want := range []string{
		"Error: Negative value", "testdata/invalid/main.hcl line 4, column 27",
		"Error: Invalid address", "ftp://",
		"Error: Invalid cron expression", `day-of-week field "8"`,
		"Error: Relative path", "testdata/invalid/servers.hcl line 3",
		"Error: Unsupported argument", `Did you mean "realtime_scanner"?`,
		"not valid: 5 errors",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	golden(t, "validate-invalid.txt", r.stderr)
}

func TestValidateJSON(t *testing.T) {
	r := mailkeep(t, nil, "validate", "testdata/invalid", "-json")
	if r.code != exitError {
		t.Fatalf("exit %d, want %d", r.code, exitError)
	}
	golden(t, "validate-invalid.json", r.stdout)

	r = mailkeep(t, nil, "validate", "-json", "../../examples/fleet")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "validate-fleet.json", r.stdout)
}

func TestConfigShow(t *testing.T) {
	r := mailkeep(t, nil, "config", "show", "../../examples/fleet")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "config-show-fleet.txt", r.stdout)

	r = mailkeep(t, nil, "config", "show", "-json", "../../examples/fleet")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "config-show-fleet.json", r.stdout)
}

func TestConfigShowOneServer(t *testing.T) {
	r := mailkeep(t, nil, "config", "show", "../../examples/fleet", "-server", "mx.nyc1")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, `server "mx.nyc1"`) || strings.Contains(r.stdout, `server "mx.fra1"`) {
		t.Errorf("-server mx.nyc1 printed:\n%s", r.stdout)
	}
	r = mailkeep(t, nil, "config", "show", "-server", "mx.xyz", "../../examples/fleet")
	if r.code != exitError || !strings.Contains(r.stderr, `no server "mx.xyz"`) || !strings.Contains(r.stderr, `"mx.fra1"`) {
		t.Errorf("unknown server: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSensitiveValuesNeverPrinted(t *testing.T) {
	const secret = "acme-mail-archive" // set in examples/fleet/fleet.auto.mkvars
	for _, args := range [][]string{
		{"config", "show", "../../examples/fleet"},
		{"config", "show", "-json", "../../examples/fleet"},
		{"validate", "-json", "../../examples/fleet"},
		{"config", "show", "-json", "-var", "archive_bucket=other-" + secret, "../../examples/fleet"},
	} {
		r := mailkeep(t, nil, args...)
		if r.code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%v printed the sensitive value", args)
		}
		if args[0] == "config" && !strings.Contains(r.stdout, "(sensitive)") {
			t.Errorf("%v: no redaction marker in output", args)
		}
	}
}

func TestVariablesFromFlagsAndEnvironment(t *testing.T) {
	qs := "../../examples/quickstart"
	r := mailkeep(t, []string{"MAILKEEP_VAR_backup_path=/env/backup"}, "config", "show", "-json", qs)
	if !strings.Contains(r.stdout, `"/env/backup"`) {
		t.Errorf("environment variable not applied:\n%s", r.stdout)
	}
	r = mailkeep(t, []string{"MAILKEEP_VAR_backup_path=/env/backup"}, "config", "show", qs, "-var", "backup_path=/flag/backup")
	if !strings.Contains(r.stdout, `"/flag/backup"`) || strings.Contains(r.stdout, "/env/backup") {
		t.Errorf("-var does not win over the environment:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "set by -var") {
		t.Errorf("the variable's source is not shown:\n%s", r.stdout)
	}
	r = mailkeep(t, nil, "validate", qs, "-var", "backup_path=relative")
	if r.code != exitError || !strings.Contains(r.stderr, "Relative path") || !strings.Contains(r.stderr, "var.backup_path (set by -var)") {
		t.Errorf("bad -var value: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = mailkeep(t, nil, "validate", qs, "-var", "no_such_var=1")
	if r.code != exitError || !strings.Contains(r.stderr, "undeclared variable") {
		t.Errorf("undeclared -var: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = mailkeep(t, nil, "validate", qs, "-var", "novalue")
	if r.code != exitError || !strings.Contains(r.stderr, "NAME=VALUE") {
		t.Errorf("malformed -var: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestCommandLineConventions(t *testing.T) {
	if r := mailkeep(t, nil, "validate", "-json=true", "../../examples/quickstart"); r.code != exitOK || !strings.Contains(r.stdout, `"valid": true`) {
		t.Errorf("-flag=value form: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "validate", "--", "-json"); r.code != exitError || !strings.Contains(r.stderr, "-json") {
		t.Errorf("after --, -json must be a PATH: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "validate", "a", "b"); r.code != exitError || !strings.Contains(r.stderr, "at most one PATH") {
		t.Errorf("two paths: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "validate", "-nope"); r.code != exitError || !strings.Contains(r.stderr, "-nope") {
		t.Errorf("unknown flag: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "validate", "-h"); r.code != exitOK || !strings.Contains(r.stderr, "Usage: mailkeep validate") {
		t.Errorf("-h: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "valdate"); r.code != exitError || !strings.Contains(r.stderr, `did you mean "validate"`) {
		t.Errorf("typo: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil, "validate", "testdata/does-not-exist"); r.code != exitError || !strings.Contains(r.stderr, "testdata/does-not-exist") {
		t.Errorf("missing path: exit %d %s", r.code, r.stderr)
	}
	if r := mailkeep(t, nil); r.code != exitError || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("no command: exit %d %s", r.code, r.stderr)
	}
}
