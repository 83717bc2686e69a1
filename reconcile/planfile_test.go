package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/schema"
)

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func TestPlanFileRoundTrip(t *testing.T) {
	plan, fl, p := testPlan(t)
	file := filepath.Join(t.TempDir(), "fleet.mkplan")
	if err := WritePlanFile(file, plan); err != nil {
		t.Fatal(err)
	}
	if !IsPlanFile(file) || IsPlanFile("testdata/policy/main.hcl") || IsPlanFile("testdata/policy") {
		t.Error("IsPlanFile")
	}
	back, err := ReadPlanFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !back.NeedsPolicy() {
		t.Fatal("the plan has sensitive values but does not ask for the policy")
	}
	back.Resolve(p)
	for i, sp := range back.Servers {
		orig := plan.Servers[i]
		if sp.Name != orig.Name || sp.Action != orig.Action || sp.DesiredETag != orig.DesiredETag || len(sp.Changes) != len(orig.Changes) {
			t.Errorf("%s: round trip changed the plan", sp.Name)
		}
		if sp.Action != ActionUnreachable && string(sp.Desired) != string(orig.Desired) {
			t.Errorf("%s: desired document differs after Resolve (blocked: %s)", sp.Name, sp.Blocked)
		}
	}
	rep := applier(fl, true).Apply(context.Background(), back)
	if got := results(rep); got["new"].Outcome != OutcomeApplied || got["changed"].Outcome != OutcomeApplied {
		t.Errorf("apply of the saved plan: %+v", rep.Servers)
	}
	if rep := applier(fl, true).Apply(context.Background(), back); results(rep)["changed"].Outcome != OutcomeUnchanged {
		t.Errorf("second apply of the saved plan: %+v", rep.Servers)
	}
}

// TestPlanFileSensitiveChanged: when the sensitive value changed since the
// plan, apply of the saved plan refuses the servers it touches.
func TestPlanFileSensitiveChanged(t *testing.T) {
	plan, fl, _ := testPlan(t)
	file := filepath.Join(t.TempDir(), "p.mkplan")
	if err := WritePlanFile(file, plan); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPlanFile(file)
	if err != nil {
		t.Fatal(err)
	}
	back.Resolve(loadPolicy(t, schema.VarArg{Name: "bucket", Value: "another-bucket"}))
	rep := applier(fl, true).Apply(context.Background(), back)
	got := results(rep)
	if got["new"].Outcome != OutcomeStale || !strings.Contains(got["new"].Detail, "sensitive values the policy gives now are not those planned") {
		t.Errorf("new: %+v", got["new"])
	}
	if fl["new"].Puts != 0 {
		t.Error("a blocked server was written")
	}
}

func TestPlanFileTampered(t *testing.T) {
	dir := t.TempDir()
	// A policy without sensitive values.
	hcl := "server \"same\" {\n  address = \"https://same.example.com:7443\"\n  mail_store = \"maildir:/srv/vmail/%d/%n/Maildir\"\n  backup_path = \"/srv/backup/same\"\n}\n"
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644)
	s2, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s := s2.Servers[0]
	fl := fleet{"same": {}}
	plan := (&Planner{Dial: fl.dial}).Plan(context.Background(), s2, []*schema.Server{s}, "x")
	file := filepath.Join(dir, "p.mkplan")
	if err := WritePlanFile(file, plan); err != nil {
		t.Fatal(err)
	}
	if back, err := ReadPlanFile(file); err != nil || back.NeedsPolicy() || back.Servers[0].Desired == nil {
		t.Fatalf("plan without sensitive values: %v", err)
	}
	b, _ := os.ReadFile(file)
	bad := strings.Replace(string(b), `"/srv/backup/same"`, `"/srv/elsewhere"`, -1)
	os.WriteFile(file, []byte(bad), 0o644)
	if _, err := ReadPlanFile(file); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("tampered plan: %v", err)
	}
	os.WriteFile(file, []byte(`{"kind": "something-else"}`), 0o644)
	if _, err := ReadPlanFile(file); err == nil || !strings.Contains(err.Error(), "not a mailkeep plan file") {
		t.Errorf("not a plan: %v", err)
	}
}
