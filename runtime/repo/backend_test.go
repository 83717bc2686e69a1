package repo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// A repository can keep its packs in any backend: with a Memory one,
// nothing goes to <path>/packs, blobs survive a reopen over the same
// backend, verify -deep is clean and a new session starts a new pack.
func TestRepoOverMemoryBackend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	mem := pack.NewMemory()
	open := func() *repo.Repo {
		r, err := repo.Open(dir, repo.Options{Create: true, Purpose: "test", PackBackend: mem})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := open()
	id := storeAs(t, r, "ann@example.com", "a message kept in memory")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, repo.PacksDir)); !os.IsNotExist(err) {
		t.Errorf("a Memory-backed repository made %s: %v", repo.PacksDir, err)
	}
	r = open()
	defer r.Close()
	if got, err := r.AppendBlob(nil, id); err != nil || string(got) != "a message kept in memory" {
		t.Fatalf("blob after reopening: %q, %v", got, err)
	}
	storeAs(t, r, "bob@example.com", "the second session's message")
	rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil || len(rep.Problems) != 0 || rep.Packs != 2 || rep.Blobs != 2 {
		t.Fatalf("Verify: %+v, %v; want 2 packs, 2 blobs, no problem", rep, err)
	}
	if err := r.CheckSpace(0); err != nil {
		t.Errorf("CheckSpace of a Memory-backed repository: %v", err)
	}
}
