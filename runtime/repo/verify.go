package repo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
)

// VerifyOptions say how thoroughly to check.
type VerifyOptions struct {
	// Deep decompresses and re-hashes every blob; otherwise records are
	// checked by their framing and CRC.
	Deep bool
	// Progress, when set, counts pack records checked.
	Progress *VerifyProgress
}

// VerifyProgress is updated atomically while Verify runs.
type VerifyProgress struct {
	Total, Done, Bytes, Problems atomic.Int64
}

// Problem is one defect Verify found. Nothing is repaired.
type Problem struct {
	// Kind is "catalog", "pack", "blob", "item", "folder", "account" or
	// "history".
	Kind   string `json:"kind"`
	Where  string `json:"where"`
	Detail string `json:"detail"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Deep     bool      `json:"deep"`
	Packs    int       `json:"packs"`
	Records  int64     `json:"records"`
	Blobs    int64     `json:"blobs"`
	Items    int64     `json:"items"`
	Problems []Problem `json:"problems"`
	// Leftovers are harmless remains of an interrupted write: a torn tail
	// or records no catalog entry refers to.
	Leftovers []string `json:"leftovers,omitempty"`
}

// maxProblems bounds how many problems of one kind are listed.
const maxProblems = 1000

// Verify checks the repository: every pack is well framed (no half-written
// record except an unreferenced tail left by a crash), every blob the
// catalog names is intact where the catalog says, every item refers to a
// known blob, and every history is well formed. With Deep, every record is
// decompressed and re-hashed.
func (r *Repo) Verify(ctx context.Context, opts VerifyOptions) (*VerifyReport, error) {
	if opts.Progress == nil {
		opts.Progress = &VerifyProgress{}
	}
	rep := &VerifyReport{Deep: opts.Deep, Problems: []Problem{}}
	add := func(kind, where, format string, args ...any) {
		opts.Progress.Problems.Add(1)
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, Problem{Kind: kind, Where: where, Detail: fmt.Sprintf(format, args...)})
		}
	}
	refs := map[catalog.BlobID]catalog.BlobRef{}
	end := map[uint32]int64{} // end of the last referenced record per pack
	if err := r.Catalog.BlobIDs(func(id catalog.BlobID, ref catalog.BlobRef) {
		refs[id] = ref
		if e := ref.Offset + int64(ref.Length); e > end[ref.Pack] {
			end[ref.Pack] = e
		}
	}); err != nil {
		return nil, err
	}
	rep.Blobs = int64(len(refs))
	opts.Progress.Total.Store(int64(len(refs)))

	packs, err := r.Packs.Packs()
	if err != nil {
		return nil, err
	}
	rep.Packs = len(packs)
	onDisk := map[uint32]bool{}
	var orphans, orphanBytes int64
	found := map[catalog.BlobID]pack.Location{}
	for _, p := range packs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		onDisk[p.ID] = true
		err := r.Packs.Check(p.ID, opts.Deep, func(id pack.ID, loc pack.Location) error {
			rep.Records++
			opts.Progress.Done.Add(1)
			opts.Progress.Bytes.Add(int64(loc.Length))
			if ref, ok := refs[id]; ok && ref.Pack == loc.Pack && ref.Offset == loc.Offset {
				found[id] = loc
			} else {
				orphans++
				orphanBytes += int64(loc.Length)
			}
			return nil
		})
		for _, perr := range flatten(err) {
			var ce *pack.CorruptError
			if errors.As(perr, &ce) && ce.Torn && ce.Offset >= end[p.ID] {
				rep.Leftovers = append(rep.Leftovers, fmt.Sprintf("%s: unreferenced torn tail at offset %d (an interrupted write; harmless)", ce.Path, ce.Offset))
				continue
			}
			add("pack", p.Path, "%v", perr)
		}
	}
	if orphans > 0 {
		rep.Leftovers = append(rep.Leftovers, fmt.Sprintf("%d pack records (%d bytes) that no catalog entry refers to (interrupted writes; purge reclaims them)", orphans, orphanBytes))
	}
	for id, ref := range refs {
		loc, ok := found[id]
		switch {
		case !onDisk[ref.Pack]:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "its pack %08x is missing", ref.Pack)
		case !ok:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "no intact record at pack %08x offset %d", ref.Pack, ref.Offset)
		case loc.Length != ref.Length || loc.Size != ref.Size:
			add("blob", fmt.Sprintf("blob %x", id[:8]), "the catalog says %d/%d bytes, the pack record %d/%d", ref.Length, ref.Size, loc.Length, loc.Size)
		}
	}
	if err := r.verifyCatalog(ctx, rep, add); err != nil {
		return rep, err
	}
	return rep, nil
}

// flatten splits an errors.Join result.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// historyChecks are SQL queries that must return no rows in a well-formed
// catalog; each row names a defect.
var historyChecks = []struct {
	kind, what, query string
}{
	{"item", "refers to a blob the catalog does not have",
		`SELECT 'item ' || i.id || ' (' || i.folder || '/' || i.name || ')' FROM items i LEFT JOIN blobs b ON b.id = i.blob WHERE b.id IS NULL`},
	{"history", "has a version that ends before it starts",
		`SELECT 'item ' || id FROM items WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		 UNION ALL SELECT 'folder version ' || id FROM folder_versions WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		 UNION ALL SELECT 'account version ' || id FROM account_versions WHERE valid_to IS NOT NULL AND valid_to <= valid_from`},
	{"history", "overlaps an earlier version of the same message",
		`SELECT 'item ' || id || ' (' || folder || '/' || base || ')' FROM (
		   SELECT id, folder, base, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id, folder, base ORDER BY valid_from, id) AS prev_to
		   FROM items) WHERE prev_to > valid_from`},
	{"history", "overlaps an earlier version of the same folder",
		`SELECT 'folder ' || name FROM (
		   SELECT name, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id, name ORDER BY valid_from, id) AS prev_to
		   FROM folder_versions) WHERE prev_to > valid_from`},
	{"history", "overlaps an earlier version of the account state",
		`SELECT 'account version ' || id FROM (
		   SELECT id, valid_from,
		          lag(coalesce(valid_to, 9223372036854775807)) OVER (PARTITION BY account_id ORDER BY valid_from, id) AS prev_to
		   FROM account_versions) WHERE prev_to > valid_from`},
	{"account", "is deleted but still has current versions",
		`SELECT 'account ' || a.name FROM accounts a WHERE a.deleted_at IS NOT NULL AND (
		   EXISTS (SELECT 1 FROM items WHERE account_id = a.id AND valid_to IS NULL) OR
		   EXISTS (SELECT 1 FROM folder_versions WHERE account_id = a.id AND valid_to IS NULL))`},
	{"item", "lies in a folder that does not exist at the same time",
		`SELECT 'item ' || i.id || ' (' || i.folder || '/' || i.name || ')' FROM items i WHERE i.valid_to IS NULL AND NOT EXISTS (
		   SELECT 1 FROM folder_versions f WHERE f.account_id = i.account_id AND f.name = i.folder AND f.valid_to IS NULL)`},
}

// verifyCatalog runs the history checks.
func (r *Repo) verifyCatalog(ctx context.Context, rep *VerifyReport, add func(kind, where, format string, args ...any)) error {
	db := r.Catalog.DB()
	if err := r.CheckCatalog(); err != nil {
		add("catalog", r.Catalog.Path(), "%v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&rep.Items); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	for _, c := range historyChecks {
		rows, err := db.QueryContext(ctx, c.query)
		if err != nil {
			return fmt.Errorf("catalog check %q: %w", c.what, err)
		}
		n := 0
		for rows.Next() {
			var where string
			if err := rows.Scan(&where); err != nil {
				rows.Close()
				return fmt.Errorf("catalog check %q: %w", c.what, err)
			}
			if n++; n <= maxProblems {
				add(c.kind, where, "%s", c.what)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("catalog check %q: %w", c.what, err)
		}
	}
	var integrity string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&integrity); err != nil {
		return fmt.Errorf("catalog integrity check: %w", err)
	}
	if integrity != "ok" {
		add("catalog", r.Catalog.Path(), "SQLite quick_check: %s", integrity)
	}
	return nil
}
