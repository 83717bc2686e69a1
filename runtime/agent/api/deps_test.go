package api_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// forbidden are the packages a client of the API must not link: the
// agent's storage (SQLite, zstd, inotify).
var forbidden = []string{"sqlite", "github.com/klauspost/compress", "github.com/fsnotify/fsnotify"}

const module = "github.com/mailkeep/mailkeep/"

// deps returns what `go list -deps` lists for a package of the module.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goBin, "list", "-deps", module+pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// TestClientsLinkNoStorage: the API package, the client, the impact
// rules and the planner link neither SQLite, nor zstd, nor fsnotify, nor
// the agent itself; the API package links nothing of mailkeep.
func TestClientsLinkNoStorage(t *testing.T) {
	for _, pkg := range []string{"runtime/agent/api", "runtime/client", "runtime/agent/impact", "reconcile"} {
		for _, d := range deps(t, pkg) {
			for _, f := range forbidden {
				if strings.Contains(d, f) {
					t.Errorf("%s links %s", pkg, d)
				}
			}
			if d == module+"runtime/agent" {
				t.Errorf("%s imports the agent; it must use runtime/agent/api", pkg)
			}
			if pkg == "runtime/agent/api" && strings.HasPrefix(d, module) && d != module+pkg {
				t.Errorf("the API package links %s; it must import the standard library only", d)
			}
		}
	}
	// The test sees what it forbids: the agent links all three.
	all := strings.Join(deps(t, "runtime/agent"), "\n")
	for _, f := range forbidden {
		if !strings.Contains(all, f) {
			t.Errorf("the agent does not link %s: the forbidden names are out of date", f)
		}
	}
}
