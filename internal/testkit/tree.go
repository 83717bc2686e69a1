package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// Tree lists every entry below dir (dir itself as ".") with its mode, in
// lexical order, for tests that check that nothing was created, changed or
// followed outside where it should be.
func Tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, rel+" "+fi.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
