package agent_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/internal/tmpfs"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// treeListing describes every file and directory below root: path, mode,
// size and content hash, and a message's modification time (its received
// date), one line each, sorted.
func treeListing(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %x", info.Size(), sha256.Sum256(b))
			if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
				line += fmt.Sprintf(" %d", info.ModTime().UnixNano())
			}
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// tmpFiles lists the files left in the tmp/ directories below root.
func tmpFiles(t *testing.T, root string) []string {
	t.Helper()
	var left []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "tmp" {
			left = append(left, p)
		}
		return nil
	})
	return left
}

func restoreResult(t *testing.T, op *api.Operation) restore.Result {
	t.Helper()
	var res restore.Result
	b, _ := json.Marshal(op.Result)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRestoreIntoFullMailFilesystem restores an account into a mail
// filesystem with room for a third of it: the restore writes what fits,
// names each message it could not write with the full disk as the
// reason, ends failed, and leaves no half-written file in tmp/; once space
// is back the same restore, run again without a restart, gives exactly
// what an uninterrupted restore gives.
func TestRestoreIntoFullMailFilesystem(t *testing.T) {
	dir := t.TempDir()
	vmail := filepath.Join(dir, "vmail")
	tmpfs.Mount(t, vmail, "24m") // before the agent: unmounted after it closes
	ta := startAgentIn(t, dir, nil)
	ctx := context.Background()
	if _, err := ta.c.PutConfig(ctx, ta.document(t, "backup", nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	if done := ta.run(t, api.OperationRequest{Type: "smartscan"}); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan: %+v", done)
	}
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) == 0 {
		t.Fatalf("accounts: %+v %v", list, err)
	}
	src := list[0]
	restoreTo := func(to string) *api.Operation {
		return ta.run(t, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: src.Name, To: to}})
	}
	// The reference: an uninterrupted restore.
	if done := restoreTo("ref@example.net"); done.State != api.StateSucceeded {
		t.Fatalf("reference restore: %+v", done)
	}
	ref := filepath.Join(vmail, "example.net", "ref", "Maildir")
	need := storeBytes(t, ref)

	filler := tmpfs.Fill(t, filepath.Join(vmail, "filler"), need/3)
	done := restoreTo("copy@example.net")
	res := restoreResult(t, done)
	if done.State != api.StateFailed || !strings.Contains(done.Error, "could not be written") {
		t.Fatalf("restore into a full filesystem: %s %q, want failed saying what could not be written", done.State, done.Error)
	}
	t.Logf("restore into a full filesystem: %s", done.Error)
	if res.Failed == 0 || len(res.FailedItems) != res.Failed || res.Messages == 0 || int64(res.Messages+res.Failed) != src.Items {
		t.Errorf("restore into a full filesystem: %d written, %d failed (%d named) of %d", res.Messages, res.Failed, len(res.FailedItems), src.Items)
	}
	for _, f := range res.FailedItems {
		if !strings.Contains(f.Error, "no space left on device") || f.Folder == "" || f.Name == "" {
			t.Errorf("failed message %+v: want its folder, name and the full disk as the reason", f)
			break
		}
	}
	copyRoot := filepath.Join(vmail, "example.net", "copy", "Maildir")
	if left := tmpFiles(t, copyRoot); len(left) > 0 {
		t.Errorf("half-written files left in tmp/: %v", left)
	}
	// Every message written is whole: as the reference has it.
	refLines := strings.Split(treeListing(t, ref), "\n")
	for _, l := range strings.Split(treeListing(t, copyRoot), "\n") {
		if (strings.Contains(l, "cur/") || strings.Contains(l, "new/")) && !slices.Contains(refLines, l) {
			t.Errorf("a message written into the full filesystem differs from the reference: %s", l)
		}
	}

	// Space comes back: the same restore again completes it exactly.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	done = restoreTo("copy@example.net")
	if done.State != api.StateSucceeded {
		t.Fatalf("restore once space is back: %s %q", done.State, done.Error)
	}
	if res := restoreResult(t, done); !res.Resumed || res.Mode != "full" {
		t.Errorf("restore once space is back: mode %s, resumed %v; want a full restore carried on", res.Mode, res.Resumed)
	}
	if got, want := treeListing(t, copyRoot), treeListing(t, ref); got != want {
		t.Errorf("the restore interrupted by a full disk and run again differs from an uninterrupted one:\n%s", lineDiff(got, want))
	}
}

// lineDiff lists the lines only in got (+) and only in want (-).
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out []string
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	return strings.Join(out, "\n")
}
