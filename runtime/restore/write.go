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
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// writer carries out a plan.
type writer struct {
	r      *repo.Repo
	w      *maildir.Writer
	opts   Options
	res    *Result
	target maildir.Account
	// existing is the target as it was before the restore (nil: missing).
	existing *maildir.Snapshot
	// layout is the store's folder layout, for parsing subscriptions.
	layout string
}

// run writes every folder, then the subscriptions, then syncs.
func (w *writer) run(ctx context.Context, p *plan) error {
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
		return err
	}
	return w.w.Sync()
}

// folder restores one folder's messages and, in a full restore, its
// keywords and UID list.
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
	for _, it := range todo {
		fr.Messages++
		fr.Bytes += it.Size
	}
	defer func() {
		w.res.Folders = append(w.res.Folders, fr)
		w.res.Messages += fr.Messages
		w.res.Skipped += fr.Skipped
		w.res.Bytes += fr.Bytes
	}()
	if w.opts.DryRun {
		w.opts.Progress.ItemsDone.Add(int64(len(fp.items)))
		return nil
	}
	if err := w.w.Folder(maildir.FolderSpec{Name: fv.Name, Dir: fv.Dir, Owner: mdOwner(fv.Owner)}); err != nil {
		return fmt.Errorf("creating folder %s: %w", fv.Name, err)
	}
	unlock, err := w.w.Lock(fv.Dir)
	if err != nil {
		return fmt.Errorf("folder %s: %w", fv.Name, err)
	}
	defer unlock()
	skipped, err := w.messages(ctx, fv, todo, table, full)
	fr.Messages -= skipped
	fr.Skipped += skipped
	if err != nil {
		return err
	}
	w.opts.Progress.ItemsDone.Add(int64(len(fp.items) - len(todo)))
	if full || !slices.Equal(table, w.existingKeywords(fv.Name)) {
		if len(table) > 0 {
			if err := w.w.WriteKeywords(fv.Dir, table, fileOwner(fv.Owner)); err != nil {
				return fmt.Errorf("folder %s: %w", fv.Name, err)
			}
		}
	}
	if full && fv.UIDValidity != 0 {
		var entries []maildir.UIDEntry
		for _, it := range fp.items {
			if it.UID != 0 && maildir.ListableBase(it.Base) {
				entries = append(entries, maildir.UIDEntry{UID: it.UID, Base: it.Base})
			}
		}
		slices.SortFunc(entries, func(a, b maildir.UIDEntry) int { return int(a.UID) - int(b.UID) })
		if err := w.w.WriteUIDList(fv.Dir, fv.UIDValidity, fv.NextUID, fv.GUID, entries, fileOwner(fv.Owner)); err != nil {
			return fmt.Errorf("folder %s: %w", fv.Name, err)
		}
	}
	return nil
}

// publishBatch is how many staged messages a worker publishes at once.
const publishBatch = 64

// messages writes the messages of one folder with opts.Workers goroutines,
// each reading blobs from the repository and staging them in tmp/, then
// publishing them by batches: fsynced together, renamed into place. It
// returns how many were already present.
func (w *writer) messages(ctx context.Context, fv *catalog.FolderVersion, items []*catalog.Item, table []string, full bool) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		skipped  int
		wg       sync.WaitGroup
		next     = make(chan *catalog.Item)
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	note := func(err error) {
		switch {
		case errors.Is(err, maildir.ErrExists):
			mu.Lock()
			skipped++
			mu.Unlock()
		case err != nil:
			fail(err)
		}
	}
	for i := 0; i < w.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []*maildir.Staged
			var sizes []int64
			publish := func() {
				for i, err := range w.w.Publish(batch) {
					note(err)
					w.opts.Progress.ItemsDone.Add(1)
					w.opts.Progress.BytesDone.Add(sizes[i])
				}
				batch, sizes = batch[:0], sizes[:0]
			}
			var buf []byte
			for it := range next {
				st, err := w.stage(fv, it, table, full, &buf)
				if err != nil {
					note(err)
					w.opts.Progress.ItemsDone.Add(1)
					continue
				}
				batch, sizes = append(batch, st), append(sizes, it.Size)
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
	if firstErr != nil {
		return skipped, firstErr
	}
	return skipped, ctx.Err()
}

// stage reads one message's blob and stages it in the folder's tmp/.
func (w *writer) stage(fv *catalog.FolderVersion, it *catalog.Item, table []string, full bool, buf *[]byte) (*maildir.Staged, error) {
	data, err := w.r.AppendBlob((*buf)[:0], it.Blob)
	if err != nil {
		return nil, fmt.Errorf("message %s/%s: %w", fv.Name, it.Name, err)
	}
	*buf = data
	name := it.Name
	if !full && len(it.Keywords) > 0 {
		letters, err := maildir.KeywordLetters(table, it.Keywords)
		if err != nil {
			return nil, fmt.Errorf("message %s/%s: %w", fv.Name, it.Name, err)
		}
		name = maildir.FormatName(it.Base, it.Flags, letters)
	}
	st, err := w.w.Stage(fv.Dir, it.Subdir, name, bytes.NewReader(data), time.Unix(0, it.MTime), mdOwner(it.Owner))
	if err != nil && !errors.Is(err, maildir.ErrExists) {
		return nil, fmt.Errorf("message %s/%s: %w", fv.Name, name, err)
	}
	return st, err
}

// existingFolder returns the target's folder of that name, if any.
func (w *writer) existingFolder(name string) *maildir.Folder {
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
	for _, n := range maildir.ParseSubscriptions(v.Subscriptions, w.layout) {
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
func mdOwner(o catalog.Owner) maildir.Owner {
	return maildir.Owner{UID: o.UID, GID: o.GID, Mode: fileMode(o.Mode)}
}

// fileOwner is the owner of the metadata files of a directory: the
// directory's owner with read/write bits only.
func fileOwner(dir catalog.Owner) maildir.Owner {
	o := mdOwner(dir)
	o.Mode &= 0o666
	return o
}
