package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mailkeep/mailkeep"

// rule is one import rule of docs/ARCHITECTURE.md. Patterns are package
// paths relative to the module; a trailing "/..." matches the package and
// everything below it.
type rule struct {
	// pkgs are the packages the rule is about.
	pkgs []string
	// except are packages among pkgs the rule does not apply to.
	except []string
	// only, when set, lists every mailkeep package they may import.
	only []string
	// never lists mailkeep packages they must not import.
	never []string
	why   string
}

var rules = []rule{
	{pkgs: []string{"schema/..."}, only: []string{"runtime/maildir/location"},
		why: "the policy language stands alone; it validates mail_store through the driver's location parser"},
	{pkgs: []string{"runtime/..."}, except: []string{"runtime/agent", "runtime/agent/..."}, never: []string{"schema/...", "reconcile/...", "cmd/..."},
		why: "only the agent (with its impact rules and API test suite) reads the policy schema; the engines take typed options"},
	{pkgs: []string{"runtime/agent/api"}, only: []string{},
		why: "the wire types stand alone: a client links nothing of the agent"},
	{pkgs: []string{"runtime/client"}, only: []string{"runtime/agent/api"},
		why: "the client speaks the API and nothing else"},
	{pkgs: []string{"runtime/scan/...", "runtime/realtime/...", "runtime/restore/...", "runtime/purge/...", "runtime/history/...", "runtime/repair/..."},
		never: []string{"runtime/maildir", "runtime/maildir/..."},
		why:   "the engines use the store-driver interface of runtime/store, never a driver"},
	{pkgs: []string{"runtime/store/..."}, only: []string{"runtime/store"},
		why: "the store-driver interface is defined in neutral terms"},
	{pkgs: []string{"runtime/..."}, except: []string{"runtime/agent", "runtime/agent/..."}, never: []string{"runtime/agent"},
		why: "the agent is the top of the runtime: nothing below it may depend on it"},
	{pkgs: []string{"reconcile/..."}, only: []string{"schema", "runtime/agent/api", "runtime/agent/impact", "runtime/client", "runtime/fsutil"},
		why: "the planner talks to agents through the API package and the client only"},
	{pkgs: []string{"runtime/maildir/..."}, never: []string{"runtime/scan/...", "runtime/realtime/...", "runtime/restore/...", "runtime/purge/...", "runtime/repo/...", "runtime/catalog/...", "runtime/pack/..."},
		why: "a store driver knows nothing of the engines or the repository"},
	{pkgs: []string{"runtime/pack/...", "runtime/catalog/..."}, never: []string{"runtime/repo/...", "runtime/scan/...", "runtime/realtime/...", "runtime/restore/...", "runtime/purge/...", "runtime/maildir/..."},
		why: "the repository's parts know nothing of the engines or the store driver"},
	{pkgs: []string{"..."}, never: []string{"cmd/..."}, why: "commands are leaves"},
	{pkgs: []string{"runtime/...", "reconcile/...", "schema/...", "cmd/..."}, never: []string{"internal/..."},
		why: "internal/ holds test and benchmark helpers; only internal/textdiff and internal/units are shared with the product"},
}

// productInternal are the internal packages the product itself may use.
var productInternal = []string{"internal/textdiff", "internal/units"}

func match(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

func matchAny(patterns []string, pkg string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, pkg) })
}

// packages returns the module's packages (paths relative to the module)
// and their non-test imports of the module's packages.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	own := map[string][]string{}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(p, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		for _, imp := range bp.Imports {
			if r, ok := strings.CutPrefix(imp, module+"/"); ok {
				own[rel] = append(own[rel], r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(own) < 20 {
		t.Fatalf("found only %d packages under %s", len(own), root)
	}
	return own
}

func TestImportRules(t *testing.T) {
	own := packages(t)
	for pkg, imps := range own {
		for _, r := range rules {
			if !matchAny(r.pkgs, pkg) || matchAny(r.except, pkg) {
				continue
			}
			for _, imp := range imps {
				if strings.HasPrefix(imp, "internal/") && matchAny(productInternal, imp) {
					continue
				}
				if r.only != nil && !matchAny(r.only, imp) {
					t.Errorf("%s imports %s: it may import only %v (%s)", pkg, imp, r.only, r.why)
				}
				if matchAny(r.never, imp) {
					t.Errorf("%s imports %s (%s)", pkg, imp, r.why)
				}
			}
		}
	}
}
