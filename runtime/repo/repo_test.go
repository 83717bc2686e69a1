package repo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

func openRepo(t *testing.T, dir string) *repo.Repo {
	t.Helper()
	r, err := repo.Open(dir, repo.Options{Create: true, Purpose: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLockRefusesSecondOpener(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	r := openRepo(t, dir)
	_, err := repo.Open(dir, repo.Options{Purpose: "second"})
	var le *repo.LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != os.Getpid() || le.Holder.Purpose != "test" {
		t.Fatalf("second Open: %v", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), dir) {
		t.Errorf("the message does not name the holder and the path: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := repo.Open(dir, repo.Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	r2.Close()
}

func TestOpenRefusesWhatIsNotARepository(t *testing.T) {
	dir := t.TempDir()
	if _, err := repo.Open(filepath.Join(dir, "none"), repo.Options{}); err == nil || !strings.Contains(err.Error(), "no mailkeep repository") {
		t.Errorf("missing repository without Create: %v", err)
	}
	if _, err := repo.Open("relative/path", repo.Options{Create: true}); err == nil {
		t.Error("a relative path was accepted")
	}
	bad := filepath.Join(dir, "newer")
	os.MkdirAll(bad, 0o700)
	os.WriteFile(filepath.Join(bad, repo.ConfigFile), []byte(`{"format_version": 99, "id": "x"}`), 0o600)
	if _, err := repo.Open(bad, repo.Options{}); err == nil || !strings.Contains(err.Error(), "upgrade mailkeep") {
		t.Errorf("newer format: %v", err)
	}
}

// storeBlob puts a blob and records it with one item, as a scan does.
func storeBlob(t *testing.T, r *repo.Repo, content string) catalog.BlobID {
	t.Helper()
	raw := []byte(content)
	id := pack.Hash(raw)
	loc, err := r.Packs.Put(id, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Packs.Sync(); err != nil {
		t.Fatal(err)
	}
	tx, err := r.Catalog.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.AddBlob(id, catalog.BlobRef{Pack: loc.Pack, Offset: loc.Offset, Length: loc.Length, Size: loc.Size}); err != nil {
		t.Fatal(err)
	}
	a, err := tx.Account("ann@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.InsertFolder(&catalog.FolderVersion{AccountID: a.ID, Name: "INBOX", ValidFrom: 1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.InsertItem(&catalog.Item{AccountID: a.ID, Folder: "INBOX", Base: content[:8], Subdir: "cur", Name: content[:8], Blob: id, Size: int64(len(raw)), ValidFrom: 1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestVerifyFindsDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	r := openRepo(t, dir)
	defer r.Close()
	id := storeBlob(t, r, strings.Repeat("message body that compresses well ", 200))
	rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil || len(rep.Problems) != 0 || rep.Blobs != 1 || rep.Items != 1 {
		t.Fatalf("clean repository: %+v %v", rep, err)
	}
	// Flip a byte inside the record's payload.
	ref, err := r.Catalog.Blob(id)
	if err != nil {
		t.Fatal(err)
	}
	path := r.Packs.Path(ref.Pack)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := ref.Offset + pack.RecordHeaderSize + 5
	f.ReadAt(b, off)
	b[0] ^= 0xff
	f.WriteAt(b, off)
	f.Close()
	rep, err = r.Verify(context.Background(), repo.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range rep.Problems {
		kinds = append(kinds, p.Kind)
	}
	if !strings.Contains(strings.Join(kinds, ","), "pack") || !strings.Contains(strings.Join(kinds, ","), "blob") {
		t.Errorf("a damaged record gives problems %+v, want a pack and a blob problem", rep.Problems)
	}
	// An item pointing at a blob the catalog lacks is reported too.
	if _, err := r.Catalog.DB().Exec(`PRAGMA foreign_keys = OFF; UPDATE items SET blob = x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'`); err != nil {
		t.Fatal(err)
	}
	rep, _ = r.Verify(context.Background(), repo.VerifyOptions{})
	found := false
	for _, p := range rep.Problems {
		if p.Kind == "item" && strings.Contains(p.Detail, "blob the catalog does not have") {
			found = true
		}
	}
	if !found {
		t.Errorf("a dangling item reference is not reported: %+v", rep.Problems)
	}
}
