package purge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// t0 is the start of every hand-made history.
var t0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

// hist builds a repository history by hand, with exact times, for the
// boundary tests.
type hist struct {
	t   *testing.T
	dir string
	r   *repo.Repo
	tx  *catalog.Tx
	ids map[string]int64 // account name -> id
}

func newHist(t *testing.T) *hist {
	t.Helper()
	h := &hist{t: t, dir: filepath.Join(t.TempDir(), "backup"), ids: map[string]int64{}}
	h.open()
	t.Cleanup(func() {
		if h.r != nil {
			h.r.Close()
		}
	})
	return h
}

func (h *hist) open() {
	h.t.Helper()
	r, err := repo.Open(h.dir, repo.Options{Create: true, Purpose: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.r = r
}

// session closes and reopens the repository, so that what follows goes to
// a new pack file.
func (h *hist) session() {
	h.t.Helper()
	if err := h.r.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

// begin and commit bracket the changes of one backup step.
func (h *hist) begin() {
	h.t.Helper()
	tx, err := h.r.Catalog.Begin()
	if err != nil {
		h.t.Fatal(err)
	}
	h.tx = tx
}

func (h *hist) commit() {
	h.t.Helper()
	if err := h.r.Packs.Sync(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.tx.Commit(); err != nil {
		h.t.Fatal(err)
	}
	h.tx = nil
}

// blob stores content (with the caller's transaction open) and returns its id.
func (h *hist) blob(content []byte) catalog.BlobID {
	h.t.Helper()
	id := pack.Hash(content)
	if ok, _ := h.tx.HasBlob(id); ok {
		return id
	}
	loc, err := h.r.Packs.Put(id, content)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.tx.AddBlob(id, catalog.BlobRef{Pack: loc.Pack, Offset: loc.Offset, Length: loc.Length, Size: loc.Size}); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// account creates an account with its state and an INBOX at from.
func (h *hist) account(name string, from time.Time) {
	h.t.Helper()
	a, err := h.tx.Account(name, from.UnixNano())
	if err != nil {
		h.t.Fatal(err)
	}
	h.ids[name] = a.ID
	if err := h.tx.InsertAccountVersion(&catalog.AccountVersion{AccountID: a.ID, Owner: catalog.Owner{Mode: 0o700}, ValidFrom: from.UnixNano()}); err != nil {
		h.t.Fatal(err)
	}
	h.folder(name, "INBOX", from, time.Time{})
}

func (h *hist) folder(account, name string, from, to time.Time) {
	h.t.Helper()
	f := &catalog.FolderVersion{AccountID: h.ids[account], Name: name, Dir: "." + name, UIDValidity: 1, ValidFrom: from.UnixNano()}
	if err := h.tx.InsertFolder(f); err != nil {
		h.t.Fatal(err)
	}
	if !to.IsZero() {
		if err := h.tx.CloseFolder(f.ID, to.UnixNano()); err != nil {
			h.t.Fatal(err)
		}
	}
}

// item records one version of a message, valid from from until to (zero:
// current), whose content is the base name repeated.
func (h *hist) item(account, folder, base, flags string, from, to time.Time) {
	h.t.Helper()
	content := []byte(strings.Repeat(base+" ", 200))
	h.itemBlob(account, folder, base, flags, content, from, to)
}

func (h *hist) itemBlob(account, folder, base, flags string, content []byte, from, to time.Time) {
	h.t.Helper()
	id := h.blob(content)
	it := &catalog.Item{AccountID: h.ids[account], Folder: folder, Base: base, Subdir: "cur", Name: base + ":2," + flags,
		Blob: id, Size: int64(len(content)), Flags: flags, ValidFrom: from.UnixNano()}
	if err := h.tx.InsertItem(it); err != nil {
		h.t.Fatal(err)
	}
	if !to.IsZero() {
		if err := h.tx.CloseItem(it.ID, to.UnixNano()); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *hist) deleteAccount(name string, at time.Time) {
	h.t.Helper()
	if err := h.tx.DeleteAccount(h.ids[name], at.UnixNano()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hist) purge(opts Options) *Result {
	h.t.Helper()
	res, err := Run(context.Background(), h.r, opts)
	if err != nil {
		h.t.Fatalf("purge: %v", err)
	}
	return res
}

// describeState renders an account at an instant as the restore sees it:
// account state, folders, and messages with their content's hash (read
// and verified from the packs). "" when the catalog does not know the
// account.
func describeState(t *testing.T, r *repo.Repo, name string, at int64) string {
	t.Helper()
	return newStater(t, r).describe(name, at)
}

// stater describes states, reading each blob location once.
type stater struct {
	t    *testing.T
	r    *repo.Repo
	read map[catalog.StoredBlob]int
	buf  []byte
}

func newStater(t *testing.T, r *repo.Repo) *stater {
	return &stater{t: t, r: r, read: map[catalog.StoredBlob]int{}}
}

func (s *stater) describe(name string, at int64) string {
	t, r := s.t, s.r
	t.Helper()
	st, err := r.Catalog.StateAt(name, at)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return ""
		}
		t.Fatal(err)
	}
	var b strings.Builder
	if st.Version != nil {
		fmt.Fprintf(&b, "account owner=%v subscriptions=%q\n", st.Version.Owner, st.Version.Subscriptions)
	}
	for _, f := range st.Folders {
		fmt.Fprintf(&b, "folder %s dir=%s owner=%v uidvalidity=%d next=%d guid=%s kw=%v\n", f.Name, f.Dir, f.Owner, f.UIDValidity, f.NextUID, f.GUID, f.Keywords)
	}
	var msgs []string
	for _, it := range st.Items {
		ref, err := r.Catalog.Blob(it.Blob)
		if err != nil {
			t.Fatalf("%s at %d: item %s/%s: %v", name, at, it.Folder, it.Name, err)
		}
		n, ok := s.read[catalog.StoredBlob{ID: it.Blob, Ref: ref}]
		if !ok {
			s.buf, err = r.Packs.AppendBlob(s.buf[:0], pack.ID(it.Blob), pack.Location{Pack: ref.Pack, Offset: ref.Offset, Length: ref.Length, Size: ref.Size})
			if err != nil {
				t.Fatalf("%s at %d: item %s/%s: %v", name, at, it.Folder, it.Name, err)
			}
			n = len(s.buf)
			s.read[catalog.StoredBlob{ID: it.Blob, Ref: ref}] = n
		}
		msgs = append(msgs, fmt.Sprintf("msg %s %s/%s flags=%s kw=%v uid=%d mtime=%d size=%d owner=%v blob=%x len=%d",
			it.Folder, it.Subdir, it.Name, it.Flags, it.Keywords, it.UID, it.MTime, it.Size, it.Owner, it.Blob[:8], n))
	}
	slices.Sort(msgs)
	b.WriteString(strings.Join(msgs, "\n"))
	return b.String()
}

// dumpCatalog renders every row of every table, for "nothing changed".
func dumpCatalog(t *testing.T, r *repo.Repo) string {
	t.Helper()
	return dumpQueries(t, r, []string{
		`SELECT hex(id), pack, offset, length, size FROM blobs ORDER BY id`,
		`SELECT key, value FROM meta ORDER BY key`,
	})
}

// logicalDump is dumpCatalog without where blobs are stored (rewrites
// move them) and without the meta table (the purge generation).
func logicalDump(t *testing.T, r *repo.Repo) string {
	t.Helper()
	return dumpQueries(t, r, []string{`SELECT hex(id), size FROM blobs ORDER BY id`})
}

func dumpQueries(t *testing.T, r *repo.Repo, extra []string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range append([]string{
		`SELECT id, name, first_seen, last_seen, coalesce(deleted_at, -1) FROM accounts ORDER BY id`,
		`SELECT id, account_id, uid, gid, mode, hex(subscriptions), valid_from, coalesce(valid_to, -1) FROM account_versions ORDER BY id`,
		`SELECT id, account_id, name, dir, uidvalidity, nextuid, keywords, valid_from, coalesce(valid_to, -1) FROM folder_versions ORDER BY id`,
		`SELECT id, account_id, folder, base, name, hex(blob), flags, valid_from, coalesce(valid_to, -1) FROM items ORDER BY id`,
	}, extra...) {
		rows, err := r.Catalog.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// packFiles lists the pack files with their sizes and modification times.
func packFiles(t *testing.T, r *repo.Repo) string {
	t.Helper()
	packs, err := r.Packs.Packs()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range packs {
		st, err := os.Stat(p.Path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%08x %d %d\n", p.ID, st.Size(), st.ModTime().UnixNano())
	}
	return b.String()
}

// verifyClean fails the test when Verify finds a problem.
func verifyClean(t *testing.T, r *repo.Repo, deep bool) *repo.VerifyReport {
	t.Helper()
	rep, err := r.Verify(context.Background(), repo.VerifyOptions{Deep: deep})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("verify found problems: %+v", rep.Problems)
	}
	return rep
}

// copyTree copies a directory tree (regular files and directories).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
