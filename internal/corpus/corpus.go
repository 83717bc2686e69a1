package corpus

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Owner is the numeric owner and group given to every file and directory
// Generate creates (Dovecot's mail user, e.g. vmail). Changing owners needs
// root or CAP_CHOWN.
type Owner struct {
	UID, GID int
}

// Options describe a corpus. The zero value of each field means its default.
type Options struct {
	// Seed selects the corpus: the same Options give the same bytes, names and
	// mtimes on every run and machine.
	Seed int64
	// Accounts is the number of accounts (default 10), spread round-robin
	// over Domains.
	Accounts int
	// Messages is the total number of message files (default 1000),
	// shared copies included.
	Messages int
	// Domains default to example.com and example.org.
	Domains []string
	// FoldersPerAccount is the number of folders besides INBOX (default 8;
	// negative: INBOX only). The standard Sent, Drafts, Trash, Junk and
	// Archive come first, then nested and non-ASCII folders such as
	// "Projects/2026", "Archive/2025/Q1", "Entwürfe" and "Входящие"; a
	// nested folder always comes with its parents.
	FoldersPerAccount int
	// SharedFraction is the share of message files that are byte-identical
	// copies of mailing-list posts delivered to several (2–6) accounts
	// (default 0.05; negative: none). Needs at least two accounts.
	SharedFraction float64
	// MaxSize caps the size of every message file (default 4 MiB, at least
	// 16 KiB); the attachment tail is drawn up to it.
	MaxSize int64
	// Owner, when set, is given to every file and directory created.
	Owner *Owner
	// Now is the corpus's present: messages were received during the two
	// years before it (default 2026-01-01T00:00:00Z). It is never the
	// machine's clock, so that corpora are reproducible.
	Now time.Time
}

// DefaultNow is the default Options.Now.
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Stats describe a generated corpus.
type Stats struct {
	Accounts, Folders, Messages int
	Bytes                       int64 // sum of the message files' sizes
	// PerAccount lists every account in generation order.
	PerAccount []AccountStats
}

// AccountStats describe one generated account.
type AccountStats struct {
	Address  string // user@domain
	Maildir  string // ROOT/domain/user/Maildir
	Folders  int    // INBOX included
	Messages int
	Bytes    int64
}

const (
	dirMode     = 0o700
	fileMode    = 0o600
	maildirHost = "mail"
	twoYears    = 2 * 365 * 86400
)

func (o *Options) setDefaults() error {
	if o.Accounts < 0 || o.Messages < 0 || o.MaxSize < 0 {
		return errors.New("corpus: Accounts, Messages and MaxSize must not be negative")
	}
	if o.Accounts == 0 {
		o.Accounts = 10
	}
	if o.Messages == 0 {
		o.Messages = 1000
	}
	if len(o.Domains) == 0 {
		o.Domains = []string{"example.com", "example.org"}
	}
	for _, d := range o.Domains {
		if d == "" || strings.ContainsAny(d, "/\\ \t\n") || d == "." || d == ".." {
			return fmt.Errorf("corpus: bad domain %q", d)
		}
	}
	if o.FoldersPerAccount == 0 {
		o.FoldersPerAccount = 8
	} else if o.FoldersPerAccount < 0 {
		o.FoldersPerAccount = 0
	}
	if o.SharedFraction == 0 {
		o.SharedFraction = 0.05
	} else if o.SharedFraction < 0 {
		o.SharedFraction = 0
	}
	if o.SharedFraction > 1 {
		return errors.New("corpus: SharedFraction must be at most 1")
	}
	if o.MaxSize == 0 {
		o.MaxSize = 4 << 20
	}
	if o.MaxSize < minMaxSize {
		return fmt.Errorf("corpus: MaxSize %d is below the minimum of %d bytes", o.MaxSize, minMaxSize)
	}
	if o.Now.IsZero() {
		o.Now = DefaultNow
	}
	return nil
}

type folderKind uint8

const (
	kindInbox folderKind = iota
	kindSent
	kindDrafts
	kindTrash
	kindJunk
	kindArchive
	kindList
	kindOther
)

var standardFolders = []string{"Sent", "Drafts", "Trash", "Junk", "Archive"}

// extraFolders are drawn in a per-account order after the standard ones.
var extraFolders = []string{
	"Archive/2024", "Archive/2025", "Archive/2025/Q1", "Archive/2025/Q2",
	"Projects", "Projects/2026", "Projects/Website Relaunch",
	"Entwürfe", "Входящие", "Reçus", "Clients/ACME & Co", "Family/写真",
	"Lists", "Lists/golang-nuts", "Lists/dovecot", "Receipts", "Travel", "Newsletters",
}

func kindOf(name string) folderKind {
	switch {
	case name == "INBOX":
		return kindInbox
	case name == "Sent":
		return kindSent
	case name == "Drafts":
		return kindDrafts
	case name == "Trash":
		return kindTrash
	case name == "Junk":
		return kindJunk
	case name == "Archive" || strings.HasPrefix(name, "Archive/"):
		return kindArchive
	case strings.HasPrefix(name, "Lists/"):
		return kindList
	}
	return kindOther
}

var kindWeight = [...]int{kindInbox: 40, kindSent: 12, kindDrafts: 1, kindTrash: 3, kindJunk: 2, kindArchive: 8, kindList: 6, kindOther: 5}

var keywordPool = []string{"$Forwarded", "$Important", "$Label1", "$Label2", "$Label3", "$MDNSent", "Todo", "$Work", "$Personal"}

type account struct {
	domain, user, address, name string
	maildir                     string
	created, lastLogin          int64
	folders                     []*folder
	msgs                        int
	bytes                       int64
	latest                      int64
}

type folder struct {
	acct        *account
	name        string
	kind        folderKind
	dir         string
	uidValidity uint32
	nextUID     uint32
	guid        string
	kwPool      []string // keywords this folder's messages may carry
	keywords    []string // dovecot-keywords: index = letter - 'a'
	subscribed  bool
	msgs        []*message
	latest      int64
}

type message struct {
	f        *folder
	env      envelope
	seed     uint64
	seq      int // planning order, breaks ties between equal times
	uid      uint32
	inNew    bool
	flags    string // after ":2,", sorted; "" with inNew
	prefix   string // "<secs>.M<micro>P<pid>Q<n>.<host>"
	received int64
	// Filled in by the writer.
	base string
	size int64
}

// Generate writes a corpus under root as root/<domain>/<user>/Maildir
// (Dovecot's mail_location = maildir:ROOT/%d/%n/Maildir) and returns what it
// wrote. root may exist; the accounts' Maildirs must not.
func Generate(root string, opts Options) (Stats, error) {
	if err := opts.setDefaults(); err != nil {
		return Stats{}, err
	}
	accounts := plan(root, &opts)
	if err := createDirs(root, accounts, opts.Owner); err != nil {
		return Stats{}, err
	}
	var all []*message
	for _, a := range accounts {
		for _, f := range a.folders {
			all = append(all, f.msgs...)
		}
	}
	if err := writeMessages(all, int(opts.MaxSize), opts.Owner); err != nil {
		return Stats{}, err
	}
	st := Stats{Accounts: len(accounts), Messages: len(all)}
	for _, a := range accounts {
		if err := finishAccount(a, opts.Owner); err != nil {
			return Stats{}, err
		}
		st.Folders += len(a.folders)
		st.Bytes += a.bytes
		st.PerAccount = append(st.PerAccount, AccountStats{Address: a.address, Maildir: a.maildir, Folders: len(a.folders), Messages: a.msgs, Bytes: a.bytes})
	}
	// Domain directories last: their mtime is their newest account's.
	domainLatest := map[string]int64{}
	for _, a := range accounts {
		domainLatest[a.domain] = max(domainLatest[a.domain], a.latest)
	}
	for _, d := range opts.Domains {
		if t, ok := domainLatest[d]; ok {
			if err := setTime(filepath.Join(root, d), t); err != nil {
				return Stats{}, err
			}
		}
	}
	return st, nil
}

// plan decides everything except message contents.
func plan(root string, o *Options) []*account {
	r := newRand(o.Seed, streamPlan)
	now := o.Now.Unix()

	// Accounts.
	accounts := make([]*account, o.Accounts)
	taken := map[string]bool{}
	for i := range accounts {
		d := o.Domains[i%len(o.Domains)]
		var f, l, user string
		for try := 0; ; try++ {
			f, l = pick(r, firstNames), pick(r, lastNames)
			user = f + "." + l
			if try > 20 {
				user += strconv.Itoa(i)
			}
			if !taken[user+"@"+d] {
				break
			}
		}
		taken[user+"@"+d] = true
		a := &account{
			domain: d, user: user, address: user + "@" + d,
			name:    strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:],
			maildir: filepath.Join(root, d, user, "Maildir"),
			created: now - twoYears - 86400 - r.Int64N(30*86400),
		}
		a.lastLogin = now - r.Int64N(7*86400)
		a.latest = a.created
		accounts[i] = a
		planFolders(r, a, o.FoldersPerAccount)
	}

	// Shared mailing-list posts: groups of 2–6 byte-identical copies.
	seq := 0
	add := func(a *account, f *folder, env envelope, seed uint64) {
		f.msgs = append(f.msgs, &message{f: f, env: env, seed: seed, seq: seq, received: env.received})
		seq++
	}
	shared := 0
	if o.Accounts >= 2 {
		shared = int(float64(o.SharedFraction*float64(o.Messages)) + 0.5)
	}
	perm := make([]int, len(accounts))
	for group := 0; shared >= 2; group++ {
		k := 2 + r.IntN(min(len(accounts), 6)-1)
		if k > shared || shared-k == 1 {
			k = min(shared, len(accounts))
		}
		shared -= k
		list := pick(r, mailingLists)
		received := now - r.Int64N(twoYears)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < k; i++ {
			j := i + r.IntN(len(perm)-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		seed := mix(uint64(o.Seed), streamShared, uint64(group))
		for _, ai := range perm[:k] {
			a := accounts[ai]
			f := listFolder(a, list)
			add(a, f, envelope{role: roleList, list: list, received: received}, seed)
		}
	}
	unique := o.Messages - seq

	// Unique messages: accounts weighted log-normally (σ 0.35), so sizes vary
	// but stay near the mean.
	cum := make([]float64, len(accounts))
	total := 0.0
	for i := range accounts {
		total += logNormal(r, 1, 0.35)
		cum[i] = total
	}
	for m := 0; m < unique; m++ {
		x := r.Float64() * total
		ai := sort.SearchFloat64s(cum, x)
		if ai >= len(accounts) {
			ai = len(accounts) - 1
		}
		a := accounts[ai]
		f := pickFolder(r, a)
		env := envelope{role: roleInbound, account: a.address, name: a.name, domain: a.domain, received: now - r.Int64N(twoYears)}
		switch f.kind {
		case kindSent:
			env.role = roleSent
		case kindDrafts:
			env.role = roleDraft
		}
		add(a, f, env, mix(uint64(o.Seed), streamMessage, uint64(m)))
	}

	// UIDs, flags, keywords and names, folder by folder in time order.
	for _, a := range accounts {
		prefixes := map[string]bool{}
		for _, f := range a.folders {
			slices.SortFunc(f.msgs, func(x, y *message) int {
				if c := cmp.Compare(x.received, y.received); c != 0 {
					return c
				}
				return cmp.Compare(x.seq, y.seq)
			})
			uid := uint32(1)
			for _, m := range f.msgs {
				if r.IntN(10) == 0 {
					uid += 1 + uint32(r.IntN(4)) // expunged earlier
				}
				m.uid = uid
				uid++
				planFlags(r, a, f, m)
				for {
					p := strconv.FormatInt(m.received, 10) + ".M" + strconv.Itoa(r.IntN(1000000)) +
						"P" + strconv.Itoa(1000+r.IntN(200000)) + "Q" + strconv.Itoa(1+r.IntN(9)) + "." + maildirHost
					if !prefixes[p] {
						prefixes[p] = true
						m.prefix = p
						break
					}
				}
				f.latest = max(f.latest, m.received)
				a.msgs++
			}
			f.nextUID = uid
			a.latest = max(a.latest, f.latest)
		}
	}
	return accounts
}

func planFolders(r *rand.Rand, a *account, n int) {
	names := []string{"INBOX"}
	have := map[string]bool{"INBOX": true}
	addName := func(s string) { names = append(names, s); have[s] = true }
	for _, s := range standardFolders {
		if len(names)-1 < n {
			addName(s)
		}
	}
	extras := slices.Clone(extraFolders)
	r.Shuffle(len(extras), func(i, j int) { extras[i], extras[j] = extras[j], extras[i] })
	for _, s := range extras {
		if len(names)-1 >= n {
			break
		}
		if have[s] {
			continue
		}
		var missing []string
		parts := strings.Split(s, "/")
		for i := 1; i < len(parts); i++ {
			if p := strings.Join(parts[:i], "/"); !have[p] {
				missing = append(missing, p)
			}
		}
		if len(names)-1+len(missing)+1 > n {
			continue
		}
		for _, p := range missing {
			addName(p)
		}
		addName(s)
	}
	for i := 1; len(names)-1 < n; i++ {
		if s := fmt.Sprintf("Folder %02d", i); !have[s] {
			addName(s)
		}
	}
	for i, s := range names {
		f := &folder{
			acct: a, name: s, kind: kindOf(s),
			dir:         filepath.Join(a.maildir, maildirDirName(s)),
			uidValidity: uint32(a.created) + uint32(i),
			subscribed:  r.IntN(12) != 0 || s == "INBOX",
		}
		var g [16]byte
		for j := range g {
			g[j] = byte(r.Uint32())
		}
		f.guid = fmt.Sprintf("%x", g)
		use := 0.3
		switch f.kind {
		case kindInbox:
			use = 0.6
		case kindSent, kindDrafts, kindTrash:
			use = 0.1
		}
		if r.Float64() < use {
			if f.kind == kindJunk {
				f.kwPool = []string{"$Junk", "NonJunk"}
			} else {
				pool := slices.Clone(keywordPool)
				r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
				f.kwPool = pool[:2+r.IntN(3)]
			}
		}
		a.folders = append(a.folders, f)
	}
}

func pickFolder(r *rand.Rand, a *account) *folder {
	total := 0
	for _, f := range a.folders {
		total += kindWeight[f.kind]
	}
	x := r.IntN(total)
	for _, f := range a.folders {
		if x -= kindWeight[f.kind]; x < 0 {
			return f
		}
	}
	return a.folders[0]
}

// listFolder is where a list post lands: "Lists/<list>" if the account has
// it, else any Lists/ folder, else INBOX.
func listFolder(a *account, list string) *folder {
	var other *folder
	for _, f := range a.folders {
		if f.name == "Lists/"+list {
			return f
		}
		if f.kind == kindList && other == nil {
			other = f
		}
	}
	if other != nil {
		return other
	}
	return a.folders[0]
}

// planFlags decides new/ or cur/, the standard flags and keywords.
func planFlags(r *rand.Rand, a *account, f *folder, m *message) {
	switch f.kind {
	case kindInbox, kindList, kindOther, kindJunk:
		if m.received > a.lastLogin {
			m.inNew = true
			return
		}
	}
	var fl []byte
	recent := m.received > a.lastLogin-14*86400
	pct := r.IntN(1000)
	switch f.kind {
	case kindSent:
		if pct < 990 {
			fl = append(fl, 'S')
		}
		if r.IntN(100) == 0 {
			fl = append(fl, 'F')
		}
	case kindDrafts:
		fl = append(fl, 'D')
		if pct < 800 {
			fl = append(fl, 'S')
		}
	case kindTrash:
		if pct < 900 {
			fl = append(fl, 'S')
		}
		if r.IntN(10) == 0 {
			fl = append(fl, 'T')
		}
	case kindJunk:
		if pct < 400 {
			fl = append(fl, 'S')
		}
	default:
		seen := pct < 970 || f.kind == kindArchive && pct < 995
		if recent {
			seen = pct < 650
		}
		if seen {
			fl = append(fl, 'S')
			if f.kind != kindList && r.IntN(100) < 18 {
				fl = append(fl, 'R')
			}
		}
		if r.IntN(100) < 4 {
			fl = append(fl, 'F')
		}
		if r.IntN(100) == 0 {
			fl = append(fl, 'P')
		}
		if r.IntN(300) == 0 {
			fl = append(fl, 'T')
		}
	}
	if f.kwPool != nil && r.IntN(100) < 12 {
		n := 1
		if r.IntN(5) == 0 {
			n = 2
		}
		for i := 0; i < n; i++ {
			kw := pick(r, f.kwPool)
			idx := slices.Index(f.keywords, kw)
			if idx < 0 {
				f.keywords = append(f.keywords, kw)
				idx = len(f.keywords) - 1
			}
			if c := byte('a' + idx); !slices.Contains(fl, c) {
				fl = append(fl, c)
			}
		}
	}
	slices.Sort(fl)
	m.flags = string(fl)
}

func createDirs(root string, accounts []*account, owner *Owner) error {
	mk := func(p string) error {
		if err := os.Mkdir(p, dirMode); err != nil {
			return err
		}
		return chown(p, owner)
	}
	mkAll := func(p string) error {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(p, dirMode); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		return chown(p, owner)
	}
	for _, a := range accounts {
		if err := mkAll(filepath.Join(root, a.domain)); err != nil {
			return err
		}
		if err := mkAll(filepath.Join(root, a.domain, a.user)); err != nil {
			return err
		}
		if err := mk(a.maildir); err != nil {
			return fmt.Errorf("corpus: %w (the account's Maildir must not exist yet)", err)
		}
		for _, f := range a.folders {
			if f.kind != kindInbox {
				if err := mk(f.dir); err != nil {
					return err
				}
				if err := writeFile(filepath.Join(f.dir, "maildirfolder"), nil, fileMode, owner); err != nil {
					return err
				}
			}
			for _, sub := range []string{"cur", "new", "tmp"} {
				if err := mk(filepath.Join(f.dir, sub)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeMessages generates and writes the messages on all cores. Each
// message's bytes depend only on its own seed, so the result does not depend
// on scheduling.
func writeMessages(all []*message, maxSize int, owner *Owner) error {
	// More workers than cores: writing is often bound by file-creation
	// latency rather than CPU, and blocked writers leave the cores to others.
	workers := 2*runtime.GOMAXPROCS(0) + 2
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	take := func() (*message, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next >= len(all) {
			return nil, false
		}
		next++
		return all[next-1], true
	}
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var g msgGen
			var buf []byte
			for {
				m, ok := take()
				if !ok {
					return
				}
				buf = g.build(buf[:0], m.seed, m.env, maxSize)
				if err := m.write(buf, owner); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (m *message) write(content []byte, owner *Owner) error {
	m.size = int64(len(content))
	m.base = m.prefix + ",S=" + strconv.Itoa(len(content)) + ",W=" + strconv.Itoa(len(content)+bytes.Count(content, lf))
	p := filepath.Join(m.f.dir, "new", m.base)
	if !m.inNew {
		p = filepath.Join(m.f.dir, "cur", m.base+":2,"+m.flags)
	}
	if err := writeFile(p, content, fileMode, owner); err != nil {
		return err
	}
	return setTime(p, m.received)
}

var lf = []byte{'\n'}

// finishAccount writes the per-folder and per-account control files and
// sets directory mtimes, children before parents.
func finishAccount(a *account, owner *Owner) error {
	var subs []string
	for _, f := range a.folders {
		ul := &uidList{validity: f.uidValidity, next: f.nextUID, guid: f.guid}
		for _, m := range f.msgs {
			ul.recs = append(ul.recs, uidRec{uid: m.uid, name: m.base})
			a.bytes += m.size
		}
		if err := writeFile(filepath.Join(f.dir, uidlistName), ul.marshal(), fileMode, owner); err != nil {
			return err
		}
		files := []string{uidlistName}
		if len(f.keywords) > 0 {
			if err := writeFile(filepath.Join(f.dir, keywordsName), marshalKeywords(f.keywords), fileMode, owner); err != nil {
				return err
			}
			files = append(files, keywordsName)
		}
		if f.kind != kindInbox {
			files = append(files, "maildirfolder")
		}
		for _, name := range append(files, "cur", "new", "tmp") {
			if err := setTime(filepath.Join(f.dir, name), f.latest); err != nil {
				return err
			}
		}
		if f.subscribed {
			subs = append(subs, f.name)
		}
	}
	// Account-level files, as Dovecot 2.3 leaves them in the Maildir root.
	maxValidity := uint32(0)
	for _, f := range a.folders {
		maxValidity = max(maxValidity, f.uidValidity)
	}
	hexV := fmt.Sprintf("%08x", maxValidity)
	accountFiles := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{subscriptionsName, marshalSubscriptions(subs), fileMode},
		{"dovecot-uidvalidity", []byte(hexV), fileMode},
		{"dovecot-uidvalidity." + hexV, nil, 0o444},
	}
	for _, af := range accountFiles {
		p := filepath.Join(a.maildir, af.name)
		if err := writeFile(p, af.data, af.mode, owner); err != nil {
			return err
		}
		if err := setTime(p, a.latest); err != nil {
			return err
		}
	}
	for _, f := range a.folders {
		if f.kind != kindInbox {
			if err := setTime(f.dir, f.latest); err != nil {
				return err
			}
		}
	}
	if err := setTime(a.maildir, a.latest); err != nil {
		return err
	}
	return setTime(filepath.Dir(a.maildir), a.latest)
}

func writeFile(p string, data []byte, mode os.FileMode, owner *Owner) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		// O_CREATE applies the umask; the modes are part of the corpus.
		err = f.Chmod(mode)
	}
	if err == nil && owner != nil {
		err = f.Chown(owner.UID, owner.GID)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func chown(p string, owner *Owner) error {
	if owner == nil {
		return nil
	}
	return os.Lchown(p, owner.UID, owner.GID)
}

func setTime(p string, secs int64) error {
	t := time.Unix(secs, 0)
	return os.Chtimes(p, t, t)
}
