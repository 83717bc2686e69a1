package e2e

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Snapshot is what an IMAP client sees of an account: every folder with
// its UIDVALIDITY, UIDNEXT and messages, and the subscriptions.
type Snapshot struct {
	// Account is the login the snapshot was taken with.
	Account string
	// Folders are sorted by name (INBOX first).
	Folders []Folder
	// Subscribed lists the subscribed folder names, sorted; a subscription
	// may name a folder that does not exist.
	Subscribed []string
}

// Folder is one folder of a Snapshot.
type Folder struct {
	Name        string
	UIDValidity uint32
	UIDNext     uint32
	// Messages are sorted by UID.
	Messages []Message
}

// Message is one message of a Folder.
type Message struct {
	UID uint32
	// Flags are the system flags and keywords, sorted, without \Recent
	// (which belongs to a session, not to the message).
	Flags        []string
	InternalDate time.Time
	Size         int64
	// Body is the whole message, RFC822 (BODY.PEEK[], which does not set
	// \Seen).
	Body []byte
}

// Messages counts the messages of every folder.
func (s *Snapshot) Messages() int {
	n := 0
	for _, f := range s.Folders {
		n += len(f.Messages)
	}
	return n
}

// Folder returns the folder of that name, or nil.
func (s *Snapshot) Folder(name string) *Folder {
	for i := range s.Folders {
		if s.Folders[i].Name == name {
			return &s.Folders[i]
		}
	}
	return nil
}

// Dial connects to an IMAP server without TLS and logs in.
func Dial(addr, user, password string) (*imapclient.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("IMAP %s: %w", addr, err)
	}
	c := imapclient.New(conn, nil)
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP %s: greeting: %w", addr, err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP %s: login %s: %w", addr, user, err)
	}
	return c, nil
}

// TakeSnapshot logs in as user and reads the whole account: LIST and LIST
// (SUBSCRIBED), then for every folder EXAMINE (read-only, so that reading
// changes nothing) and UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE
// BODY.PEEK[]).
func TakeSnapshot(addr, user, password string) (*Snapshot, error) {
	c, err := Dial(addr, user, password)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s, err := ReadSnapshot(c, user)
	if err != nil {
		return nil, err
	}
	if err := c.Logout().Wait(); err != nil {
		return nil, fmt.Errorf("IMAP logout %s: %w", user, err)
	}
	return s, nil
}

// ReadSnapshot reads an account through a logged-in client; it leaves no
// folder selected.
func ReadSnapshot(c *imapclient.Client, account string) (*Snapshot, error) {
	s := &Snapshot{Account: account, Subscribed: []string{}}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		return nil, fmt.Errorf("IMAP LIST %s: %w", account, err)
	}
	subs, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("IMAP LIST (SUBSCRIBED) %s: %w", account, err)
	}
	for _, b := range subs {
		s.Subscribed = append(s.Subscribed, b.Mailbox)
	}
	sort.Strings(s.Subscribed)
	for _, b := range boxes {
		if slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(b.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		f, err := readFolder(c, b.Mailbox)
		if err != nil {
			return nil, fmt.Errorf("IMAP %s, folder %q: %w", account, b.Mailbox, err)
		}
		s.Folders = append(s.Folders, *f)
	}
	sort.Slice(s.Folders, func(i, j int) bool { return folderLess(s.Folders[i].Name, s.Folders[j].Name) })
	return s, nil
}

func folderLess(a, b string) bool {
	if (a == "INBOX") != (b == "INBOX") {
		return a == "INBOX"
	}
	return a < b
}

func readFolder(c *imapclient.Client, name string) (*Folder, error) {
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("EXAMINE: %w", err)
	}
	f := &Folder{Name: name, UIDValidity: sel.UIDValidity, UIDNext: uint32(sel.UIDNext)}
	if sel.NumMessages > 0 {
		var all imap.UIDSet
		all.AddRange(1, 0) // 1:*
		body := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true,
			BodySection: []*imap.FetchItemBodySection{body}}).Collect()
		if err != nil {
			return nil, fmt.Errorf("UID FETCH: %w", err)
		}
		for _, m := range msgs {
			if m.FindBodySection(body) == nil {
				return nil, fmt.Errorf("UID FETCH: no body for UID %d", m.UID)
			}
			msg := Message{UID: uint32(m.UID), InternalDate: m.InternalDate.UTC(), Size: m.RFC822Size, Body: m.FindBodySection(body), Flags: []string{}}
			for _, fl := range m.Flags {
				if !strings.EqualFold(string(fl), `\Recent`) {
					msg.Flags = append(msg.Flags, string(fl))
				}
			}
			sort.Strings(msg.Flags)
			f.Messages = append(f.Messages, msg)
		}
		sort.Slice(f.Messages, func(i, j int) bool { return f.Messages[i].UID < f.Messages[j].UID })
	}
	if err := c.Unselect().Wait(); err != nil {
		return nil, fmt.Errorf("UNSELECT: %w", err)
	}
	return f, nil
}

// maxDiffs bounds the differences Diff lists.
const maxDiffs = 40

// Diff lists the differences between two snapshots (want, then got), at
// most a few dozen; nil when they are identical. The accounts' names are
// not compared, so that a snapshot of an account restored elsewhere (-to)
// compares with its source.
func Diff(want, got *Snapshot) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < maxDiffs {
			out = append(out, fmt.Sprintf(format, args...))
		} else if len(out) == maxDiffs {
			out = append(out, "... (more differences)")
		}
	}
	if !slices.Equal(want.Subscribed, got.Subscribed) {
		add("subscriptions: want %q, got %q", want.Subscribed, got.Subscribed)
	}
	for _, wf := range want.Folders {
		gf := got.Folder(wf.Name)
		if gf == nil {
			add("folder %q (%d messages) is missing", wf.Name, len(wf.Messages))
			continue
		}
		if wf.UIDValidity != gf.UIDValidity {
			add("folder %q: UIDVALIDITY %d, want %d", wf.Name, gf.UIDValidity, wf.UIDValidity)
		}
		if wf.UIDNext != gf.UIDNext {
			add("folder %q: UIDNEXT %d, want %d", wf.Name, gf.UIDNext, wf.UIDNext)
		}
		gm := map[uint32]*Message{}
		for i := range gf.Messages {
			gm[gf.Messages[i].UID] = &gf.Messages[i]
		}
		for i := range wf.Messages {
			w := &wf.Messages[i]
			g, ok := gm[w.UID]
			if !ok {
				add("folder %q: UID %d (%s) is missing", wf.Name, w.UID, w.describe())
				continue
			}
			delete(gm, w.UID)
			if !slices.Equal(w.Flags, g.Flags) {
				add("folder %q UID %d: flags %q, want %q", wf.Name, w.UID, g.Flags, w.Flags)
			}
			if !w.InternalDate.Equal(g.InternalDate) {
				add("folder %q UID %d: INTERNALDATE %s, want %s", wf.Name, w.UID, g.InternalDate.Format(time.RFC3339), w.InternalDate.Format(time.RFC3339))
			}
			if w.Size != g.Size || !bytes.Equal(w.Body, g.Body) {
				add("folder %q UID %d: body differs (%d bytes sha256 %x, want %d bytes sha256 %x)", wf.Name, w.UID,
					len(g.Body), sha256.Sum256(g.Body), len(w.Body), sha256.Sum256(w.Body))
			}
		}
		var extra []uint32
		for uid := range gm {
			extra = append(extra, uid)
		}
		slices.Sort(extra)
		for _, uid := range extra {
			add("folder %q: unexpected UID %d (%s)", wf.Name, uid, gm[uid].describe())
		}
	}
	for _, gf := range got.Folders {
		if want.Folder(gf.Name) == nil {
			add("unexpected folder %q (%d messages)", gf.Name, len(gf.Messages))
		}
	}
	return out
}

// describe names a message by its Message-ID header and size.
func (m *Message) describe() string {
	id := HeaderValue(m.Body, "Message-ID")
	if id == "" {
		id = "no Message-ID"
	}
	return fmt.Sprintf("%s, %d bytes", id, len(m.Body))
}

// HeaderValue returns the first value of a header field of a raw message
// ("" when absent); folded lines are joined.
func HeaderValue(msg []byte, name string) string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		for j := i + 1; j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "\t")); j++ {
			v += " " + strings.TrimSpace(lines[j])
		}
		return strings.TrimSpace(v)
	}
	return ""
}

// Summary renders a snapshot in a few lines for people: one per folder
// with its message count, flags in use and subscription.
func (s *Snapshot) Summary() string {
	var b strings.Builder
	subs := map[string]bool{}
	for _, n := range s.Subscribed {
		subs[n] = true
	}
	for _, f := range s.Folders {
		flags := map[string]int{}
		for _, m := range f.Messages {
			for _, fl := range m.Flags {
				flags[fl]++
			}
		}
		var fl []string
		for k, n := range flags {
			fl = append(fl, fmt.Sprintf("%s×%d", k, n))
		}
		sort.Strings(fl)
		sub := " "
		if subs[f.Name] {
			sub = "S"
		}
		fmt.Fprintf(&b, "  %s %-22s %4d messages  UIDVALIDITY %d UIDNEXT %-4d %s\n", sub, f.Name, len(f.Messages), f.UIDValidity, f.UIDNext, strings.Join(fl, " "))
	}
	return b.String()
}
