package maildir

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// t0 is the received date of the hand-made messages.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// testOwner is an owner the tests can give files: another user when
// running as root, the current one otherwise.
func testOwner(mode os.FileMode) Owner {
	if os.Geteuid() == 0 {
		return Owner{UID: 4242, GID: 4343, Mode: mode}
	}
	return Owner{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()), Mode: mode}
}

// mkdirs creates directories below root.
func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}

// writeAt writes a file below root with the given modification time.
func writeAt(t *testing.T, root, rel, content string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// maildir creates cur/, new/ and tmp/ in each folder directory.
func maildir(t *testing.T, root string, folderDirs ...string) {
	t.Helper()
	for _, f := range folderDirs {
		mkdirs(t, root, filepath.Join(f, "cur"), filepath.Join(f, "new"), filepath.Join(f, "tmp"))
	}
}
