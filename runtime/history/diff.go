package history

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/names"
)

// Summary is what a listing shows of a message besides its place and
// flags: its sender, subject (RFC 2047 decoded) and Date header (nil when
// missing or unreadable), as recorded at backup time.
type Summary struct {
	Sender  string     `json:"sender"`
	Subject string     `json:"subject"`
	Date    *time.Time `json:"date,omitempty"`
}

// Summaries returns the summaries of messages by content; a message
// missing from the map is shown without one.
type Summaries func(ids []catalog.BlobID) (map[catalog.BlobID]Summary, error)

// Diff says what changed in an account between two instants.
type Diff struct {
	// Account is the account's name for display; AccountB64 its exact
	// bytes when it is not UTF-8.
	Account    string    `json:"account"`
	AccountB64 string    `json:"account_b64,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Added, Deleted, Moved and Reflagged count the messages of each kind.
	Added     int `json:"added"`
	Deleted   int `json:"deleted"`
	Moved     int `json:"moved"`
	Reflagged int `json:"reflagged"`
	// Folders lists, by folder name, the folders with a change.
	Folders []FolderDiff `json:"folders"`
}

// FolderDiff is what changed in one folder. A moved message is listed in
// both folders: as moved out of the one it left, moved in to the other.
type FolderDiff struct {
	Folder    string    `json:"folder"`
	FolderB64 string    `json:"folder_b64,omitempty"`
	Added     []Message `json:"added,omitempty"`
	Deleted   []Message `json:"deleted,omitempty"`
	MovedIn   []Message `json:"moved_in,omitempty"`
	MovedOut  []Message `json:"moved_out,omitempty"`
	Reflagged []Message `json:"reflagged,omitempty"`
}

// Message is one message of a diff.
type Message struct {
	// ID is the item id of the message's version at the diff's end (at
	// its start, for a deleted message): `restore item` takes it.
	ID int64 `json:"id"`
	Summary
	Received time.Time `json:"received"`
	Size     int64     `json:"size"`
	Flags    string    `json:"flags"`
	Keywords []string  `json:"keywords"`
	// OldFlags and OldKeywords are a re-flagged message's flags at the
	// diff's start.
	OldFlags    *string  `json:"old_flags,omitempty"`
	OldKeywords []string `json:"old_keywords,omitempty"`
	// Other is the folder a moved message came from (moved in) or went to
	// (moved out).
	Other    string `json:"other_folder,omitempty"`
	OtherB64 string `json:"other_folder_b64,omitempty"`

	blob catalog.BlobID
}

// ErrBadRange is returned when the end of a diff is before its start.
var ErrBadRange = errors.New("the end of the range is before its start")

// Compare says what changed in an account from one instant to another:
// messages are the same when they keep their folder and Maildir base name
// (a flag change renames the file but keeps its base), moved when their
// content left one folder and is found in another, and otherwise added or
// deleted.
func Compare(c *catalog.Catalog, account string, from, to time.Time, sum Summaries) (*Diff, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("account %s: %w: -to %s is before -from %s", names.Arg(account), ErrBadRange,
			to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	a, err := c.AccountByName(account)
	if err != nil {
		return nil, err
	}
	if err := a.CheckWhole(from.UnixNano()); err != nil {
		return nil, err
	}
	before, err := c.StateAt(account, from.UnixNano())
	if err != nil {
		return nil, err
	}
	after, err := c.StateAt(account, to.UnixNano())
	if err != nil {
		return nil, err
	}
	d := &Diff{From: from.UTC(), To: to.UTC()}
	d.Account, d.AccountB64 = names.Fields(account)
	m := newMatcher(before.Items, after.Items)
	folders := map[string]*FolderDiff{}
	folder := func(name string) *FolderDiff {
		f, ok := folders[name]
		if !ok {
			f = &FolderDiff{Folder: name, FolderB64: names.B64(name)}
			folders[name] = f
		}
		return f
	}
	for _, p := range m.same {
		if p.old.Flags != p.new.Flags || !slices.Equal(p.old.Keywords, p.new.Keywords) {
			msg := message(p.new)
			msg.OldFlags, msg.OldKeywords = &p.old.Flags, p.old.Keywords
			f := folder(p.new.Folder)
			f.Reflagged = append(f.Reflagged, msg)
			d.Reflagged++
		}
	}
	for _, p := range m.moved {
		in, out := message(p.new), message(p.old)
		in.Other, in.OtherB64 = p.old.Folder, names.B64(p.old.Folder)
		out.Other, out.OtherB64 = p.new.Folder, names.B64(p.new.Folder)
		folder(p.new.Folder).MovedIn = append(folder(p.new.Folder).MovedIn, in)
		folder(p.old.Folder).MovedOut = append(folder(p.old.Folder).MovedOut, out)
		d.Moved++
	}
	for _, it := range m.deleted {
		f := folder(it.Folder)
		f.Deleted = append(f.Deleted, message(it))
		d.Deleted++
	}
	for _, it := range m.added {
		f := folder(it.Folder)
		f.Added = append(f.Added, message(it))
		d.Added++
	}
	for _, f := range folders {
		d.Folders = append(d.Folders, *f)
	}
	slices.SortFunc(d.Folders, func(x, y FolderDiff) int { return cmp.Compare(x.Folder, y.Folder) })
	if sum != nil {
		if err := d.summarise(sum); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// summarise fills in the summaries of every listed message.
func (d *Diff) summarise(sum Summaries) error {
	each := func(fn func(*Message)) {
		for fi := range d.Folders {
			f := &d.Folders[fi]
			for _, list := range [][]Message{f.Added, f.Deleted, f.MovedIn, f.MovedOut, f.Reflagged} {
				for i := range list {
					fn(&list[i])
				}
			}
		}
	}
	seen := map[catalog.BlobID]bool{}
	var ids []catalog.BlobID
	each(func(m *Message) {
		if !seen[m.blob] {
			seen[m.blob] = true
			ids = append(ids, m.blob)
		}
	})
	got, err := sum(ids)
	if err != nil {
		return err
	}
	each(func(m *Message) { m.Summary = got[m.blob] })
	return nil
}

func message(it *catalog.Item) Message {
	return Message{ID: it.ID, Received: ts(it.MTime), Size: it.Size, Flags: it.Flags, Keywords: it.Keywords, blob: it.Blob}
}

type pair struct{ old, new *catalog.Item }

// matcher pairs the messages of two states of an account.
type matcher struct {
	same, moved    []pair
	deleted, added []*catalog.Item
}

func newMatcher(before, after []catalog.Item) *matcher {
	type key struct{ folder, base string }
	m := &matcher{}
	byKey := make(map[key]*catalog.Item, len(before))
	for i := range before {
		it := &before[i]
		byKey[key{it.Folder, it.Base}] = it
	}
	var rest []*catalog.Item
	for i := range after {
		it := &after[i]
		k := key{it.Folder, it.Base}
		if old, ok := byKey[k]; ok {
			delete(byKey, k)
			m.same = append(m.same, pair{old, it})
			continue
		}
		rest = append(rest, it)
	}
	// What is left before, by content: a message found after in another
	// folder moved there; in the same folder under another base name it
	// is the same message written again (a copy and an expunge).
	byBlob := map[catalog.BlobID][]*catalog.Item{}
	for _, it := range byKey {
		byBlob[it.Blob] = append(byBlob[it.Blob], it)
	}
	for _, list := range byBlob {
		slices.SortFunc(list, func(x, y *catalog.Item) int { return cmp.Compare(x.ID, y.ID) })
	}
	for _, it := range rest {
		cands := byBlob[it.Blob]
		if len(cands) == 0 {
			m.added = append(m.added, it)
			continue
		}
		j := slices.IndexFunc(cands, func(c *catalog.Item) bool { return c.Folder == it.Folder })
		if j < 0 {
			j = 0
		}
		old := cands[j]
		byBlob[it.Blob] = slices.Delete(cands, j, j+1)
		if old.Folder == it.Folder {
			m.same = append(m.same, pair{old, it})
		} else {
			m.moved = append(m.moved, pair{old, it})
		}
	}
	for _, list := range byBlob {
		m.deleted = append(m.deleted, list...)
	}
	for _, list := range [][]*catalog.Item{m.deleted, m.added} {
		slices.SortFunc(list, func(x, y *catalog.Item) int { return cmp.Or(cmp.Compare(x.MTime, y.MTime), cmp.Compare(x.ID, y.ID)) })
	}
	return m
}
