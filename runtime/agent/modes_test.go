package agent_test

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Everything the agent creates in its state directory, in the repository
// and for its socket is private to it (files 0600, directories 0700),
// under umask 022 and in a state directory and backup_path that already
// exist with mode 0755.
func TestAgentFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	state, backup := filepath.Join(dir, "state"), filepath.Join(dir, "backup")
	for _, d := range []string{state, backup} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ta := startAgentIn(t, dir, nil)
	ctx := context.Background()
	if _, err := ta.c.PutConfig(ctx, ta.document(t, "backup", nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	op, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan: %+v", done)
	}
	seen := map[string]bool{}
	for _, root := range []string{state, backup} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			seen[strings.TrimPrefix(path, dir+"/")] = true
			want := fs.FileMode(0o600)
			if fi.IsDir() {
				want = 0o700
			} else if !fi.Mode().IsRegular() {
				t.Errorf("%s is %v", path, fi.Mode())
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %04o, want %04o", path, got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The files SQLite makes beside the catalog are among those checked.
	for _, f := range []string{repo.CatalogFile, repo.CatalogFile + "-wal", repo.CatalogFile + "-shm", repo.LockFile, repo.ConfigFile} {
		if !seen["backup/"+f] {
			t.Errorf("backup/%s was not there to check; the repository holds %v", f, seen)
		}
	}
	// The socket, in a directory the agent creates.
	sock := filepath.Join(dir, "run", "mailkeep", "agent.sock")
	var sockMode, dirMode fs.FileMode
	err = serveOnce(t, ta.a, agent.ServeOptions{Listen: "unix://" + sock}, func(_ net.Addr) {
		if fi, err := os.Lstat(sock); err == nil {
			sockMode = fi.Mode().Perm()
		}
		if fi, err := os.Lstat(filepath.Dir(sock)); err == nil {
			dirMode = fi.Mode().Perm()
		}
	})
	if err != nil || sockMode != 0o600 || dirMode != 0o700 {
		t.Errorf("socket mode %04o in a directory of mode %04o (%v), want 0600 in 0700", sockMode, dirMode, err)
	}
}
