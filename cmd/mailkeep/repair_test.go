package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/repo"
)

// TestRepairRebuildCatalogCommand: `mailkeep repair -rebuild-catalog`
// refuses to run beside the process holding the repository, then
// rebuilds, keeping the old catalog files.
func TestRepairRebuildCatalogCommand(t *testing.T) {
	backup := filepath.Join(t.TempDir(), "backup")
	r, err := repo.Open(backup, repo.Options{Create: true, Purpose: "mailkeep agent"})
	if err != nil {
		t.Fatal(err)
	}
	res := runFmtCLI(t, "", false, "repair", "-rebuild-catalog", backup)
	if res.code != exitRefused || !strings.Contains(res.stderr, "stop the agent first") {
		t.Fatalf("repair beside the agent: exit %d, %s", res.code, res.stderr)
	}
	r.Close()
	if res := runFmtCLI(t, "", false, "repair", backup); res.code != exitError || !strings.Contains(res.stderr, "usage") {
		t.Fatalf("repair without -rebuild-catalog: exit %d, %s", res.code, res.stderr)
	}
	res = runFmtCLI(t, "", false, "repair", "-rebuild-catalog", backup)
	if res.code != exitOK || !strings.Contains(res.stdout, "Rebuilt the catalog of "+backup) || !strings.Contains(res.stdout, "kept the old catalog file as ") {
		t.Fatalf("repair: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	kept, _ := filepath.Glob(filepath.Join(backup, "catalog-damaged-*.db"))
	if len(kept) != 1 {
		t.Fatalf("old catalog files kept: %v", kept)
	}
	if fi, err := os.Stat(kept[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the kept catalog is not private: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(backup, repo.CatalogFile)); err != nil {
		t.Fatal(err)
	}
}
