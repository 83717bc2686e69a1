package restore

import (
	"fmt"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// FailedMessage is a message a restore could not write, named so that a
// person can find it: its folder, received date, sender and subject (from
// the catalog's header index, when the message is indexed), and why.
type FailedMessage struct {
	// ID is the catalog id (items.id) of the version restored.
	ID     int64  `json:"id"`
	Folder string `json:"folder"`
	// FolderB64 is Folder's exact bytes when they are not UTF-8.
	FolderB64 string `json:"folder_b64,omitempty"`
	// Name is the message's file name in the backup.
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Received is the received date (the file's mtime); Date the Date:
	// header, when it parsed.
	Received time.Time  `json:"received"`
	Date     *time.Time `json:"date,omitempty"`
	From     string     `json:"from,omitempty"`
	Subject  string     `json:"subject,omitempty"`
	Error    string     `json:"error"`
	// blob finds the headers once the restore is over.
	blob catalog.BlobID
}

// failed records a message that could not be written.
func (w *writer) failed(fr *FolderResult, fv *catalog.FolderVersion, it *catalog.Item, err error) {
	fr.Failed++
	w.res.FailedItems = append(w.res.FailedItems, FailedMessage{
		ID: it.ID, Folder: fv.Name, FolderB64: names.B64(fv.Name), Name: it.Name, Size: it.Size,
		Received: time.Unix(0, it.MTime).UTC(), Error: err.Error(), blob: it.Blob,
	})
}

// folderFailed records every message of a folder that could not be
// created or locked, and the folder's error.
func (w *writer) folderFailed(fr *FolderResult, fv *catalog.FolderVersion, items []*catalog.Item, err error) {
	fr.Error = err.Error()
	for _, it := range items {
		w.failed(fr, fv, it, err)
	}
	w.opts.Progress.ItemsDone.Add(int64(len(items)))
}

// problem records a failure that is no message's: a folder's keyword
// table or UID list, its lock, the subscriptions.
func (w *writer) problem(fr *FolderResult, err error) {
	if fr != nil && fr.Error == "" {
		fr.Error = err.Error()
	}
	w.res.Problems = append(w.res.Problems, err.Error())
}

// describeFailures fills in the sender, subject and date of the messages
// that failed from the header index; a message not indexed keeps its
// folder, name and received date.
func (w *writer) describeFailures() {
	failed := w.res.FailedItems
	err := describe(w.r, len(failed), func(i int) catalog.BlobID { return failed[i].blob }, func(i int, h catalog.Headers) {
		failed[i].From, failed[i].Subject, failed[i].Date = h.From, h.Subject, headerDate(h)
	})
	if err != nil {
		w.res.Problems = append(w.res.Problems, err.Error())
	}
}

// describeFailures is writer.describeFailures for a granular restore's
// failed items.
func (lw *liveWriter) describeFailures() {
	var failed []*ItemResult
	for i := range lw.res.Items {
		if ir := &lw.res.Items[i]; ir.Outcome == OutcomeFailed {
			received := time.Unix(0, ir.mtime).UTC()
			ir.Received = &received
			failed = append(failed, ir)
		}
	}
	err := describe(lw.job.r, len(failed), func(i int) catalog.BlobID { return failed[i].blob }, func(i int, h catalog.Headers) {
		failed[i].From, failed[i].Subject, failed[i].Date = h.From, h.Subject, headerDate(h)
	})
	if err != nil {
		lw.res.Problems = append(lw.res.Problems, err.Error())
	}
}

// describe looks up the headers of n failed messages (blob gives the
// i-th one's blob) in the header index and hands those it has to set.
func describe(r *repo.Repo, n int, blob func(int) catalog.BlobID, set func(int, catalog.Headers)) error {
	if n == 0 {
		return nil
	}
	ids := make([]catalog.BlobID, n)
	for i := range ids {
		ids[i] = blob(i)
	}
	hs, err := r.Catalog.HeadersOf(ids)
	if err != nil {
		return fmt.Errorf("reading the headers of the messages that failed: %w", err)
	}
	for i, id := range ids {
		if h, ok := hs[id]; ok {
			set(i, h)
		}
	}
	return nil
}

// headerDate is a message's Date: header, nil when it did not parse.
func headerDate(h catalog.Headers) *time.Time {
	if h.Date == 0 {
		return nil
	}
	d := time.Unix(0, h.Date).UTC()
	return &d
}

// failure is the error of a restore that wrote what it could but not
// everything; nil when nothing failed.
func (w *writer) failure() error {
	res := w.res
	if res.Failed == 0 && len(res.Problems) == 0 {
		return nil
	}
	msg := fmt.Sprintf("restore of %s into %s incomplete: %d of %d messages could not be written", res.Account, res.To, res.Failed, res.Messages+res.Skipped+res.Failed)
	if len(res.FailedItems) > 0 {
		f := res.FailedItems[0]
		msg += fmt.Sprintf(" (first: %s/%s: %s)", f.Folder, f.Name, f.Error)
	}
	if len(res.Problems) > 0 {
		msg += fmt.Sprintf("; %d other problems (first: %s)", len(res.Problems), res.Problems[0])
	}
	return fmt.Errorf("%s; the result lists each", msg)
}
