package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A catalog written by an older mailkeep with mode 0644, and the -wal and
// -shm files SQLite makes beside it, are private (0600) once opened for
// writing; a symlink or a FIFO in the catalog's place is refused without
// blocking.
func TestOpenMakesTheCatalogPrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", p, err, fi)
		}
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if c, err := Open(link, Options{}); err == nil {
		c.Close()
		t.Error("a catalog opened through a symlink")
	}
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Open(fifo, Options{}); err == nil || !strings.Contains(err.Error(), "a named pipe") {
		if c != nil {
			c.Close()
		}
		t.Errorf("a FIFO as the catalog: %v", err)
	}
}
