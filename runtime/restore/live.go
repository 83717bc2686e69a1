package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// This file is the machinery the granular restores (restore item, restore
// undelete, restore account -into-folder) share: they add messages to a
// live account without disturbing it. Every message gets a new base name,
// so Dovecot gives it a new UID and the UIDs of the messages already there
// stay as they are; keyword letters are only ever appended to a folder's
// dovecot-keywords; a folder is written under Dovecot's
// dovecot-uidlist.lock; nothing is written through a symbolic link below
// the account root.

// LiveResult says what a granular restore did (or, for a dry run, would
// do). Messages counts the messages actually written.
type LiveResult struct {
	// Strategy is "item", "undelete" or "into-folder".
	Strategy string `json:"strategy"`
	Account  string `json:"account"`
	To       string `json:"to"`
	// AccountB64, ToB64 and IntoFolderB64 are the exact bytes of the
	// names that are not UTF-8.
	AccountB64    string `json:"account_b64,omitempty"`
	ToB64         string `json:"to_b64,omitempty"`
	IntoFolderB64 string `json:"into_folder_b64,omitempty"`
	// At is the instant restored (into-folder).
	At *time.Time `json:"at,omitempty"`
	// From and Until bound the deletions brought back (undelete).
	From  *time.Time `json:"from,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// IntoFolder is the folder the account's tree went under.
	IntoFolder string `json:"into_folder,omitempty"`
	DryRun     bool   `json:"dry_run"`
	// Keyword is the keyword the restored messages were tagged with.
	Keyword  string         `json:"keyword,omitempty"`
	Folders  []FolderResult `json:"folders"`
	Messages int            `json:"messages"`
	// Skipped counts messages left alone because the same content is in
	// the destination folder already.
	Skipped int `json:"skipped"`
	// Failed counts messages that could not be written; Items names them.
	Failed int   `json:"failed"`
	Bytes  int64 `json:"bytes"`
	// Items lists each message (item and undelete) or, for into-folder,
	// only those that failed.
	Items []ItemResult `json:"items,omitempty"`
	// Subscribed lists the folders the restore created and subscribed.
	Subscribed []string `json:"subscribed,omitempty"`
	// Problems are failures that are no message's (a folder's lock
	// taken over while held).
	Problems []string `json:"problems,omitempty"`
	// Notes are things the user should know, e.g. a full keyword table.
	Notes       []string       `json:"notes,omitempty"`
	PostCommand *CommandResult `json:"post_command,omitempty"`
}

// Item outcomes in ItemResult.
const (
	OutcomeRestored     = "restored"
	OutcomeWouldRestore = "would restore"
	OutcomePresent      = "present"
	OutcomeFailed       = "failed"
)

// ItemResult is one message of a granular restore.
type ItemResult struct {
	// ID is the catalog id (items.id) of the version restored.
	ID int64 `json:"id"`
	// Folder is where it went; FromFolder the folder of the version
	// restored, when that differs (e.g. the Trash it was expunged from).
	Folder     string `json:"folder"`
	FromFolder string `json:"from_folder,omitempty"`
	// FolderB64 and FromFolderB64 are the exact bytes of the folder names
	// that are not UTF-8.
	FolderB64     string `json:"folder_b64,omitempty"`
	FromFolderB64 string `json:"from_folder_b64,omitempty"`
	// Name is the file name written (or that would be written).
	Name    string `json:"name,omitempty"`
	Size    int64  `json:"size"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// Received, Date, From and Subject name a message that failed (see
	// FailedMessage).
	Received *time.Time `json:"received,omitempty"`
	Date     *time.Time `json:"date,omitempty"`
	From     string     `json:"from,omitempty"`
	Subject  string     `json:"subject,omitempty"`
	// blob and mtime find them once the restore is over.
	blob  catalog.BlobID
	mtime int64
}

// put is one message a granular restore writes.
type put struct {
	item *catalog.Item
	// home is the folder the message belongs in: where it was deleted
	// from (before the Trash), or its folder.
	home string
	// flags and keywords are what the restored file carries (the job's
	// tag is added to the keywords).
	flags    string
	keywords []string
}

// liveFolder is a destination folder and what goes into it.
type liveFolder struct {
	name string
	// source is the backed-up folder the messages come from, when the
	// destination is that folder recreated: its directory and owner are
	// used when the folder is gone. nil otherwise.
	source *catalog.FolderVersion
	puts   []put
}

// liveJob is a granular restore ready to write.
type liveJob struct {
	r           *repo.Repo
	st          store.Writable
	to          string
	dryRun      bool
	postCommand []string
	// postCommandUser runs postCommand (see CommandUser).
	postCommandUser string
	progress        *Progress
	// tag and fallback are the keyword every message gets and the one
	// used where a folder's keyword table has no room for tag.
	tag, fallback string
	// listItems lists every message in the result, not only failures.
	listItems bool
	// keepCopies writes every message even when another one of the job
	// has the same content and folder (a faithful copy of a tree);
	// otherwise only the first is written.
	keepCopies bool
	folders    []liveFolder
}

// Prepared is a granular restore whose input was checked and whose
// messages were chosen: Run writes them. Preparing writes nothing, so
// that bad input is refused before anything starts.
type Prepared struct {
	job *liveJob
	res *LiveResult
}

// Run writes the prepared restore.
func (p *Prepared) Run(ctx context.Context) (*LiveResult, error) {
	return p.res, p.job.write(ctx, p.res)
}

// prepared wraps a job and its result.
func prepared(job *liveJob, res *LiveResult) *Prepared {
	res.AccountB64, res.ToB64, res.IntoFolderB64 = names.B64(res.Account), names.B64(res.To), names.B64(res.IntoFolder)
	return &Prepared{job: job, res: res}
}

// write carries out the job into res.
func (j *liveJob) write(ctx context.Context, res *LiveResult) error {
	if j.progress == nil {
		j.progress = &Progress{}
	}
	target, err := j.st.Account(j.to)
	if err != nil {
		return err
	}
	snap, err := j.st.Snapshot(target, store.SnapshotOptions{})
	switch {
	case errors.Is(err, store.ErrNoAccount):
		snap = nil
	case err != nil:
		return fmt.Errorf("reading the account %s: %w", j.to, err)
	}
	total := 0
	for _, f := range j.folders {
		total += len(f.puts)
	}
	j.progress.ItemsTotal.Store(int64(total))
	lw := &liveWriter{job: j, res: res, target: target, snap: snap, w: j.st.AccountWriter(target)}
	sort.SliceStable(j.folders, func(a, b int) bool { return folderDepth(j.folders[a].name) < folderDepth(j.folders[b].name) })
	for i := range j.folders {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := lw.folder(ctx, &j.folders[i]); err != nil {
			return err
		}
	}
	if j.dryRun {
		return nil
	}
	if err := lw.subscribe(); err != nil {
		return err
	}
	if err := lw.w.Sync(); err != nil {
		return err
	}
	if len(j.postCommand) > 0 && res.Messages > 0 {
		res.PostCommand = runPostCommand(ctx, j.postCommand, j.postCommandUser, j.to)
		if res.PostCommand.Error != "" || res.PostCommand.ExitCode != 0 {
			return fmt.Errorf("restore written, but post_command %s", res.PostCommand.Outcome())
		}
	}
	if res.Failed > 0 || len(res.Problems) > 0 {
		lw.describeFailures()
		msg := fmt.Sprintf("%d of %d messages could not be written", res.Failed, total)
		for _, ir := range res.Items {
			if ir.Outcome == OutcomeFailed {
				msg += fmt.Sprintf(" (first: %s: %s)", ir.Folder, ir.Error)
				break
			}
		}
		if len(res.Problems) > 0 {
			msg += fmt.Sprintf("; %d other problems (first: %s)", len(res.Problems), res.Problems[0])
		}
		return fmt.Errorf("%s; see items", msg)
	}
	return nil
}

// liveWriter writes a liveJob into its account.
type liveWriter struct {
	job    *liveJob
	res    *LiveResult
	target store.Account
	// snap is the account as it was before the restore; nil when missing.
	snap    *store.Snapshot
	w       store.Writer
	created []string
	// createdOwner is the owner of the first folder the restore created.
	createdOwner store.Owner
	notes        map[string]bool
}

// note adds a note to the result once.
func (lw *liveWriter) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if lw.notes == nil {
		lw.notes = map[string]bool{}
	}
	if !lw.notes[s] {
		lw.notes[s] = true
		lw.res.Notes = append(lw.res.Notes, s)
	}
}

// liveFolder returns the account's folder of that name, or nil.
func (lw *liveWriter) liveFolder(name string) *store.Folder {
	if lw.snap == nil {
		return nil
	}
	for i := range lw.snap.Folders {
		f := &lw.snap.Folders[i]
		if f.Name == name || (strings.EqualFold(name, store.Inbox) && f.Dir == "") {
			return f
		}
	}
	return nil
}

// owner is what a created directory or written file gets: the mode
// recorded in the backup (the default when unknown) and, in an account
// that exists, that account's owner and group, else the recorded ones.
func (lw *liveWriter) owner(recorded catalog.Owner, dir bool) store.Owner {
	o := mdOwner(recorded)
	if lw.snap != nil && lw.snap.Owner != (store.Owner{}) {
		o.UID, o.GID = lw.snap.Owner.UID, lw.snap.Owner.GID
		if o.Mode&fs.ModePerm == 0 {
			o.Mode = lw.snap.Owner.Mode
			if !dir {
				o.Mode &= 0o666
			}
		}
	}
	return o
}

// folder writes one destination folder. A live folder is written as it
// is (its directories, owners and modes untouched); a missing one is
// created.
func (lw *liveWriter) folder(ctx context.Context, lf *liveFolder) (err error) {
	j := lw.job
	fr := FolderResult{Name: lf.name, NameB64: names.B64(lf.name)}
	defer func() {
		lw.res.Folders = append(lw.res.Folders, fr)
		lw.res.Messages += fr.Messages
		lw.res.Skipped += fr.Skipped
		lw.res.Bytes += fr.Bytes
	}()
	live := lw.liveFolder(lf.name)
	var dirOwner catalog.Owner
	var dir string
	switch {
	case live != nil:
		dir = live.Dir
	case lf.source != nil && lf.source.Name == lf.name:
		dir, dirOwner = lf.source.Dir, lf.source.Owner
	default:
		if dir, err = folderDir(j.st, lf.name); err != nil {
			return err
		}
		if lf.source != nil {
			dirOwner = lf.source.Owner
		}
	}
	fr.Created = live == nil
	table := []string(nil)
	if live != nil {
		table = slices.Clone(live.Keywords)
	}
	if !j.dryRun {
		// The Writer opens every directory without following a link and
		// refuses one in the way (the Maildir driver's ErrSymlink).
		if live == nil {
			o := lw.owner(dirOwner, true)
			if err := lw.w.Folder(store.FolderSpec{Name: lf.name, Dir: dir, Owner: o}); err != nil {
				lw.folderFailed(lf, &fr, fmt.Errorf("creating folder %s: %w", lf.name, err))
				return nil
			}
			if lw.createdOwner == (store.Owner{}) {
				lw.createdOwner = o
			}
		}
		unlock, err := lw.w.Lock(dir)
		if err != nil {
			lw.folderFailed(lf, &fr, fmt.Errorf("folder %s: %w", lf.name, err))
			return nil
		}
		defer func() {
			if uerr := unlock(); uerr != nil {
				lw.problem(&fr, fmt.Errorf("folder %s: %w", lf.name, uerr))
			}
		}()
		// Read the table again under the lock: Dovecot may have added a
		// keyword since the scan.
		if table, err = lw.keywords(dir); err != nil {
			lw.folderFailed(lf, &fr, fmt.Errorf("folder %s: %w", lf.name, err))
			return nil
		}
		if fr.Created {
			lw.created = append(lw.created, lf.name)
		}
	}
	before := slices.Clone(table)
	present := newPresence(j.st, lw.target, live)
	// Outcomes are kept in the order of the puts; todo lists the puts to
	// write with their keyword letters.
	irs := make([]ItemResult, len(lf.puts))
	defer func() {
		for _, ir := range irs {
			if ir.Outcome != "" {
				lw.item(ir)
			}
		}
	}()
	var todos []liveTodo
	for i, p := range lf.puts {
		if err := ctx.Err(); err != nil {
			return err
		}
		irs[i] = newItemResult(lf, p)
		have, err := present.has(p.item)
		switch {
		case err != nil:
			lw.fail(&fr, &irs[i], err)
			continue
		case have:
			fr.Skipped++
			irs[i].Outcome = OutcomePresent
			j.progress.ItemsDone.Add(1)
			continue
		}
		if !j.keepCopies {
			present.add(p.item)
		}
		todos = append(todos, liveTodo{i: i, letters: lw.letters(lf.name, &table, p.keywords)})
	}
	if !j.dryRun && !slices.Equal(table, before) {
		if err := lw.w.WriteKeywords(dir, table, fileOwner(dirOwnerOf(live, dirOwner))); err != nil {
			// Without their table, the letters of the messages to write
			// would mean nothing (or something else) to Dovecot.
			err = fmt.Errorf("folder %s: %w", lf.name, err)
			fr.Error = err.Error()
			for _, t := range todos {
				lw.fail(&fr, &irs[t.i], err)
			}
			return nil
		}
	}
	if j.dryRun {
		for _, t := range todos {
			p := lf.puts[t.i]
			irs[t.i].Name = j.st.MessageName(j.st.NewID(p.item.Base), p.flags, t.letters)
			irs[t.i].Outcome = OutcomeWouldRestore
			fr.Messages++
			fr.Bytes += p.item.Size
			j.progress.ItemsDone.Add(1)
		}
		return nil
	}
	return lw.writeMessages(ctx, dir, lf, todos, irs, &fr)
}

// liveTodo is a message to write: its index in the folder's puts and its
// keyword letters there.
type liveTodo struct {
	i       int
	letters string
}

// liveWorkers read, stage and publish messages in parallel: a restore
// waits mostly on file creation and fsync.
const liveWorkers = 8

// writeMessages writes a folder's messages with liveWorkers goroutines,
// each staging messages in tmp/ and publishing them by batches, which
// share the cost of making them durable. A message that cannot be written
// is recorded in irs and the others go on; a cancel stops them all.
func (lw *liveWriter) writeMessages(ctx context.Context, dir string, lf *liveFolder, todos []liveTodo, irs []ItemResult, fr *FolderResult) error {
	j := lw.job
	var mu sync.Mutex
	fail := func(i int, err error) {
		mu.Lock()
		lw.fail(fr, &irs[i], err)
		mu.Unlock()
	}
	done := func(i int) {
		it := lf.puts[i].item
		mu.Lock()
		irs[i].Outcome = OutcomeRestored
		fr.Messages++
		fr.Bytes += it.Size
		mu.Unlock()
		j.progress.ItemsDone.Add(1)
		j.progress.BytesDone.Add(it.Size)
	}
	next := make(chan liveTodo)
	var wg sync.WaitGroup
	for w := 0; w < min(liveWorkers, len(todos)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []store.Staged
			var inBatch []int
			publish := func() {
				for k, err := range lw.w.Publish(batch) {
					if err != nil {
						fail(inBatch[k], err)
					} else {
						done(inBatch[k])
					}
				}
				batch, inBatch = batch[:0], inBatch[:0]
			}
			var buf []byte
			for t := range next {
				p := lf.puts[t.i]
				it := p.item
				name := j.st.MessageName(j.st.NewID(it.Base), p.flags, t.letters)
				irs[t.i].Name = name
				var err error
				if buf, err = j.r.AppendBlob(buf[:0], it.Blob); err != nil {
					fail(t.i, err)
					continue
				}
				sub := "cur"
				if it.Subdir == "new" && p.flags == "" && t.letters == "" {
					sub = "new"
				}
				st, err := lw.w.Stage(dir, sub, name, bytes.NewReader(buf), time.Unix(0, it.MTime), lw.owner(it.Owner, false))
				if err != nil {
					fail(t.i, err)
					continue
				}
				batch, inBatch = append(batch, st), append(inBatch, t.i)
				if len(batch) == publishBatch {
					publish()
				}
			}
			if ctx.Err() != nil {
				lw.w.Discard(batch)
				return
			}
			publish()
		}()
	}
feed:
	for _, t := range todos {
		select {
		case next <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// dirOwnerOf is the owner a folder's metadata files derive from.
func dirOwnerOf(live *store.Folder, recorded catalog.Owner) catalog.Owner {
	if live != nil {
		return catalog.Owner{UID: live.Owner.UID, GID: live.Owner.GID, Mode: uint32(live.Owner.Mode)}
	}
	return recorded
}

// newItemResult is the result entry of a put into a destination folder.
func newItemResult(lf *liveFolder, p put) ItemResult {
	ir := ItemResult{ID: p.item.ID, Folder: lf.name, FolderB64: names.B64(lf.name), Size: p.item.Size, blob: p.item.Blob, mtime: p.item.MTime}
	if p.item.Folder != lf.name {
		ir.FromFolder, ir.FromFolderB64 = p.item.Folder, names.B64(p.item.Folder)
	}
	return ir
}

// item records a message's outcome.
func (lw *liveWriter) item(ir ItemResult) {
	if lw.job.listItems || ir.Outcome == OutcomeFailed {
		lw.res.Items = append(lw.res.Items, ir)
	}
}

// fail records a message that could not be written.
func (lw *liveWriter) fail(fr *FolderResult, ir *ItemResult, err error) {
	ir.Outcome, ir.Error = OutcomeFailed, err.Error()
	fr.Failed++
	lw.res.Failed++
	lw.job.progress.ItemsDone.Add(1)
}

// folderFailed records every message of a folder that could not be
// created, locked or read, and the folder's error: the other folders go
// on.
func (lw *liveWriter) folderFailed(lf *liveFolder, fr *FolderResult, err error) {
	fr.Error = err.Error()
	for _, p := range lf.puts {
		ir := newItemResult(lf, p)
		lw.fail(fr, &ir, err)
		lw.item(ir)
	}
}

// problem records a failure that is no message's (a lock taken over).
func (lw *liveWriter) problem(fr *FolderResult, err error) {
	if fr.Error == "" {
		fr.Error = err.Error()
	}
	lw.res.Problems = append(lw.res.Problems, err.Error())
}

// keywords reads a folder's keyword table as it is now.
func (lw *liveWriter) keywords(dir string) ([]string, error) { return lw.w.Keywords(dir) }

// letters maps a message's keywords (and the job's tag) to letters of the
// folder's table, appending the names it lacks. A keyword that finds no
// room is dropped and noted; where the tag finds none, the fallback is
// used.
func (lw *liveWriter) letters(folder string, table *[]string, keywords []string) string {
	var names []string
	for _, k := range keywords {
		if k == "" || strings.HasPrefix(k, "?") {
			continue // a letter the backed-up table did not name
		}
		if addKeyword(lw.job.st.MaxKeywords(), table, k) {
			names = append(names, k)
		} else {
			lw.note("folder %s: its keyword table is full (%d letters): keyword %q was not restored", folder, lw.job.st.MaxKeywords(), k)
		}
	}
	if tag := lw.job.tag; tag != "" {
		switch {
		case addKeyword(lw.job.st.MaxKeywords(), table, tag):
			names = append(names, tag)
			lw.res.Keyword = tag
		case lw.job.fallback != "" && addKeyword(lw.job.st.MaxKeywords(), table, lw.job.fallback):
			names = append(names, lw.job.fallback)
			lw.note("folder %s: its keyword table is full (%d letters): the restored messages are tagged %q instead of %q",
				folder, lw.job.st.MaxKeywords(), lw.job.fallback, tag)
		default:
			lw.note("folder %s: its keyword table is full (%d letters) and has neither %q nor %q: the restored messages carry no tag",
				folder, lw.job.st.MaxKeywords(), tag, lw.job.fallback)
		}
	}
	letters, err := lw.job.st.KeywordLetters(*table, names)
	if err != nil {
		// Cannot happen: every name was added above.
		lw.note("folder %s: %v", folder, err)
		return ""
	}
	return letters
}

// addKeyword makes sure a keyword is in the table, appending it when there
// is room; it reports whether the keyword is there.
func addKeyword(maxKeywords int, table *[]string, k string) bool {
	if slices.Contains(*table, k) {
		return true
	}
	if len(*table) >= maxKeywords || strings.ContainsAny(k, " \n\r\x00") {
		return false
	}
	*table = append(*table, k)
	return true
}

// subscribe adds the folders the restore created to the subscriptions.
func (lw *liveWriter) subscribe() error {
	if len(lw.created) == 0 {
		return nil
	}
	var have []string
	// The file keeps its owner; a new one gets the account's (or, in an
	// account the restore created, its folders') without search bits.
	o := lw.createdOwner
	o.Mode &^= 0o111
	if lw.snap != nil {
		have = lw.snap.Subscriptions
		o = lw.owner(catalog.Owner{}, false)
		if lw.snap.SubscriptionsOwner != (store.Owner{}) {
			o = lw.snap.SubscriptionsOwner
		}
	}
	names := slices.Clone(have)
	for _, n := range lw.created {
		if !slices.Contains(names, n) {
			names = append(names, n)
			lw.res.Subscribed = append(lw.res.Subscribed, n)
		}
	}
	if len(names) == len(have) {
		return nil
	}
	return lw.w.WriteSubscriptions(names, nil, o)
}

// presence recognises a message already in a live folder by its content:
// files of the same size are hashed and compared with the blob id (the
// SHA-256 of the content).
type presence struct {
	st     store.Writable
	a      store.Account
	f      *store.Folder
	bySize map[int64][]*store.Message
	hashed map[*store.Message]catalog.BlobID
	added  map[catalog.BlobID]bool
}

func newPresence(st store.Writable, a store.Account, f *store.Folder) *presence {
	p := &presence{st: st, a: a, f: f, bySize: map[int64][]*store.Message{}, hashed: map[*store.Message]catalog.BlobID{}, added: map[catalog.BlobID]bool{}}
	if f != nil {
		for i := range f.Messages {
			m := &f.Messages[i]
			p.bySize[m.Size] = append(p.bySize[m.Size], m)
		}
	}
	return p
}

// has reports whether the folder holds the item's content, or the
// restore already wrote it there.
func (p *presence) has(it *catalog.Item) (bool, error) {
	if p.added[it.Blob] {
		return true, nil
	}
	for _, m := range p.bySize[it.Size] {
		id, ok := p.hashed[m]
		if !ok {
			f, err := p.st.Open(p.a, p.f, m)
			if errors.Is(err, store.ErrVanished) {
				continue
			}
			if err != nil {
				return false, fmt.Errorf("reading %s/%s: %w", p.f.Name, m.Name, err)
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return false, fmt.Errorf("reading %s/%s: %w", p.f.Name, m.Name, err)
			}
			copy(id[:], h.Sum(nil))
			p.hashed[m] = id
		}
		if id == it.Blob {
			return true, nil
		}
	}
	return false, nil
}

// add remembers content the restore writes into the folder.
func (p *presence) add(it *catalog.Item) { p.added[it.Blob] = true }

// groupByFolder gathers puts into destination folders, in the order they
// first appear; source returns the backed-up folder for a destination.
func groupByFolder(puts []put, dest func(put) string, source func(put) *catalog.FolderVersion) []liveFolder {
	var out []liveFolder
	idx := map[string]int{}
	for _, p := range puts {
		name := dest(p)
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, liveFolder{name: name, source: source(p)})
		}
		out[i].puts = append(out[i].puts, p)
	}
	return out
}
