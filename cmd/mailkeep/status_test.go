package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// TestStatus lists a fleet with a configured agent, an unconfigured one
// and an unreachable server, as a table and as JSON.
func TestStatus(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2-env"}, nil)
	f.down = []string{"down"}
	f.extra["mx1"] = "  description = var.bucket\n"
	pol := f.policy(t)
	if r := f.run(t, "apply", pol, "-target", "mx1", "-auto-approve"); r.code != exitOK {
		t.Fatalf("apply: %+v", r)
	}
	f.settle(t)

	r := f.run(t, "status", pol)
	if r.code != exitError {
		t.Errorf("status with an unreachable server: exit %d", r.code)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "SERVER") || !strings.Contains(lines[0], "LAST SCAN") || !strings.Contains(lines[0], "BACKUP") {
		t.Errorf("header: %q", lines[0])
	}
	row := func(name string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, name+" ") {
				return l
			}
		}
		t.Errorf("no row for %s:\n%s", name, r.stdout)
		return ""
	}
	if l := row("mx1"); !strings.Contains(l, " yes ") || !strings.Contains(l, "idle") || !strings.Contains(l, "never") ||
		!strings.Contains(l, "0 4 * * 6 UTC") || !strings.Contains(l, "items 30d, accounts 30d") || !strings.Contains(l, "(sensitive)") {
		t.Errorf("mx1 row: %q", l)
	}
	if l := row("mx2-env"); !strings.Contains(l, "unconfigured") {
		t.Errorf("mx2-env row: %q", l)
	}
	if l := row("down"); !strings.Contains(l, " no ") {
		t.Errorf("down row: %q", l)
	}
	if !strings.Contains(r.stdout, "down (http://127.0.0.1:1) is unreachable:") {
		t.Errorf("no reason for the unreachable server:\n%s", r.stdout)
	}

	r = f.run(t, "status", pol, "-json", "-exclude", "down")
	if r.code != exitOK {
		t.Fatalf("status -json: %+v", r)
	}
	var out struct {
		FormatVersion string `json:"format_version"`
		Servers       []struct {
			Name      string `json:"name"`
			Reachable bool   `json:"reachable"`
			Status    struct {
				State       string `json:"state"`
				Revision    int64  `json:"revision"`
				Description string `json:"description"`
				BackupPath  string `json:"backup_path"`
			} `json:"status"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.FormatVersion != "1.0" || len(out.Servers) != 2 || !out.Servers[0].Reachable || out.Servers[0].Status.Revision != 1 ||
		out.Servers[0].Status.Description != "(sensitive)" || out.Servers[1].Status.State != "unconfigured" {
		t.Errorf("status -json: %+v", out)
	}
}

// TestStatusFieldsExist: every status field tagged with a setting is in
// the status JSON, and every setting it names is one of the schema, so
// that none is silently left unredacted.
func TestStatusFieldsExist(t *testing.T) {
	b, _ := json.Marshal(api.Status{})
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for field, setting := range statusFields {
		if _, ok := schema.LookupSetting(setting); !ok {
			t.Errorf("status field %s names the setting %s, which the schema does not have", field, setting)
		}
		v := any(m)
		for _, k := range strings.Split(field, ".") {
			obj, _ := v.(map[string]any)
			v = obj[k]
			if _, ok := obj[k]; !ok {
				t.Errorf("status field %s is not in the status JSON", field)
				break
			}
		}
	}
}
