package repair

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/mailheader"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Folder and account names of the rebuilt catalog.
const (
	// RecoveredFolder is the folder every rebuilt message is in.
	RecoveredFolder = "Recovered"
	// Unattributed is the account of the messages no delivery header
	// attributes to an account.
	Unattributed = "unattributed@mailkeep.invalid"
)

// Report says what RebuildCatalog found and did.
type Report struct {
	Path string `json:"path"`
	// MovedAside are the old catalog files, kept under new names.
	MovedAside []string `json:"moved_aside"`
	Packs      int      `json:"packs"`
	Records    int64    `json:"records"`
	// Blobs are the distinct intact contents now in the catalog;
	// Duplicates the further records of a content already found.
	Blobs      int64 `json:"blobs"`
	Duplicates int64 `json:"duplicates"`
	// Damaged lists the pack damage found (those records are not in the
	// catalog); a torn tail is the remains of an interrupted write.
	Damaged  []string  `json:"damaged"`
	Accounts []Account `json:"accounts"`
	// At is the instant the rebuilt messages are recorded deleted.
	At time.Time `json:"at"`
	// NotRecovered names what the packs cannot give back.
	NotRecovered []string `json:"not_recovered"`
}

// Account is one account of the rebuilt catalog.
type Account struct {
	Name     string `json:"name"`
	Messages int64  `json:"messages"`
	Bytes    int64  `json:"bytes"`
}

// notRecovered is what only the lost catalog knew.
var notRecovered = []string{
	"folders: every message is in the folder " + RecoveredFolder + " of its account",
	"flags, keywords, file names and UIDs",
	"the history: when messages were added, moved and deleted, and which were still live",
	"the accounts of a message delivered to several (it is in the first that the delivery headers name) and of messages without Delivered-To, X-Original-To or Envelope-To (they are in " + Unattributed + ")",
	"file owners and modes (restore into a live account, which gives the files its owner)",
}

// blob is one distinct content found in the packs.
type blob struct {
	id      catalog.BlobID
	ref     catalog.BlobRef
	account string
	date    int64 // the Date header, or 0
}

// RebuildCatalog takes the repository at path (its lock, so the agent
// must be stopped), moves its catalog aside and builds a new one from the
// packs. Every intact content becomes a message of the account its
// delivery headers name, in the folder Recovered, recorded as present
// until now and deleted at now: the next SmartScan records the live mail
// store again (finding the contents stored, so nothing is copied twice),
// and what is gone from the store stays restorable, like any deleted
// mail, until the purge's retention passes (restore undelete, restore
// account -at, export -at, backup search -deleted).
func RebuildCatalog(ctx context.Context, path string, now time.Time) (*Report, error) {
	r, err := repo.Open(path, repo.Options{Purpose: "mailkeep repair", NewCatalog: true, Durable: true})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rep := &Report{Path: path, MovedAside: r.MovedAside, Damaged: []string{}, Accounts: []Account{}, At: now.UTC(), NotRecovered: notRecovered}
	blobs, err := readPacks(ctx, r.Packs, rep)
	if err != nil {
		return rep, err
	}
	if err := record(r.Catalog, blobs, now, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// readPacks walks every record of every pack, checking each against its
// hash, and reads the delivery headers of each distinct content.
func readPacks(ctx context.Context, ps *pack.Store, rep *Report) ([]blob, error) {
	packs, err := ps.Packs()
	if err != nil {
		return nil, err
	}
	rep.Packs = len(packs)
	seen := map[catalog.BlobID]bool{}
	var blobs []blob
	for _, p := range packs {
		err := ps.Check(p.ID, true, func(id pack.ID, loc pack.Location) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rep.Records++
			if seen[id] {
				rep.Duplicates++
				return nil
			}
			raw, err := ps.Read(loc)
			if err != nil {
				return fmt.Errorf("reading %s: %w", loc, err)
			}
			seen[id] = true
			hdr := mailheader.Parse(raw)
			blobs = append(blobs, blob{id: id, ref: loc,
				account: mailheader.Recipient(raw), date: hdr.Date})
			return nil
		})
		var ce *pack.CorruptError
		for _, perr := range pack.Problems(err) {
			if !errors.As(perr, &ce) {
				return nil, perr
			}
			rep.Damaged = append(rep.Damaged, perr.Error())
		}
	}
	rep.Blobs = int64(len(blobs))
	return blobs, nil
}

// record writes the blobs and the recovered accounts in one transaction.
func record(cat *catalog.Catalog, blobs []blob, now time.Time, rep *Report) error {
	at := now.UnixNano()
	from := at - int64(time.Second)
	byAccount := map[string][]blob{}
	for _, b := range blobs {
		name := b.account
		if name == "" {
			name = Unattributed
		}
		byAccount[name] = append(byAccount[name], b)
	}
	tx, err := cat.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, b := range blobs {
		if err := tx.AddBlob(b.id, b.ref); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byAccount)) {
		list := byAccount[name]
		slices.SortFunc(list, func(a, b blob) int { return cmp.Or(cmp.Compare(a.date, b.date), slices.Compare(a.id[:], b.id[:])) })
		acct, err := tx.Account(name, from)
		if err != nil {
			return err
		}
		if err := tx.InsertAccountVersion(&catalog.AccountVersion{AccountID: acct.ID, Owner: catalog.Owner{Mode: 0o700},
			Subscriptions: []byte(RecoveredFolder + "\n"), ValidFrom: from}); err != nil {
			return err
		}
		if err := tx.InsertFolder(&catalog.FolderVersion{AccountID: acct.ID, Name: RecoveredFolder, Dir: "." + RecoveredFolder,
			Owner: catalog.Owner{Mode: 0o700}, UIDValidity: uint32(now.Unix()), NextUID: uint32(len(list) + 1), ValidFrom: from}); err != nil {
			return err
		}
		items := make([]catalog.Item, len(list))
		var bytes int64
		for i, b := range list {
			mtime := b.date
			if mtime <= 0 || mtime > at {
				mtime = from
			}
			base := fmt.Sprintf("%d.R%x.mailkeep-repair,S=%d", mtime/int64(time.Second), b.id[:8], b.ref.Size)
			items[i] = catalog.Item{AccountID: acct.ID, Folder: RecoveredFolder, Base: base, Subdir: "cur", Name: base + ":2,",
				Blob: b.id, Size: int64(b.ref.Size), MTime: mtime, UID: uint32(i + 1), Owner: catalog.Owner{Mode: 0o600}, ValidFrom: from}
			bytes += int64(b.ref.Size)
		}
		if err := tx.InsertItems(items); err != nil {
			return err
		}
		if err := tx.DeleteAccount(acct.ID, at); err != nil {
			return err
		}
		rep.Accounts = append(rep.Accounts, Account{Name: name, Messages: int64(len(list)), Bytes: bytes})
	}
	return tx.Commit()
}
