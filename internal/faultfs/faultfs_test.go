package faultfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mailkeep/mailkeep/internal/faultfs"
)

// TestFaults mounts a pass-through, checks that it passes through, fails
// each operation on the file named and on no other, and heals.
func TestFaults(t *testing.T) {
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	f, err := faultfs.Mount(backing, mnt, faultfs.Options{Direct: []string{"bad"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			t.Error(err)
		}
	})
	if err := os.WriteFile(filepath.Join(mnt, "bad"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(backing, "bad")); err != nil || string(b) != "hello" {
		t.Fatalf("the write did not reach the backing directory: %q %v", b, err)
	}
	bad, err := os.OpenFile(filepath.Join(mnt, "bad"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := os.WriteFile(filepath.Join(mnt, "good"), []byte("fine"), 0o600); err != nil {
		t.Fatal(err)
	}

	f.Fail("bad", faultfs.Read|faultfs.Write|faultfs.Fsync)
	buf := make([]byte, 5)
	if _, err := bad.ReadAt(buf, 0); !errors.Is(err, syscall.EIO) {
		t.Errorf("read with a fault: %v, want EIO", err)
	}
	if _, err := bad.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.EIO) {
		t.Errorf("write with a fault: %v, want EIO", err)
	}
	if err := bad.Sync(); !errors.Is(err, syscall.EIO) {
		t.Errorf("fsync with a fault: %v, want EIO", err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "good")); err != nil || string(b) != "fine" {
		t.Errorf("another file under a fault: %q %v", b, err)
	}
	if f.Injected() != 3 {
		t.Errorf("%d faults injected, want 3", f.Injected())
	}

	f.Clear()
	if _, err := bad.ReadAt(buf, 0); err != nil || string(buf) != "hello" {
		t.Errorf("read after the fault cleared: %q %v", buf, err)
	}
	if _, err := bad.WriteAt([]byte("j"), 0); err != nil {
		t.Errorf("write after the fault cleared: %v", err)
	}
	if err := bad.Sync(); err != nil {
		t.Errorf("fsync after the fault cleared: %v", err)
	}
}
