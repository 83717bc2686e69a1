package restore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// A full restore writes a restore marker (Maildir: RestoreMarkerFile)
// into the account's root before anything else, and removes it once everything was written. A
// restore that finds the marker of the same state (same digest) in an
// account that now has mail knows that mail is its own, written by a
// full restore that was cut short (a SIGKILL, a message it could not
// write): it carries that full restore on — writing what is missing,
// then the UID lists and subscriptions — instead of merging, so that the
// result is the one an uninterrupted restore gives, UIDs included.

// markerHeader starts the marker's first line.
const markerHeader = "mailkeep full restore in progress: "

// marker is the content of the restore marker for a state.
func marker(st *State) []byte {
	return fmt.Appendf(nil, "%s%s as of %s\n%s\n", markerHeader, st.Account.Name,
		time.Unix(0, st.At).UTC().Format(time.RFC3339Nano), stateDigest(st))
}

// resumes reports whether a marker found in the target was written by a
// full restore of this state.
func resumes(found []byte, st *State) bool {
	lines := strings.Split(strings.TrimSpace(string(found)), "\n")
	return len(lines) == 2 && strings.HasPrefix(lines[0], markerHeader) && lines[1] == stateDigest(st)
}

// stateDigest is a SHA-256 of everything a full restore of a state
// writes: its folders with their UID state, keyword tables and owners,
// its messages with their names, contents, UIDs, dates and owners, and
// the subscriptions. The instant is left out: "last" is a new instant at
// every run, for the same state.
func stateDigest(st *State) string {
	h := sha256.New()
	fmt.Fprintf(h, "account %q\n", st.Account.Name)
	if v := st.Version; v != nil {
		fmt.Fprintf(h, "subscriptions %x owner %v\n", sha256.Sum256(v.Subscriptions), v.Owner)
	}
	folders := slices.Clone(st.Folders)
	slices.SortFunc(folders, func(a, b catalog.FolderVersion) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range folders {
		fmt.Fprintf(h, "folder %q %q %d %d %q %q %v\n", f.Name, f.Dir, f.UIDValidity, f.NextUID, f.GUID, f.Keywords, f.Owner)
	}
	items := make([]*catalog.Item, len(st.Items))
	for i := range st.Items {
		items[i] = &st.Items[i]
	}
	slices.SortFunc(items, func(a, b *catalog.Item) int {
		if c := strings.Compare(a.Folder, b.Folder); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, it := range items {
		fmt.Fprintf(h, "item %q %q %q %x %d %d %v\n", it.Folder, it.Subdir, it.Name, it.Blob[:], it.UID, it.MTime, it.Owner)
	}
	return hex.EncodeToString(h.Sum(nil))
}
