package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// writer carries out a plan.
type writer struct {
	r      *repo.Repo
	w      store.Writer
	opts   Options
	res    *Result
	target store.Account
	// existing is the target as it was before the restore (nil: missing).
	existing *store.Snapshot
	// st is the store written into, for parsing subscriptions.
	st store.Writable
}

// run writes every folder, then the subscriptions, then syncs. A full
// restore is framed by its marker (see resume.go): written first, removed
// once everything was written.
func (w *writer) run(ctx context.Context, p *plan) error {
	if p.mode == "full" && !w.opts.DryRun {
		if err := w.w.WriteRestoreMarker(marker(p.state), mdOwner(p.state.Version.Owner)); err != nil {
			return fmt.Errorf("account %s: %w", w.res.To, err)
		}
	}
	for i := range p.folders {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.folder(ctx, p, &p.folders[i]); err != nil {
			return err
		}
	}
	if w.opts.DryRun {
		return nil
	}
	if err := w.subscriptions(p); err != nil {
		w.problem(nil, fmt.Errorf("subscriptions: %w", err))
	}
	if err := w.w.Sync(); err != nil {
		return err
	}
	if w.res.Failed > 0 || len(w.res.Problems) > 0 {
		return nil // the marker stays: the next restore carries this one on
	}
	if err := w.w.RemoveRestoreMarker(); err != nil {
		return err
	}
	return w.w.Sync()
}

// folder restores one folder's messages and, in a full restore, its
// keywords and UID list. A folder that cannot be created or locked fails
// its messages, and a message that cannot be written fails alone (see
// failed): the restore goes on with the others. Only a cancel stops it.
func (w *writer) folder(ctx context.Context, p *plan, fp *folderPlan) error {
	fv := fp.version
	fr := FolderResult{Name: fv.Name, NameB64: names.B64(fv.Name), Created: !fp.exists}
	full := p.mode == "full" || !fp.exists
	table := slices.Clone(fv.Keywords)
	if !full {
		table = w.mergedKeywords(fv.Name, fp.items)
	}
	var todo []*catalog.Item
	for _, it := range fp.items {
		if m, ok := fp.present[it.Base]; ok && m.Size == it.Size {
			fr.Skipped++
			continue
		}
		todo = append(todo, it)
	}
	defer func() {
		w.res.Folders = append(w.res.Folders, fr)
		w.res.Messages += fr.Messages
		w.res.Skipped += fr.Skipped
		w.res.Failed += fr.Failed
		w.res.Bytes += fr.Bytes
	}()
	w.opts.Progress.ItemsDone.Add(int64(len(fp.items) - len(todo)))
	if w.opts.DryRun {
		for _, it := range todo {
			fr.Messages++
			fr.Bytes += it.Size
		}
		w.opts.Progress.ItemsDone.Add(int64(len(todo)))
		return nil
	}
	if err := w.w.Folder(store.FolderSpec{Name: fv.Name, Dir: fv.Dir, Owner: mdOwner(fv.Owner)}); err != nil {
		w.folderFailed(&fr, fv, todo, fmt.Errorf("creating folder %s: %w", fv.Name, err))
		return nil
	}
	unlock, err := w.w.Lock(fv.Dir)
	if err != nil {
		w.folderFailed(&fr, fv, todo, fmt.Errorf("folder %s: %w", fv.Name, err))
		return nil
	}
	defer func() {
		if err := unlock(); err != nil {
			w.problem(&fr, fmt.Errorf("folder %s: %w", fv.Name, err))
		}
	}()
	// The keyword table goes first, so that Dovecot never reads a
	// restored letter it cannot name, even if the restore is cut short.
	if full || !slices.Equal(table, w.existingKeywords(fv.Name)) {
		if len(table) > 0 {
			if err := w.w.WriteKeywords(fv.Dir, table, fileOwner(fv.Owner)); err != nil {
				w.problem(&fr, fmt.Errorf("folder %s: %w", fv.Name, err))
			}
		}
	}
	failed, err := w.messages(ctx, fv, todo, table, full, &fr)
	if err != nil {
		return err
	}
	if full && fv.UIDValidity != 0 {
		// The UID list names the messages that are in the folder: a
		// message that failed would otherwise be expunged by Dovecot's
		// next sync, and get a new UID when a later restore writes it.
		var entries []store.UIDEntry
		for _, it := range fp.items {
			if it.UID != 0 && w.st.ListableID(it.Base) && !failed[it] {
				entries = append(entries, store.UIDEntry{UID: it.UID, Base: it.Base})
			}
		}
		slices.SortFunc(entries, func(a, b store.UIDEntry) int { return int(a.UID) - int(b.UID) })
		if err := w.w.WriteUIDList(fv.Dir, fv.UIDValidity, fv.NextUID, fv.GUID, entries, fileOwner(fv.Owner)); err != nil {
			w.problem(&fr, fmt.Errorf("folder %s: %w", fv.Name, err))
		}
	}
	return nil
}

// publishBatch is how many staged messages a worker publishes at once.
const publishBatch = 64

// messages writes the messages of one folder with opts.Workers goroutines,
// each reading blobs from the repository and staging them in tmp/, then
// publishing them by batches: fsynced together, renamed into place. It
// counts into fr what it wrote, what was already present and what failed,
// records each failure, and returns the items that failed. Only a cancel
// stops it early (and is returned).
func (w *writer) messages(ctx context.Context, fv *catalog.FolderVersion, items []*catalog.Item, table []string, full bool, fr *FolderResult) (map[*catalog.Item]bool, error) {
	var (
		mu     sync.Mutex
		failed = map[*catalog.Item]bool{}
		wg     sync.WaitGroup
		next   = make(chan *catalog.Item)
	)
	note := func(it *catalog.Item, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			fr.Messages++
			fr.Bytes += it.Size
			w.opts.Progress.BytesDone.Add(it.Size)
		case errors.Is(err, store.ErrExists):
			fr.Skipped++
		default:
			failed[it] = true
			w.failed(fr, fv, it, err)
		}
		w.opts.Progress.ItemsDone.Add(1)
	}
	for i := 0; i < w.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []store.Staged
			var staged []*catalog.Item
			publish := func() {
				for i, err := range w.w.Publish(batch) {
					note(staged[i], err)
				}
				batch, staged = batch[:0], staged[:0]
			}
			var buf []byte
			for it := range next {
				st, err := w.stage(fv, it, table, full, &buf)
				if err != nil {
					note(it, err)
					continue
				}
				batch, staged = append(batch, st), append(staged, it)
				if len(batch) == publishBatch {
					publish()
				}
			}
			if ctx.Err() != nil {
				w.w.Discard(batch)
				return
			}
			publish()
		}()
	}
feed:
	for _, it := range items {
		select {
		case next <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return failed, ctx.Err()
}

// stage reads one message's blob and stages it in the folder's tmp/.
func (w *writer) stage(fv *catalog.FolderVersion, it *catalog.Item, table []string, full bool, buf *[]byte) (store.Staged, error) {
	data, err := w.r.AppendBlob((*buf)[:0], it.Blob)
	if err != nil {
		return nil, fmt.Errorf("message %s/%s: %w", fv.Name, it.Name, err)
	}
	*buf = data
	name := it.Name
	if !full && len(it.Keywords) > 0 {
		letters, err := w.st.KeywordLetters(table, it.Keywords)
		if err != nil {
			return nil, fmt.Errorf("message %s/%s: %w", fv.Name, it.Name, err)
		}
		name = w.st.MessageName(it.Base, it.Flags, letters)
	}
	st, err := w.w.Stage(fv.Dir, it.Subdir, name, bytes.NewReader(data), time.Unix(0, it.MTime), mdOwner(it.Owner))
	if err != nil && !errors.Is(err, store.ErrExists) {
		return nil, fmt.Errorf("message %s/%s: %w", fv.Name, name, err)
	}
	return st, err
}

// existingFolder returns the target's folder of that name, if any.
func (w *writer) existingFolder(name string) *store.Folder {
	if w.existing == nil {
		return nil
	}
	for i := range w.existing.Folders {
		if w.existing.Folders[i].Name == name {
			return &w.existing.Folders[i]
		}
	}
	return nil
}

func (w *writer) existingKeywords(name string) []string {
	if f := w.existingFolder(name); f != nil {
		return f.Keywords
	}
	return nil
}

// mergedKeywords is the target folder's keyword table plus the keywords
// of the restored messages it lacks, appended so existing letters keep
// their meaning.
func (w *writer) mergedKeywords(folder string, items []*catalog.Item) []string {
	table := slices.Clone(w.existingKeywords(folder))
	for _, it := range items {
		for _, k := range it.Keywords {
			if k != "" && !strings.HasPrefix(k, "?") && !slices.Contains(table, k) {
				table = append(table, k)
			}
		}
	}
	return table
}

// subscriptions restores the subscriptions file: its exact bytes in a
// full restore, the union with the target's own in a merge.
func (w *writer) subscriptions(p *plan) error {
	v := p.state.Version
	if v.Subscriptions == nil {
		return nil
	}
	o := fileOwner(v.Owner)
	if p.mode == "full" {
		return w.w.WriteSubscriptions(nil, v.Subscriptions, o)
	}
	have := w.existing.Subscriptions
	names := slices.Clone(have)
	for _, n := range w.st.ParseSubscriptions(v.Subscriptions) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == len(have) {
		return nil
	}
	return w.w.WriteSubscriptions(names, nil, o)
}

// mdOwner converts a recorded owner.
func mdOwner(o catalog.Owner) store.Owner {
	return store.Owner{UID: o.UID, GID: o.GID, Mode: fileMode(o.Mode)}
}

// fileOwner is the owner of the metadata files of a directory: the
// directory's owner with read/write bits only.
func fileOwner(dir catalog.Owner) store.Owner {
	o := mdOwner(dir)
	o.Mode &= 0o666
	return o
}
