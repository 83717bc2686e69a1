package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// PrivateDir tightens a directory holding only the caller's files (keeping
// its special bits) and leaves a shared one alone.
func TestPrivateDir(t *testing.T) {
	ours := func(name string) bool { return name == "mine" }
	mode := func(path string) fs.FileMode {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode() & (fs.ModePerm | fs.ModeSticky | fs.ModeSetgid)
	}
	for _, tc := range []struct {
		name   string
		files  []string
		before fs.FileMode
		after  fs.FileMode
	}{
		{"empty", nil, 0o755, 0o700},
		{"only ours", []string{"mine"}, 0o750, 0o700},
		{"sticky and setgid kept", []string{"mine"}, 0o777 | fs.ModeSticky | fs.ModeSetgid, 0o700 | fs.ModeSticky | fs.ModeSetgid},
		{"shared", []string{"mine", "theirs"}, 0o755, 0o755},
	} {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range tc.files {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, tc.before); err != nil {
			t.Fatal(err)
		}
		if err := PrivateDir(dir, ours); err != nil {
			t.Fatal(err)
		}
		if got := mode(dir); got != tc.after {
			t.Errorf("%s: mode %v after PrivateDir, want %v", tc.name, got, tc.after)
		}
	}
}
