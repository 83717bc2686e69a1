package purge

import (
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// lineage is one message of one folder (same account, folder and Maildir
// base name) with versions that ended before the cutoff.
type lineage struct {
	name      string // file name of its last expired version
	size      int64
	deletedAt int64 // end of its last expired version
	versions  int
	kept      bool // a version survives the cutoff: only history goes
}

// expire drops an account's versions that ended before the cutoff: no
// restore instant from the cutoff on can see them. A message whose every
// version goes was deleted (or moved away) before the cutoff and is
// reported as a removed item; the other dropped versions are history.
func (p *purger) expire(tx *catalog.Tx, a *catalog.Account, cutoff int64) error {
	// Folder, then base name: the kept versions are looked up by byte
	// slices without allocating.
	cands := map[string]map[string]*lineage{}
	type key struct{ folder, base string }
	var order []key // in folder, base order: the listing's order
	var rows int64
	err := tx.ExpiredItems(a.ID, cutoff, func(it *catalog.ExpiredItem) error {
		rows++
		fm := cands[it.Folder]
		if fm == nil {
			fm = map[string]*lineage{}
			cands[it.Folder] = fm
		}
		l := fm[it.Base]
		if l == nil {
			l = &lineage{}
			fm[it.Base] = l
			order = append(order, key{it.Folder, it.Base})
		}
		l.versions++
		if it.ValidTo >= l.deletedAt {
			l.name, l.size, l.deletedAt = it.Name, it.Size, it.ValidTo
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rows > 0 {
		err = tx.KeptItemKeys(a.ID, cutoff, func(folder, base []byte) {
			if fm := cands[string(folder)]; fm != nil {
				if l := fm[string(base)]; l != nil {
					l.kept = true
				}
			}
		})
		if err != nil {
			return err
		}
	}
	rm, err := tx.DeleteExpired(a.ID, cutoff)
	if err != nil {
		return err
	}
	if rm.Items != rows {
		return fmt.Errorf("found %d expired message versions but deleted %d", rows, rm.Items)
	}
	p.res.Rows.Add(rm)
	if rm.Items+rm.FolderVersions+rm.AccountVersions > 0 {
		// Restores before the cutoff would now miss what went.
		if err := tx.RaiseExactFrom(a.ID, cutoff); err != nil {
			return err
		}
	}
	var lineageRows int64
	for _, k := range order {
		l := cands[k.folder][k.base]
		if l.kept {
			continue
		}
		p.res.Items++
		lineageRows += int64(l.versions)
		if p.listing(&p.listedItems) {
			p.res.RemovedItems = append(p.res.RemovedItems, RemovedItem{
				Account: a.Name, Folder: k.folder, Name: l.name, Size: l.size,
				AccountB64: names.B64(a.Name), FolderB64: names.B64(k.folder), NameB64: names.B64(l.name),
				DeletedAt: time.Unix(0, l.deletedAt).UTC(), Versions: l.versions,
				RetentionDays: p.opts.ItemRetentionDays,
			})
		}
	}
	p.res.Versions += rm.Items - lineageRows + rm.FolderVersions + rm.AccountVersions
	return nil
}
