package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// folderPool are the folders the workload creates, renames and deletes:
// nested ones (a child may be created before its parent, as clients do),
// non-ASCII ones (modified UTF-7 on disk) and one with '&', which modified
// UTF-7 escapes.
var folderPool = []string{
	"Archive", "Archive/2025", "Archive/2025/Q1", "Entwürfe", "Projects", "Projects/2026", "Projects/2026/Q1",
	"Sent", "Trash", "Junk", "Входящие", "日本語", "A&B", "Lists/go-nuts",
}

var (
	systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagFlagged, imap.FlagAnswered, imap.FlagDeleted, imap.FlagDraft}
	keywords    = []imap.Flag{"$Important", "Junk", "NonJunk", "$label1", "$Forwarded", "mailkeep_custom"}
)

// workload drives accounts the way mail clients and a mail transfer agent
// do: IMAP (one session per account), LMTP deliveries and doveadm save.
// Every choice comes from its seeded random source and from what Dovecot
// answers, so a seed gives the same history on every run.
type workload struct {
	t        *testing.T
	e        *env
	r        *rand.Rand
	accounts []string
	sess     map[string]*imapclient.Client
	// selected is the folder each session has selected ("" for none).
	selected map[string]string
	msgs     int
	// counts counts the operations by kind, for the test log.
	counts map[string]int
	// lastWrite is when the last operation that changes the store ended.
	lastWrite time.Time
}

func newWorkload(t *testing.T, e *env, seed uint64, accounts ...string) *workload {
	w := &workload{t: t, e: e, r: rand.New(rand.NewPCG(seed, 0x6d61696c6b656570)), accounts: accounts,
		sess: map[string]*imapclient.Client{}, selected: map[string]string{}, counts: map[string]int{}}
	w.login()
	t.Cleanup(func() { w.logout() })
	return w
}

// login opens an IMAP session per account.
func (w *workload) login() {
	for _, a := range w.accounts {
		c, err := Dial(w.e.dc.IMAPAddr(), a, w.e.users[a])
		if err != nil {
			w.t.Fatal(err)
		}
		w.sess[a] = c
		w.selected[a] = ""
	}
	w.lastWrite = time.Now() // a first login creates the Maildir
}

// logout ends every session.
func (w *workload) logout() {
	for a, c := range w.sess {
		c.Logout().Wait()
		c.Close()
		delete(w.sess, a)
	}
}

// run performs n operations.
func (w *workload) run(n int) {
	w.t.Helper()
	for i := 0; i < n; i++ {
		w.step()
	}
}

// summary renders the operation counts.
func (w *workload) summary() string {
	var kinds []string
	for k, n := range w.counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}

func (w *workload) fatal(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf(format, args...)
}

// step performs one operation on a random account.
func (w *workload) step() {
	w.t.Helper()
	acct := w.accounts[w.r.IntN(len(w.accounts))]
	kinds := []struct {
		name   string
		weight int
		do     func(string) bool
	}{
		{"append", 22, w.append},
		{"lmtp", 12, w.lmtp},
		{"doveadm save", 5, w.save},
		{"store flags", 24, w.storeFlags},
		{"move", 9, w.move},
		{"copy", 7, w.copy},
		{"expunge", 9, w.expunge},
		{"create", 5, w.create},
		{"subscribe", 3, w.subscribe},
		{"rename", 2, w.rename},
		{"delete", 2, w.delete},
	}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	n := w.r.IntN(total)
	for _, k := range kinds {
		if n < k.weight {
			if !k.do(acct) {
				// Nothing to act on (no message, no folder): deliver.
				k.name = "append"
				w.append(acct)
			}
			w.counts[k.name]++
			w.lastWrite = time.Now()
			return
		}
		n -= k.weight
	}
}

// folders lists an account's selectable folders, sorted.
func (w *workload) folders(acct string) []string {
	boxes, err := w.sess[acct].List("", "*", nil).Collect()
	if err != nil {
		w.fatal("LIST %s: %v", acct, err)
	}
	var out []string
	for _, b := range boxes {
		if !slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) && !slices.Contains(b.Attrs, imap.MailboxAttrNonExistent) {
			out = append(out, b.Mailbox)
		}
	}
	sort.Strings(out)
	return out
}

func (w *workload) pick(list []string) string { return list[w.r.IntN(len(list))] }

// sel selects a folder read-write and returns its UIDs.
func (w *workload) sel(acct, folder string) []imap.UID {
	c := w.sess[acct]
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		w.fatal("SELECT %s %q: %v", acct, folder, err)
	}
	w.selected[acct] = folder
	data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		w.fatal("UID SEARCH %s %q: %v", acct, folder, err)
	}
	return data.AllUIDs()
}

// unselect leaves the selected folder, so that it can be renamed or
// deleted.
func (w *workload) unselect(acct string) {
	if w.selected[acct] == "" {
		return
	}
	if err := w.sess[acct].Unselect().Wait(); err != nil {
		w.fatal("UNSELECT %s: %v", acct, err)
	}
	w.selected[acct] = ""
}

// withMessages picks a folder holding messages and some of its UIDs
// (1 to max); ok is false when the account has no message.
func (w *workload) withMessages(acct string, max int) (folder string, uids []imap.UID, ok bool) {
	folders := w.folders(acct)
	start := w.r.IntN(len(folders))
	for i := range folders {
		f := folders[(start+i)%len(folders)]
		all := w.sel(acct, f)
		if len(all) == 0 {
			continue
		}
		k := 1 + w.r.IntN(max)
		for j := 0; j < k; j++ {
			u := all[w.r.IntN(len(all))]
			if !slices.Contains(uids, u) {
				uids = append(uids, u)
			}
		}
		return f, uids, true
	}
	return "", nil, false
}

// randomFlags draws a few system flags (without \Deleted unless allowed)
// and keywords.
func (w *workload) randomFlags(deleted bool) []imap.Flag {
	var out []imap.Flag
	for _, f := range systemFlags {
		if (f != imap.FlagDeleted || deleted) && w.r.IntN(4) == 0 {
			out = append(out, f)
		}
	}
	for _, k := range keywords {
		if w.r.IntN(7) == 0 {
			out = append(out, k)
		}
	}
	return out
}

func (w *workload) message(to string) []byte {
	w.msgs++
	return SampleMessage(w.r, w.msgs, to)
}

// append APPENDs a message with flags and an INTERNALDATE in the past.
func (w *workload) append(acct string) bool {
	folder := w.pick(w.folders(acct))
	msg := w.message(acct)
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(w.r.IntN(2*365*86400)) * time.Second)
	cmd := w.sess[acct].Append(folder, int64(len(msg)), &imap.AppendOptions{Flags: w.randomFlags(false), Time: date})
	if _, err := cmd.Write(msg); err != nil {
		w.fatal("APPEND %s %q: %v", acct, folder, err)
	}
	if err := cmd.Close(); err != nil {
		w.fatal("APPEND %s %q: %v", acct, folder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		w.fatal("APPEND %s %q: %v", acct, folder, err)
	}
	return true
}

// lmtp delivers one message to one to three accounts at once.
func (w *workload) lmtp(acct string) bool {
	to := []string{acct}
	for _, a := range w.accounts {
		if a != acct && w.r.IntN(3) == 0 {
			to = append(to, a)
		}
	}
	if err := DeliverLMTP(w.e.dc.LMTPAddr(), "list@example.net", to, w.message(strings.Join(to, ", "))); err != nil {
		w.fatal("%v", err)
	}
	return true
}

// save stores a message in a folder with doveadm save.
func (w *workload) save(acct string) bool {
	folder := w.pick(w.folders(acct))
	if err := w.e.dc.SaveMessage(acct, folder, w.message(acct)); err != nil {
		w.fatal("%v", err)
	}
	return true
}

// storeFlags adds, removes or replaces flags and keywords.
func (w *workload) storeFlags(acct string) bool {
	folder, uids, ok := w.withMessages(acct, 3)
	if !ok {
		return false
	}
	ops := []imap.StoreFlagsOp{imap.StoreFlagsAdd, imap.StoreFlagsAdd, imap.StoreFlagsDel, imap.StoreFlagsSet}
	op := ops[w.r.IntN(len(ops))]
	flags := w.randomFlags(true)
	if len(flags) == 0 && op != imap.StoreFlagsSet {
		flags = []imap.Flag{keywords[w.r.IntN(len(keywords))]}
	}
	if err := w.sess[acct].Store(imap.UIDSetNum(uids...), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		w.fatal("UID STORE %s %q %v: %v", acct, folder, uids, err)
	}
	return true
}

// otherFolder picks a folder other than from.
func (w *workload) otherFolder(acct, from string) (string, bool) {
	var others []string
	for _, f := range w.folders(acct) {
		if f != from {
			others = append(others, f)
		}
	}
	if len(others) == 0 {
		return "", false
	}
	return w.pick(others), true
}

func (w *workload) move(acct string) bool {
	folder, uids, ok := w.withMessages(acct, 3)
	if !ok {
		return false
	}
	dest, ok := w.otherFolder(acct, folder)
	if !ok {
		return false
	}
	if _, err := w.sess[acct].Move(imap.UIDSetNum(uids...), dest).Wait(); err != nil {
		w.fatal("UID MOVE %s %q → %q: %v", acct, folder, dest, err)
	}
	return true
}

func (w *workload) copy(acct string) bool {
	folder, uids, ok := w.withMessages(acct, 2)
	if !ok {
		return false
	}
	dest, ok := w.otherFolder(acct, folder)
	if !ok {
		return false
	}
	if _, err := w.sess[acct].Copy(imap.UIDSetNum(uids...), dest).Wait(); err != nil {
		w.fatal("UID COPY %s %q → %q: %v", acct, folder, dest, err)
	}
	return true
}

// expunge marks messages \Deleted and expunges them: with UID EXPUNGE, or
// with EXPUNGE, which also removes messages marked earlier.
func (w *workload) expunge(acct string) bool {
	folder, uids, ok := w.withMessages(acct, 2)
	if !ok {
		return false
	}
	c := w.sess[acct]
	set := imap.UIDSetNum(uids...)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		w.fatal("UID STORE \\Deleted %s %q: %v", acct, folder, err)
	}
	var err error
	if w.r.IntN(2) == 0 {
		err = c.UIDExpunge(set).Close()
	} else {
		err = c.Expunge().Close()
	}
	if err != nil {
		w.fatal("EXPUNGE %s %q: %v", acct, folder, err)
	}
	return true
}

// create creates a folder of the pool and, mostly, subscribes to it.
func (w *workload) create(acct string) bool {
	have := w.folders(acct)
	var missing []string
	for _, f := range folderPool {
		if !slices.Contains(have, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return false
	}
	f := w.pick(missing)
	c := w.sess[acct]
	if err := c.Create(f, nil).Wait(); err != nil {
		w.fatal("CREATE %s %q: %v", acct, f, err)
	}
	if w.r.IntN(10) < 7 {
		if err := c.Subscribe(f).Wait(); err != nil {
			w.fatal("SUBSCRIBE %s %q: %v", acct, f, err)
		}
	}
	return true
}

// subscribe subscribes to or unsubscribes from a folder. (Dovecot refuses
// to subscribe to a folder that does not exist; subscriptions to missing
// folders are left behind by RENAME and DELETE.)
func (w *workload) subscribe(acct string) bool {
	f := w.pick(w.folders(acct))
	c := w.sess[acct]
	var err error
	if w.r.IntN(3) == 0 {
		err = c.Unsubscribe(f).Wait()
	} else {
		err = c.Subscribe(f).Wait()
	}
	if err != nil {
		w.fatal("(UN)SUBSCRIBE %s %q: %v", acct, f, err)
	}
	return true
}

// leaves are the folders other than INBOX without sub-folders.
func (w *workload) leaves(acct string) []string {
	boxes, err := w.sess[acct].List("", "*", nil).Collect()
	if err != nil {
		w.fatal("LIST %s: %v", acct, err)
	}
	var names, out []string
	for _, b := range boxes {
		names = append(names, b.Mailbox)
	}
	for _, b := range boxes {
		if b.Mailbox == "INBOX" || slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(b.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		child := false
		for _, n := range names {
			if strings.HasPrefix(n, b.Mailbox+"/") {
				child = true
			}
		}
		if !child {
			out = append(out, b.Mailbox)
		}
	}
	sort.Strings(out)
	return out
}

// rename renames a folder without sub-folders to an unused name.
func (w *workload) rename(acct string) bool {
	leaves := w.leaves(acct)
	have := w.folders(acct)
	var free []string
	for _, f := range folderPool {
		if !slices.Contains(have, f) && !strings.Contains(f, "/") {
			free = append(free, f)
		}
	}
	if len(leaves) == 0 || len(free) == 0 {
		return false
	}
	from, to := w.pick(leaves), w.pick(free)
	w.unselect(acct)
	if err := w.sess[acct].Rename(from, to, nil).Wait(); err != nil {
		w.fatal("RENAME %s %q → %q: %v", acct, from, to, err)
	}
	return true
}

// delete deletes a folder without sub-folders, with its messages.
func (w *workload) delete(acct string) bool {
	leaves := w.leaves(acct)
	if len(leaves) == 0 {
		return false
	}
	f := w.pick(leaves)
	w.unselect(acct)
	if err := w.sess[acct].Delete(f).Wait(); err != nil {
		w.fatal("DELETE %s %q: %v", acct, f, err)
	}
	return true
}
