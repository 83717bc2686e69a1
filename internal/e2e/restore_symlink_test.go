package e2e

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/dovecot"
	"github.com/mailkeep/mailkeep/internal/testkit"
)

// TestRestoreRefusesSymlinkedFolderDirs is the probe of issue 11 against
// Dovecot, through the CLI: the mail user replaces a folder's cur/ and
// new/ with symbolic links to directories elsewhere; `mailkeep restore
// account -at <before>` writes nothing there, restores the rest, names
// the refused link and exits 1.
func TestRestoreRefusesSymlinkedFolderDirs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{users: []dovecot.User{alice}})
	if _, err := e.dc.Doveadm("mailbox", "create", "-u", alice.Name, "Y"); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 2))
	for i := 0; i < 6; i++ {
		folder := []string{"INBOX", "Y"}[i%2]
		if err := e.dc.SaveMessage(alice.Name, folder, SampleMessage(r, 500+i, alice.Name)); err != nil {
			t.Fatal(err)
		}
	}
	before := e.smartScan().Finished.UTC().Format(time.RFC3339Nano)

	// The hostile user: Y's cur/ and new/ become links to directories
	// elsewhere, and an INBOX message is deleted (something to restore).
	outside := t.TempDir()
	os.Chmod(outside, 0o755)
	root := e.maildir(alice.Name)
	for _, sub := range []string{"cur", "new"} {
		dst := filepath.Join(outside, sub)
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(root, ".Y", sub)
		if err := os.RemoveAll(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(dst, link); err != nil {
			t.Fatal(err)
		}
	}
	var inbox []string
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(root, sub))
		for _, en := range ents {
			inbox = append(inbox, filepath.Join(root, sub, en.Name()))
		}
	}
	if len(inbox) != 3 {
		t.Fatalf("INBOX holds %v, want 3 messages", inbox)
	}
	if err := os.Remove(inbox[0]); err != nil {
		t.Fatal(err)
	}
	treeBefore := testkit.Tree(t, outside)

	cmd := exec.Command(mailkeepBinary(t), "restore", "account", "-agent", "unix://"+e.sock, "-wait", "-at", before, alice.Name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String() + stderr.String()
	t.Logf("mailkeep restore account:\n%s", out)
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 {
		t.Errorf("exit code %d (%v), want 1", code, err)
	}
	if !strings.Contains(out, filepath.Join(root, ".Y")) || !strings.Contains(out, "symbolic link") {
		t.Errorf("the output does not name the refused link below %s", filepath.Join(root, ".Y"))
	}
	if after := testkit.Tree(t, outside); !slices.Equal(treeBefore, after) {
		t.Errorf("the restore wrote through the links:\nbefore %v\nafter  %v", treeBefore, after)
	}
	if _, err := os.Stat(inbox[0]); err != nil {
		t.Errorf("the deleted INBOX message was not restored: %v", err)
	}
}
