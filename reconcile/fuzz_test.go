package reconcile

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadPlanFile reads arbitrary bytes as a saved plan: it is loaded or
// refused with an error, never a panic, and a plan that loads is written
// and read back with the same servers and actions.
func FuzzReadPlanFile(f *testing.F) {
	plan, _, _ := testPlan(f)
	seed := filepath.Join(f.TempDir(), "seed.mkplan")
	if err := WritePlanFile(seed, plan); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"kind":"mailkeep-plan","format_version":"1.0","servers":[{"name":"x","apply":{"desired":"not json"}}]}`))
	f.Add([]byte(`{"kind":"mailkeep-plan","format_version":"2.0"}`))
	f.Add([]byte(`{"kind":"mailkeep-plan","format_version":"1.9","servers":[null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.mkplan")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := ReadPlanFile(in)
		if err != nil {
			return
		}
		out := filepath.Join(dir, "out.mkplan")
		if err := WritePlanFile(out, p); err != nil {
			return // a plan it can read but not write is refused on write
		}
		back, err := ReadPlanFile(out)
		if err != nil {
			t.Fatalf("a plan written back does not read: %v", err)
		}
		if len(back.Servers) != len(p.Servers) {
			t.Fatalf("%d servers became %d", len(p.Servers), len(back.Servers))
		}
		for i := range p.Servers {
			if back.Servers[i].Name != p.Servers[i].Name || back.Servers[i].Action != p.Servers[i].Action {
				t.Fatalf("server %d changed: %+v -> %+v", i, p.Servers[i], back.Servers[i])
			}
		}
	})
}
