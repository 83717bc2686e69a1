package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The mutation helpers change a store the way a mail server and its users
// do, for property tests and benchmarks. Each is deterministic for a given
// store and seed: it lists accounts, folders and files in sorted order and
// draws its choices from the seed. Message files keep deterministic mtimes
// (a rename keeps the mtime; a delivery gets one just after the newest
// message in the store); directories and rewritten dovecot-uidlist files get
// the kernel's clock, as with a real Dovecot. dovecot-uidlist is rewritten
// under dovecot-uidlist.lock, as Dovecot does.

// RenameFlags changes the flags of round(fraction·N) of the store's N
// messages by renaming their files: a message in new/ moves to cur/ (marked
// seen half of the time), a message in cur/ gets one of S, F or R added or
// removed. Base names, and so dovecot-uidlist, do not change. It returns the
// number of files renamed.
func RenameFlags(root string, fraction float64, seed int64) (int, error) {
	_, all, err := scanForMutation(root, fraction)
	if err != nil {
		return 0, err
	}
	r := newRand(seed, streamMutate, 1)
	sel := selectMessages(r, all, fraction, len(all))
	for _, m := range sel {
		base, flags, _ := parseMessageName(m.name)
		fl := []byte(flags)
		if m.sub == "new" {
			if r.IntN(2) == 0 {
				fl = toggleFlag(fl, 'S', true)
			}
		} else {
			c := "SFR"[r.IntN(3)]
			fl = toggleFlag(fl, c, !slices.Contains(fl, c))
		}
		name := base + ":2," + string(fl)
		if err := os.Rename(m.path(), filepath.Join(m.f.dir, "cur", name)); err != nil {
			return 0, err
		}
		m.sub, m.name = "cur", name
	}
	return len(sel), nil
}

// Delete removes round(fraction·N) of the store's N messages, as an expunge
// does: the files go and so do their dovecot-uidlist records (the next UID
// stays). It returns the number of messages deleted.
func Delete(root string, fraction float64, seed int64) (int, error) {
	accounts, all, err := scanForMutation(root, fraction)
	if err != nil {
		return 0, err
	}
	r := newRand(seed, streamMutate, 2)
	sel := selectMessages(r, all, fraction, len(all))
	for _, m := range sel {
		if err := os.Remove(m.path()); err != nil {
			return 0, err
		}
		base, _, _ := parseMessageName(m.name)
		m.f.forget(base)
	}
	return len(sel), saveAll(accounts)
}

// Move moves round(fraction·N) of the store's N messages (at most all the
// messages of accounts with two folders or more) each into another folder
// of the same account, as Dovecot's IMAP MOVE does on Maildir: the file is
// renamed (same inode, same mtime, same size) under a new unique base name
// (maildir_copy_preserve_filename=no, Dovecot's default), keywords are
// mapped through the destination's dovecot-keywords, the source's record is
// dropped and the destination gives it its next UID. A message without flags
// stays in new/ if it was there; every other goes to cur/. It returns the
// number of messages moved.
func Move(root string, fraction float64, seed int64) (int, error) {
	accounts, all, err := scanForMutation(root, fraction)
	if err != nil {
		return 0, err
	}
	var eligible []*sMsg
	for _, m := range all {
		if len(m.f.acct.folders) >= 2 {
			eligible = append(eligible, m)
		}
	}
	r := newRand(seed, streamMutate, 3)
	sel := selectMessages(r, eligible, fraction, len(all))
	if len(sel) == 0 {
		return 0, nil
	}
	clock, err := latestMTime(all)
	if err != nil {
		return 0, err
	}
	names := newNamer(all, r)
	for _, m := range sel {
		src := m.f
		folders := src.acct.folders
		var dst *sFolder
		for dst == nil || dst == src {
			dst = folders[r.IntN(len(folders))]
		}
		base, flags, _ := parseMessageName(m.name)
		var fl []byte
		for i := 0; i < len(flags); i++ {
			c := flags[i]
			if c < 'a' || c > 'z' {
				fl = append(fl, c)
				continue
			}
			if k := int(c - 'a'); k < len(src.keywords) && src.keywords[k] != "" {
				if l, ok := dst.keywordLetter(src.keywords[k]); ok {
					fl = append(fl, l)
				}
			}
		}
		slices.Sort(fl)
		clock++
		newBase := names.next(clock) + sizeSuffix(base)
		sub, name := "cur", newBase+":2,"+string(fl)
		if len(fl) == 0 && m.sub == "new" {
			sub, name = "new", newBase
		}
		if err := os.Rename(m.path(), filepath.Join(dst.dir, sub, name)); err != nil {
			return 0, err
		}
		src.forget(base)
		dst.ensureUIDList(clock, r)
		dst.assign(newBase)
	}
	return len(sel), saveAll(accounts)
}

// Deliver delivers n new messages, as Dovecot's LMTP does: each to a random
// account, into INBOX or (15%, as a Sieve fileinto would) another folder,
// written to tmp/ and renamed into new/ without flags, with a new UID in
// dovecot-uidlist. Contents follow Generate's model (with the default
// MaxSize); received times (mtimes) follow the newest message already in the
// store, a few seconds to two minutes apart. It returns n.
func Deliver(root string, n int, seed int64) (int, error) {
	if n < 0 {
		return 0, errors.New("corpus: Deliver: negative count")
	}
	accounts, all, err := scanForMutation(root, 0)
	if err != nil {
		return 0, err
	}
	if len(accounts) == 0 {
		return 0, fmt.Errorf("corpus: Deliver: no account under %s", root)
	}
	clock, err := latestMTime(all)
	if err != nil {
		return 0, err
	}
	r := newRand(seed, streamMutate, 4)
	names := newNamer(all, r)
	var g msgGen
	var buf []byte
	owners := map[*sFolder]*Owner{}
	for i := 0; i < n; i++ {
		a := accounts[r.IntN(len(accounts))]
		if len(a.folders) == 0 {
			return i, fmt.Errorf("corpus: Deliver: %s has no folder", a.maildir)
		}
		f := a.folders[0]
		if len(a.folders) > 1 && r.IntN(100) < 15 {
			f = a.folders[1+r.IntN(len(a.folders)-1)]
		}
		clock += 1 + r.Int64N(120)
		user, domain, _ := strings.Cut(a.address, "@")
		env := envelope{role: roleInbound, account: a.address, name: displayName(user), domain: domain, received: clock}
		buf = g.build(buf[:0], mix(uint64(seed), streamMutate, 4, uint64(i)), env, 4<<20)
		base := names.next(clock) + ",S=" + strconv.Itoa(len(buf)) + ",W=" + strconv.Itoa(len(buf)+bytes.Count(buf, lf))
		owner, ok := owners[f]
		if !ok {
			st, err := os.Stat(f.dir)
			if err != nil {
				return i, err
			}
			owner = dirOwner(st)
			owners[f] = owner
		}
		tmp := filepath.Join(f.dir, "tmp", base)
		if err := writeFile(tmp, buf, fileMode, owner); err != nil {
			return i, err
		}
		if err := setTime(tmp, clock); err != nil {
			return i, err
		}
		if err := os.Rename(tmp, filepath.Join(f.dir, "new", base)); err != nil {
			return i, err
		}
		f.ensureUIDList(clock, r)
		f.assign(base)
	}
	return n, saveAll(accounts)
}

func scanForMutation(root string, fraction float64) ([]*sAccount, []*sMsg, error) {
	if fraction < 0 || fraction > 1 || fraction != fraction {
		return nil, nil, fmt.Errorf("corpus: fraction %v is not between 0 and 1", fraction)
	}
	accounts, err := scanStore(root)
	if err != nil {
		return nil, nil, err
	}
	var all []*sMsg
	for _, a := range accounts {
		for _, f := range a.folders {
			all = append(all, f.msgs...)
		}
	}
	return accounts, all, nil
}

// selectMessages picks round(fraction·of) messages of from (at most all),
// returned in from's order.
func selectMessages(r *rand.Rand, from []*sMsg, fraction float64, of int) []*sMsg {
	k := min(int(float64(fraction*float64(of))+0.5), len(from))
	idx := make([]int, len(from))
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:k]
	slices.Sort(idx)
	sel := make([]*sMsg, k)
	for i, j := range idx {
		sel[i] = from[j]
	}
	return sel
}

func saveAll(accounts []*sAccount) error {
	for _, a := range accounts {
		for _, f := range a.folders {
			if err := f.save(); err != nil {
				return err
			}
		}
	}
	return nil
}

func toggleFlag(fl []byte, c byte, on bool) []byte {
	i := slices.Index(fl, c)
	switch {
	case on && i < 0:
		fl = append(fl, c)
		slices.Sort(fl)
	case !on && i >= 0:
		fl = slices.Delete(fl, i, i+1)
	}
	return fl
}

// latestMTime is the newest message mtime in the store (DefaultNow for an
// empty store): the mutation helpers' clock, so that they never read the
// machine's.
func latestMTime(all []*sMsg) (int64, error) {
	latest := DefaultNow.Unix()
	if len(all) > 0 {
		latest = 0
	}
	for _, m := range all {
		st, err := os.Lstat(m.path())
		if err != nil {
			return 0, err
		}
		latest = max(latest, st.ModTime().Unix())
	}
	return latest, nil
}

// sizeSuffix returns the ",S=...,W=..." part of a base name (from its first
// comma), "" if it has none.
func sizeSuffix(base string) string {
	if i := strings.IndexByte(base, ','); i >= 0 {
		return base[i:]
	}
	return ""
}

func displayName(user string) string {
	parts := strings.FieldsFunc(user, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, " ")
}

// namer makes new unique Maildir base-name prefixes
// "<secs>.M<micro>P<pid>Q<n>.<host>".
type namer struct {
	r     *rand.Rand
	taken map[string]bool
	q     int
}

func newNamer(all []*sMsg, r *rand.Rand) *namer {
	n := &namer{r: r, taken: make(map[string]bool, len(all))}
	for _, m := range all {
		base, _, _ := parseMessageName(m.name)
		if i := strings.IndexByte(base, ','); i >= 0 {
			base = base[:i]
		}
		n.taken[base] = true
	}
	return n
}

func (n *namer) next(secs int64) string {
	for {
		n.q++
		p := strconv.FormatInt(secs, 10) + ".M" + strconv.Itoa(n.r.IntN(1000000)) +
			"P" + strconv.Itoa(1000+n.r.IntN(200000)) + "Q" + strconv.Itoa(n.q) + "." + maildirHost
		if !n.taken[p] {
			n.taken[p] = true
			return p
		}
	}
}

// ensureUIDList gives a folder that has none a fresh dovecot-uidlist, as
// Dovecot does when it first opens a mailbox.
func (f *sFolder) ensureUIDList(clock int64, r *rand.Rand) {
	if f.ul != nil {
		return
	}
	f.ul = &uidList{validity: uint32(clock), next: 1, guid: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())}
	f.dirty = true
}
