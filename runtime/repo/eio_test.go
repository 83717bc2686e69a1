package repo_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// openFaulty opens (creating it) the repository at dir with its packs,
// files in dir/packs as always, behind a fault-injecting backend.
func openFaulty(t *testing.T, dir string) (*repo.Repo, *faultbackend.Backend) {
	t.Helper()
	local, err := pack.NewLocal(filepath.Join(dir, repo.PacksDir), pack.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fb := faultbackend.New(local, 1)
	r, err := repo.Open(dir, repo.Options{Create: true, Purpose: "test", PackBackend: fb})
	if err != nil {
		t.Fatal(err)
	}
	return r, fb
}

// EIO reading a pack: verify reports the pack, with the error and its
// name, and the blobs in it, and goes on with the other packs; a blob
// read says which blob and which pack.
func TestVerifyGivenEIOOnRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	r, _ := openFaulty(t, dir)
	first := storeAs(t, r, "ann@example.com", "first message, in pack 1")
	r.Close()
	r, fb := openFaulty(t, dir)
	defer r.Close()
	second := storeAs(t, r, "bob@example.com", "second message, in pack 2")

	fb.Fail(faultbackend.Rule{Op: faultbackend.ReadAt, Name: pack.PackName(1)})
	rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil {
		t.Fatalf("Verify stopped: %v; want the problem reported and the walk going on", err)
	}
	if rep.Packs != 2 || rep.Records != 1 {
		t.Errorf("Verify walked %d packs and %d records, want 2 and the 1 readable", rep.Packs, rep.Records)
	}
	var packProblem, blobProblem bool
	for _, p := range rep.Problems {
		switch {
		case p.Kind == "pack" && p.Where == r.Packs.Path(1) &&
			strings.Contains(p.Detail, "input/output error") && strings.Contains(p.Detail, pack.PackName(1)):
			packProblem = true
		case p.Kind == "blob" && strings.Contains(p.Where, hexPrefix(first)):
			blobProblem = true
		default:
			t.Errorf("unexpected problem %+v", p)
		}
	}
	if !packProblem || !blobProblem {
		t.Errorf("problems %+v; want pack 1 with the EIO and its blob", rep.Problems)
	}

	_, err = r.AppendBlob(nil, first)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), hexPrefix(first)) || !strings.Contains(err.Error(), r.Packs.Path(1)) {
		t.Errorf("AppendBlob given EIO: %v; want the blob, the pack and EIO", err)
	}
	if _, err := r.AppendBlob(nil, second); err != nil {
		t.Errorf("a blob of another pack: %v", err)
	}
	fb.Heal()
	if rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("Verify once the disk reads again: %+v, %v", rep.Problems, err)
	}
}

// EIO writing or fsyncing a pack: Sync fails, naming the pack; the
// failure is sticky until the next writer takes the lock (LockWrites),
// which cuts the pack back to what was durable; nothing committed is
// lost and the repository verifies clean.
func TestPackWriteGivenEIO(t *testing.T) {
	for _, op := range []faultbackend.Op{faultbackend.Write, faultbackend.Sync, faultbackend.Create} {
		t.Run(string(op), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			r, _ := openFaulty(t, dir)
			kept := storeAs(t, r, "ann@example.com", "committed before the disk failed")
			r.Close()
			r, fb := openFaulty(t, dir) // a new session: its first Put creates a pack
			defer r.Close()

			fb.Fail(faultbackend.Rule{Op: op, Times: 1})
			raw := []byte("stored while the disk fails")
			_, err := r.Packs.Put(pack.Hash(raw), raw)
			if err == nil {
				err = r.Packs.Sync()
			}
			if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), ".pack") {
				t.Fatalf("Put and Sync given EIO on %s: %v; want EIO naming the pack", op, err)
			}
			if err := r.Packs.Sync(); err == nil {
				t.Fatal("a second Sync succeeded after a failed one: the failure must be sticky")
			}
			if fb.Injected() != 1 {
				t.Fatalf("%d faults injected, want 1", fb.Injected())
			}
			if err := r.LockWrites(); err != nil {
				t.Fatalf("LockWrites after the fault: %v", err)
			}
			r.WriteMu.Unlock()
			storeAs(t, r, "bob@example.com", "stored once the disk works again")
			if _, err := r.AppendBlob(nil, kept); err != nil {
				t.Fatalf("the blob committed before the fault: %v", err)
			}
			rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: true})
			if err != nil || len(rep.Problems) != 0 || rep.Blobs != 2 {
				t.Fatalf("Verify: %+v, %v; want 2 blobs and no problem", rep, err)
			}
			if len(rep.Leftovers) != 0 {
				t.Errorf("leftovers %q: the failed records were not cut back", rep.Leftovers)
			}
		})
	}
}

// storeAs puts a blob and records it as the one item of account's INBOX.
func storeAs(t *testing.T, r *repo.Repo, account, content string) catalog.BlobID {
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
	if err := tx.AddBlob(id, loc); err != nil {
		t.Fatal(err)
	}
	a, err := tx.Account(account, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.InsertFolder(&catalog.FolderVersion{AccountID: a.ID, Name: "INBOX", ValidFrom: 1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.InsertItem(&catalog.Item{AccountID: a.ID, Folder: "INBOX", Base: "1000.M1P1.host", Subdir: "cur", Name: "1000.M1P1.host:2,S", Blob: id, Size: int64(len(raw)), ValidFrom: 1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id
}

func hexPrefix(id [32]byte) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range id[:8] {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}
