package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Dovecot's control files, as Dovecot 2.3 writes them (checked against
// Dovecot 2.3.19 from Debian 12 with doveadm).
const (
	uidlistName       = "dovecot-uidlist"
	uidlistLockName   = "dovecot-uidlist.lock"
	keywordsName      = "dovecot-keywords"
	subscriptionsName = "subscriptions"
)

// uidList is a version 3 dovecot-uidlist:
//
//	3 V<uidvalidity> N<nextuid> G<mailbox guid, 32 hex>
//	<uid>[ <extension>...] :<file name up to the ':' of ":2,">
type uidList struct {
	validity, next uint32
	guid           string
	extra          []string // further header fields, kept as they are
	recs           []uidRec // ascending UIDs
}

type uidRec struct {
	uid  uint32
	ext  []string // per-record extensions (e.g. "W1234"), kept as they are
	name string   // base name: the file name without ":2,<flags>"
}

func (u *uidList) marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "3 V%d N%d G%s", u.validity, u.next, u.guid)
	for _, e := range u.extra {
		b.WriteByte(' ')
		b.WriteString(e)
	}
	b.WriteByte('\n')
	for _, r := range u.recs {
		b.WriteString(strconv.FormatUint(uint64(r.uid), 10))
		for _, e := range r.ext {
			b.WriteByte(' ')
			b.WriteString(e)
		}
		b.WriteString(" :")
		b.WriteString(r.name)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func parseUIDList(data []byte) (*uidList, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return nil, errors.New("empty dovecot-uidlist")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) == 0 || fields[0] != "3" {
		return nil, fmt.Errorf("dovecot-uidlist: unsupported header %q (want version 3)", sc.Text())
	}
	u := &uidList{}
	for _, f := range fields[1:] {
		if len(f) < 2 {
			u.extra = append(u.extra, f)
			continue
		}
		switch f[0] {
		case 'V', 'N':
			v, err := strconv.ParseUint(f[1:], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("dovecot-uidlist: bad header field %q", f)
			}
			if f[0] == 'V' {
				u.validity = uint32(v)
			} else {
				u.next = uint32(v)
			}
		case 'G':
			u.guid = f[1:]
		default:
			u.extra = append(u.extra, f)
		}
	}
	for line := 2; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		i := strings.Index(text, " :")
		if i < 0 {
			return nil, fmt.Errorf("dovecot-uidlist line %d: no \" :\" before the file name", line)
		}
		parts := strings.Fields(text[:i])
		if len(parts) == 0 {
			return nil, fmt.Errorf("dovecot-uidlist line %d: no UID", line)
		}
		uid, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil || uid == 0 {
			return nil, fmt.Errorf("dovecot-uidlist line %d: bad UID %q", line, parts[0])
		}
		u.recs = append(u.recs, uidRec{uid: uint32(uid), ext: parts[1:], name: text[i+2:]})
	}
	return u, sc.Err()
}

// marshalKeywords writes dovecot-keywords: "<index> <name>" per line; the
// index i is the letter 'a'+i in file names.
func marshalKeywords(kws []string) []byte {
	var b bytes.Buffer
	for i, k := range kws {
		fmt.Fprintf(&b, "%d %s\n", i, k)
	}
	return b.Bytes()
}

func parseKeywords(data []byte) ([]string, error) {
	var kws []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		idx, name, ok := strings.Cut(line, " ")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 || i >= 26 {
			return nil, fmt.Errorf("dovecot-keywords: bad line %q", line)
		}
		for len(kws) <= i {
			kws = append(kws, "")
		}
		kws[i] = name
	}
	return kws, nil
}

// marshalSubscriptions writes the subscriptions file in the format Dovecot
// 2.3 writes for a new account: a "V\t2" line and an empty line, then one
// mailbox per line, hierarchy levels separated by TAB (not the namespace
// separator), each level in modified UTF-7 as in the directory names.
// Dovecot 2.3 also reads the older format (no header, names with the
// separator); that format is not generated here.
func marshalSubscriptions(folders []string) []byte {
	var b bytes.Buffer
	b.WriteString("V\t2\n\n")
	for _, f := range folders {
		parts := strings.Split(f, "/")
		for i, p := range parts {
			parts[i] = encodeMUTF7(p)
		}
		b.WriteString(strings.Join(parts, "\t"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// parseMessageName splits a Maildir file name into its base (what
// dovecot-uidlist records) and its flags after ":2,".
func parseMessageName(name string) (base, flags string, hasInfo bool) {
	base, info, ok := strings.Cut(name, ":")
	if !ok {
		return name, "", false
	}
	return base, strings.TrimPrefix(info, "2,"), true
}

// sizeField returns the value of ",S=" or ",W=" in a base name.
func sizeField(base string, key byte) (int64, bool) {
	parts := strings.Split(base, ",")
	for _, p := range parts[1:] {
		if len(p) > 2 && p[0] == key && p[1] == '=' {
			v, err := strconv.ParseInt(p[2:], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// Store scanning, shared by the mutation helpers and Verify.

type sAccount struct {
	address string // user@domain
	maildir string
	folders []*sFolder
}

type sFolder struct {
	acct     *sAccount
	name     string // UTF-8, "/" separated
	dir      string
	msgs     []*sMsg
	ul       *uidList
	keywords []string
	dirty    bool            // uidlist changed
	drop     map[string]bool // base names to remove from the uidlist on save
	kwDirty  bool
}

// forget removes base from the folder's uidlist (on save).
func (f *sFolder) forget(base string) {
	if f.drop == nil {
		f.drop = map[string]bool{}
	}
	f.drop[base] = true
	f.dirty = true
}

// assign gives a new message the folder's next UID and returns it; the
// folder must have a uidlist (see ensureUIDList).
func (f *sFolder) assign(base string) uint32 {
	uid := f.ul.next
	f.ul.recs = append(f.ul.recs, uidRec{uid: uid, name: base})
	f.ul.next++
	f.dirty = true
	return uid
}

type sMsg struct {
	f    *sFolder
	sub  string // "cur" or "new"
	name string
}

func (m *sMsg) path() string { return filepath.Join(m.f.dir, m.sub, m.name) }

// scanStore lists root/<domain>/<user>/Maildir accounts, their folders and
// messages, in sorted order, and loads each folder's uidlist and keywords.
func scanStore(root string) ([]*sAccount, error) {
	domains, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var accounts []*sAccount
	for _, d := range domains {
		if !d.IsDir() {
			continue
		}
		users, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			md := filepath.Join(root, d.Name(), u.Name(), "Maildir")
			if st, err := os.Stat(md); err != nil || !st.IsDir() {
				continue
			}
			a := &sAccount{address: u.Name() + "@" + d.Name(), maildir: md}
			if err := a.scan(); err != nil {
				return nil, err
			}
			accounts = append(accounts, a)
		}
	}
	return accounts, nil
}

func (a *sAccount) scan() error {
	entries, err := os.ReadDir(a.maildir)
	if err != nil {
		return err
	}
	dirs := []string{""}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." {
			dirs = append(dirs, e.Name())
		}
	}
	for _, d := range dirs {
		name, err := folderFromDirName(d)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(a.maildir, d), err)
		}
		f := &sFolder{acct: a, name: name, dir: filepath.Join(a.maildir, d)}
		if _, err := os.Stat(filepath.Join(f.dir, "cur")); err != nil {
			continue
		}
		for _, sub := range []string{"cur", "new"} {
			files, err := os.ReadDir(filepath.Join(f.dir, sub))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			for _, fi := range files {
				if fi.Type().IsRegular() {
					f.msgs = append(f.msgs, &sMsg{f: f, sub: sub, name: fi.Name()})
				}
			}
		}
		data, err := os.ReadFile(filepath.Join(f.dir, uidlistName))
		switch {
		case err == nil:
			if f.ul, err = parseUIDList(data); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(f.dir, uidlistName), err)
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return err
		}
		data, err = os.ReadFile(filepath.Join(f.dir, keywordsName))
		switch {
		case err == nil:
			if f.keywords, err = parseKeywords(data); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(f.dir, keywordsName), err)
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return err
		}
		a.folders = append(a.folders, f)
	}
	return nil
}

// save rewrites the folder's dovecot-uidlist and dovecot-keywords if they
// changed, as Dovecot does: under dovecot-uidlist.lock (created exclusively,
// so a concurrent Dovecot or helper makes this fail rather than race), with
// the new contents written into the lock file, which is then renamed over the
// uidlist. New files get the owner of the folder directory.
func (f *sFolder) save() error {
	if !f.dirty && !f.kwDirty {
		return nil
	}
	st, err := os.Stat(f.dir)
	if err != nil {
		return err
	}
	owner := dirOwner(st)
	lock := filepath.Join(f.dir, uidlistLockName)
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("locking %s: %w", filepath.Join(f.dir, uidlistName), err)
	}
	defer os.Remove(lock) // no-op after the rename
	if f.kwDirty {
		p := filepath.Join(f.dir, keywordsName)
		tmp := p + ".tmp"
		os.Remove(tmp)
		if err := writeFile(tmp, marshalKeywords(f.keywords), fileMode, owner); err != nil {
			lf.Close()
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			lf.Close()
			return err
		}
	}
	if f.ul == nil {
		return lf.Close()
	}
	if len(f.drop) > 0 {
		f.ul.recs = slices.DeleteFunc(f.ul.recs, func(r uidRec) bool { return f.drop[r.name] })
		f.drop = nil
	}
	_, err = lf.Write(f.ul.marshal())
	if err == nil && owner != nil {
		err = lf.Chown(owner.UID, owner.GID)
	}
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(lock, filepath.Join(f.dir, uidlistName))
}

// keywordLetter returns the letter of kw in the folder, adding it to
// dovecot-keywords if needed; ok is false when all 26 letters are taken.
func (f *sFolder) keywordLetter(kw string) (byte, bool) {
	if i := slices.Index(f.keywords, kw); i >= 0 {
		return byte('a' + i), true
	}
	if i := slices.Index(f.keywords, ""); i >= 0 {
		f.keywords[i] = kw
		f.kwDirty = true
		return byte('a' + i), true
	}
	if len(f.keywords) >= 26 {
		return 0, false
	}
	f.keywords = append(f.keywords, kw)
	f.kwDirty = true
	return byte('a' + len(f.keywords) - 1), true
}

// Verify checks that every folder of every account under root has a
// dovecot-uidlist that matches its message files: each file's base name is
// listed exactly once, every record has a file, UIDs ascend and stay below
// the next UID, UIDVALIDITY is set, each file's ",S=" is its size, and every
// keyword letter is defined in dovecot-keywords. It returns all problems
// found, joined.
func Verify(root string) error {
	accounts, err := scanStore(root)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(f *sFolder, format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, fmt.Errorf("%s %q: %s", f.acct.address, f.name, fmt.Sprintf(format, args...)))
		}
	}
	for _, a := range accounts {
		for _, f := range a.folders {
			if f.ul == nil {
				if len(f.msgs) > 0 {
					bad(f, "%d messages but no %s", len(f.msgs), uidlistName)
				}
				continue
			}
			ul := f.ul
			if ul.validity == 0 {
				bad(f, "UIDVALIDITY is 0")
			}
			if len(ul.guid) != 32 {
				bad(f, "mailbox GUID %q is not 32 hex digits", ul.guid)
			}
			listed := make(map[string]uint32, len(ul.recs))
			var prev uint32
			for _, r := range ul.recs {
				if r.uid <= prev {
					bad(f, "UID %d after %d", r.uid, prev)
				}
				prev = r.uid
				if r.uid >= ul.next {
					bad(f, "UID %d is not below next UID %d", r.uid, ul.next)
				}
				if _, dup := listed[r.name]; dup {
					bad(f, "%s listed twice", r.name)
				}
				listed[r.name] = r.uid
			}
			seen := make(map[string]bool, len(f.msgs))
			for _, m := range f.msgs {
				base, flags, _ := parseMessageName(m.name)
				if seen[base] {
					bad(f, "two files with base name %s", base)
				}
				seen[base] = true
				if _, ok := listed[base]; !ok {
					bad(f, "%s/%s is not in %s", m.sub, m.name, uidlistName)
				}
				if want, ok := sizeField(base, 'S'); ok {
					if st, err := os.Stat(m.path()); err != nil {
						bad(f, "%v", err)
					} else if st.Size() != want {
						bad(f, "%s/%s is %d bytes, its name says %d", m.sub, m.name, st.Size(), want)
					}
				}
				for i := 0; i < len(flags); i++ {
					if c := flags[i]; c >= 'a' && c <= 'z' {
						if k := int(c - 'a'); k >= len(f.keywords) || f.keywords[k] == "" {
							bad(f, "%s/%s uses keyword %c, undefined in %s", m.sub, m.name, c, keywordsName)
						}
					}
				}
			}
			for _, r := range ul.recs {
				if !seen[r.name] {
					bad(f, "UID %d (%s) has no file", r.uid, r.name)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// MessageBytes sums the sizes of the message files (those in a cur/ or
// new/ directory) under root.
func MessageBytes(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
