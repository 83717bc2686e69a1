package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/repo"
)

// TestOpenRefusesALostCatalog: a repository whose catalog is gone or is
// not a database is refused with a message that says how to repair it,
// and nothing is created in its place.
func TestOpenRefusesALostCatalog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(cat string) error
		want   string
	}{
		{"deleted", func(cat string) error {
			os.Remove(cat + "-wal")
			os.Remove(cat + "-shm")
			return os.Remove(cat)
		}, "is missing"},
		{"garbage", func(cat string) error {
			os.Remove(cat + "-wal")
			os.Remove(cat + "-shm")
			return os.WriteFile(cat, []byte(strings.Repeat("not a database ", 400)), 0o600)
		}, "cannot be opened"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			openRepo(t, dir).Close()
			cat := filepath.Join(dir, repo.CatalogFile)
			if err := tc.damage(cat); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(cat)
			_, err := repo.Open(dir, repo.Options{Create: true, Purpose: "test"})
			var ce *repo.CatalogError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "mailkeep repair -rebuild-catalog "+dir) {
				t.Fatalf("Open of a repository with its catalog %s: %v", tc.name, err)
			}
			after, _ := os.ReadFile(cat)
			if string(after) != string(before) {
				t.Error("Open changed the damaged catalog file")
			}
		})
	}
}

// TestCatalogDeletedWhileOpen: the open repository notices that its
// catalog file was deleted or replaced, and verify reports it.
func TestCatalogDeletedWhileOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	r := openRepo(t, dir)
	defer r.Close()
	if err := r.CheckCatalog(); err != nil {
		t.Fatalf("CheckCatalog of a sound repository: %v", err)
	}
	cat := filepath.Join(dir, repo.CatalogFile)
	if err := os.Rename(cat, cat+".old"); err != nil {
		t.Fatal(err)
	}
	err := r.CheckCatalog()
	var ce *repo.CatalogError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "was deleted while in use") {
		t.Fatalf("CheckCatalog after the catalog was deleted: %v", err)
	}
	rep, err := r.Verify(context.Background(), repo.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) == 0 || rep.Problems[0].Kind != "catalog" {
		t.Fatalf("verify of a repository whose catalog was deleted: %+v", rep.Problems)
	}
	if err := os.WriteFile(cat, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.CheckCatalog(); err == nil || !strings.Contains(err.Error(), "replaced by another file") {
		t.Fatalf("CheckCatalog after the catalog was replaced: %v", err)
	}
}
