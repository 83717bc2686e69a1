package store_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestImportRules: the store interface, the Maildir driver and the
// engines that use them link neither the policy language (schema, and
// with it HCL, cty and cron) nor the agent; the engines and the contract
// suite reach the mail store through this package only, never the Maildir
// driver; the interface, the location parser and account selection link
// nothing of mailkeep at all.
func TestImportRules(t *testing.T) {
	const mod = "github.com/mailkeep/mailkeep/"
	forbidden := []string{mod + "schema", mod + "runtime/agent", "github.com/hashicorp/hcl", "github.com/zclconf/go-cty", "github.com/robfig/cron"}
	neutral := []string{"runtime/store", "runtime/store/storetest", "runtime/scan", "runtime/realtime", "runtime/restore", "runtime/purge"}
	stdlibOnly := []string{"runtime/store", "runtime/maildir/location", "runtime/selection"}
	for _, pkg := range []string{"runtime/store", "runtime/store/storetest", "runtime/maildir", "runtime/maildir/location",
		"runtime/selection", "runtime/scan", "runtime/realtime", "runtime/restore", "runtime/purge"} {
		for _, dep := range deps(t, mod+pkg) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
			if slices.Contains(neutral, pkg) && strings.HasPrefix(dep, mod+"runtime/maildir") {
				t.Errorf("%s links %s; it must reach the mail store through runtime/store only", pkg, dep)
			}
			if slices.Contains(stdlibOnly, pkg) && strings.HasPrefix(dep, mod) && dep != mod+pkg {
				t.Errorf("%s links %s; it must link only the standard library", pkg, dep)
			}
		}
	}
}

// deps lists what a package links, with go list.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
