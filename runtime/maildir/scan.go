package maildir

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// testHookListed, when set by tests, runs after a new/ or cur/ directory
// was listed and before its files are stat'ed.
var testHookListed func(dir string)

// Scan reads one account: folders, messages, flags, keywords, UIDs,
// subscriptions, owners and modes. It lists each directory once and stats
// each file once; it never opens a message. The message directories are
// listed before dovecot-keywords and dovecot-uidlist are read, so that
// letters and UIDs Dovecot assigned to files just listed are known. Files
// that vanish during the scan (a flag change is a rename) are skipped
// silently; when any did, the folder's new/ and cur/ are listed once more
// so that a message renamed meanwhile is still reported, under its new
// name. A missing Maildir root returns an error wrapping ErrNoAccount.
//
// Below the root, Scan opens every directory and file relative to its
// parent without following symbolic links (see tree), and never opens
// anything but directories and regular files. What it does not read —
// links the mail store does not follow, FIFOs, devices, sockets,
// directories where messages are, files and directories it could not read
// — is listed in Snapshot.Skipped with the reason, and the rest of the
// account is read. A folder with new/ but no cur/ is read (Dovecot creates
// cur/ when it opens it) and reported in Warnings.
func (s *Store) Scan(a Account) (*Snapshot, error) {
	return s.ScanWith(a, ScanOptions{})
}

// ScanOptions tune ScanWith: they are the store interface's
// SnapshotOptions.
type ScanOptions = store.SnapshotOptions

// ScanWith is Scan with options: a caller that remembers each folder's
// stamp from an earlier scan can skip the folders that did not change.
func (s *Store) ScanWith(a Account, opts ScanOptions) (*Snapshot, error) {
	t, err := openTree(s.path.fixedDir(), a.Root, s.follow)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, noAccount(a)
	case errors.Is(err, unix.ENOTDIR):
		return nil, fmt.Errorf("account %s: %s is not a directory", a.Name, a.Root)
	case err != nil:
		return nil, fmt.Errorf("account %s: %w", a.Name, err)
	}
	defer t.close()
	var st unix.Stat_t
	if err := unix.Fstat(t.fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: a.Root, Err: err}
	}
	snap := &Snapshot{Account: a, Owner: ownerOf(&st)}
	sc := scanner{s: s, a: a, t: t, buf: make([]byte, 64<<10), snap: snap, reuse: opts.Reuse, ctx: opts.Context}
	defer sc.closeControl()
	dirs, err := sc.folderDirs()
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		if err := sc.stopped(); err != nil {
			return nil, err
		}
		f, ok, err := sc.folder(dir)
		if err != nil {
			return nil, err
		}
		if ok {
			snap.Folders = append(snap.Folders, f)
		}
	}
	sort.SliceStable(snap.Folders, func(i, j int) bool {
		fi, fj := &snap.Folders[i], &snap.Folders[j]
		if (fi.Dir == "") != (fj.Dir == "") {
			return fi.Dir == ""
		}
		return fi.Name < fj.Name
	})
	if ctl, err := sc.controlRoot(); err == nil && ctl != nil {
		k := Skip{Path: SubscriptionsFile, Scope: ScopeMeta}
		if data, o, ok := sc.readMeta(ctl.fd, SubscriptionsFile, k); ok {
			snap.SubscriptionsRaw = data
			snap.SubscriptionsOwner = o
			snap.Subscriptions = ParseSubscriptions(data, s.layout)
		}
	} else if err != nil {
		return nil, err
	}
	return snap, nil
}

// noAccount is the error for an account whose Maildir root is missing.
func noAccount(a Account) error {
	return fmt.Errorf("account %s: %s: %w", a.Name, a.Root, ErrNoAccount)
}

// folderDirs lists the folder directories of an account relative to its
// root, INBOX ("") first. Directories that are the account's control or
// index directory are not folders. A symbolic link to a directory is a
// folder only when the mail store follows links (its target is checked
// when the folder is opened); otherwise it is reported as skipped.
func (sc *scanner) folderDirs() ([]string, error) {
	a := sc.a
	skip := func(p string) bool {
		return (a.Control != a.Root && p == a.Control) || (a.Index != "" && p == a.Index)
	}
	dirs := []string{""}
	// linked decides about a symbolic link found where a folder
	// directory may be: a folder when it leads to a directory.
	linked := func(parent int, rel, n string) {
		var st unix.Stat_t
		if unix.Fstatat(parent, n, &st, 0) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return // dangling, or not a directory: never a folder
		}
		if sc.s.follow {
			dirs = append(dirs, rel)
			return
		}
		sc.skip(Skip{Folder: FolderName(sc.s.layout, rel), Dir: rel, Path: rel, Scope: ScopeFolder, Subtree: sc.s.layout == LayoutFS}, &refusal{ReasonSymlink})
	}
	if sc.s.layout != LayoutFS {
		var links []string
		err := readDir(sc.t.fd, sc.buf, func(name []byte, typ byte) {
			if len(name) < 2 || name[0] != '.' {
				return
			}
			n := string(name)
			// ".INBOX" would shadow INBOX (it is where CONTROL= puts
			// INBOX's files, never a Maildir++ folder).
			if strings.EqualFold(n, "."+Inbox) || skip(filepath.Join(a.Root, n)) {
				return
			}
			switch typeAt(sc.t.fd, n, typ) {
			case unix.DT_DIR:
				dirs = append(dirs, n)
			case unix.DT_LNK:
				links = append(links, n)
			}
		})
		if err != nil {
			return nil, &fs.PathError{Op: "getdents", Path: a.Root, Err: err}
		}
		for _, n := range links {
			linked(sc.t.fd, n, n)
		}
		return dirs, nil
	}
	var walk func(fd int, rel string) error
	walk = func(fd int, rel string) error {
		type entry struct {
			name string
			typ  byte
		}
		var ents []entry
		err := readDir(fd, sc.buf, func(name []byte, typ byte) {
			if len(name) == 0 || name[0] == '.' {
				return
			}
			n := string(name)
			if n == "cur" || n == "new" || n == "tmp" {
				return
			}
			ents = append(ents, entry{n, typ})
		})
		if err != nil {
			if rel == "" {
				return &fs.PathError{Op: "getdents", Path: a.Root, Err: err}
			}
			sc.skip(Skip{Folder: FolderName(sc.s.layout, rel), Dir: rel, Path: rel, Scope: ScopeFolder, Subtree: true}, err)
			return nil
		}
		for _, e := range ents {
			child := e.name
			if rel != "" {
				child = rel + "/" + e.name
			}
			if skip(filepath.Join(a.Root, child)) {
				continue
			}
			switch typeAt(fd, e.name, e.typ) {
			case unix.DT_DIR:
			case unix.DT_LNK:
				// A folder, but no descent (no loops).
				if rel != "" || !strings.EqualFold(e.name, Inbox) {
					linked(fd, child, e.name)
				}
				continue
			default:
				continue
			}
			// A top-level "INBOX" directory holds INBOX's children; it
			// would shadow INBOX itself, which is the root.
			if rel != "" || !strings.EqualFold(e.name, Inbox) {
				dirs = append(dirs, child)
			}
			sub, err := sc.t.openDir(fd, e.name)
			if errors.Is(err, unix.ENOENT) {
				continue // vanished: a folder deleted or renamed meanwhile
			}
			if err != nil {
				sc.skip(Skip{Folder: FolderName(sc.s.layout, child), Dir: child, Path: child, Scope: ScopeFolder, Subtree: true}, err)
				continue
			}
			err = walk(sub, child)
			unix.Close(sub)
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(sc.t.fd, ""); err != nil {
		return nil, err
	}
	return dirs, nil
}

// typeAt returns a directory entry's type, asking the file system (without
// following a link) when getdents did not say.
func typeAt(parent int, name string, typ byte) byte {
	if typ != unix.DT_UNKNOWN {
		return typ
	}
	var st unix.Stat_t
	if unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return unix.DT_UNKNOWN
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFREG:
		return unix.DT_REG
	}
	return unix.DT_UNKNOWN
}

// scanner holds the state of one Scan.
type scanner struct {
	s     *Store
	a     Account
	t     *tree  // the account's root
	ctl   *tree  // the control directory with CONTROL=, once opened
	buf   []byte // getdents buffer
	snap  *Snapshot
	reuse func(dir string, st Stamp) bool
	ctx   context.Context // nil: never stopped
}

// stopped returns the error of the scan's context once it is done.
func (sc *scanner) stopped() error {
	if sc.ctx == nil {
		return nil
	}
	if err := sc.ctx.Err(); err != nil {
		return fmt.Errorf("account %s: scan stopped: %w", sc.a.Name, err)
	}
	return nil
}

// skip records what was not read: err is a *refusal or the error reading
// it.
func (sc *scanner) skip(k Skip, err error) {
	if k.Reason = refusedFor(err); k.Reason == "" {
		k.Reason, k.Err = ReasonUnreadable, err
	}
	sc.snap.Skipped = append(sc.snap.Skipped, k)
}

// controlRoot returns the tree of the directory holding dovecot-uidlist,
// dovecot-keywords and subscriptions: the account's root, or with
// CONTROL= the control directory (nil when it does not exist yet).
func (sc *scanner) controlRoot() (*tree, error) {
	if sc.s.control == nil {
		return sc.t, nil
	}
	if sc.ctl == nil {
		t, err := openTree(sc.s.control.fixedDir(), sc.a.Control, sc.s.follow)
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", sc.a.Name, err)
		}
		sc.ctl = t
	}
	return sc.ctl, nil
}

func (sc *scanner) closeControl() {
	if sc.ctl != nil {
		sc.ctl.close()
	}
}

// controlDir opens the directory that holds a folder's dovecot-uidlist and
// dovecot-keywords: dfd, the folder's own, without CONTROL=. It returns -1
// when there is none, and rel, its path for messages.
func (sc *scanner) controlDir(f *Folder, dfd int) (fd int, rel string, err error) {
	if sc.s.control == nil {
		fd, err := unix.Dup(dfd)
		return fd, f.Dir, err
	}
	ctl, err := sc.controlRoot()
	if err != nil || ctl == nil {
		return -1, "", err
	}
	rel, _ = filepath.Rel(sc.a.Control, sc.s.ControlDir(sc.a, f.Dir))
	fd, err = ctl.openRel(rel)
	if errors.Is(err, unix.ENOENT) && f.Dir == "" {
		// Older Dovecot versions kept INBOX's files in the control root.
		rel = ""
		fd, err = ctl.openRel(rel)
	}
	switch {
	case errors.Is(err, unix.ENOENT):
		return -1, "", nil
	case err != nil:
		sc.skip(Skip{Folder: f.Name, Dir: f.Dir, Path: rel, Scope: ScopeMeta}, err)
		return -1, "", nil
	}
	return fd, rel, nil
}

// mtimeAt returns a file's modification time in Unix ns, 0 when absent.
func mtimeAt(dirfd int, name string) int64 {
	var st unix.Stat_t
	if dirfd < 0 || unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return 0
	}
	return st.Mtim.Nano()
}

// folder scans one folder directory. ok is false when it is not a folder
// (no cur/ or new/), vanished, or could not be opened (then it is in
// Skipped).
func (sc *scanner) folder(dir string) (f Folder, ok bool, err error) {
	f = Folder{Name: FolderName(sc.s.layout, dir), Dir: dir}
	path := filepath.Join(sc.a.Root, dir)
	dfd, err := sc.t.openRel(dir)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) {
			sc.skip(Skip{Folder: f.Name, Dir: dir, Path: dir, Scope: ScopeFolder}, err)
		}
		return f, false, nil
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return f, false, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	f.Owner = ownerOf(&st)
	subs := [2]string{"new", "cur"}
	var names [2][]string
	fds := [2]int{-1, -1}
	defer func() {
		for _, fd := range fds {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}()
	skipped := len(sc.snap.Skipped)
	for k, sub := range subs {
		fd, err := sc.t.openDir(dfd, sub)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				sc.skip(Skip{Folder: f.Name, Dir: dir, Path: filepath.Join(dir, sub), Scope: ScopeFolder}, err)
			}
			continue
		}
		fds[k] = fd
		var dst unix.Stat_t
		if err := unix.Fstat(fd, &dst); err != nil {
			return f, false, &fs.PathError{Op: "fstat", Path: filepath.Join(path, sub), Err: err}
		}
		if k == 0 {
			f.Stamp.New = dst.Mtim.Nano()
		} else {
			f.Stamp.Cur = dst.Mtim.Nano()
		}
	}
	partial := len(sc.snap.Skipped) > skipped
	if dir != "" && fds[0] < 0 && fds[1] < 0 && !partial {
		return f, false, nil // not a folder: Dovecot's \NoSelect parents (LAYOUT=fs)
	}
	cfd, cdir, err := sc.controlDir(&f, dfd)
	if err != nil {
		return f, false, err
	}
	if cfd >= 0 {
		defer unix.Close(cfd)
	}
	f.Stamp.UIDList, f.Stamp.Keywords = mtimeAt(cfd, UIDListFile), mtimeAt(cfd, KeywordsFile)
	if sc.reuse != nil && !partial && sc.reuse(dir, f.Stamp) {
		f.Reused = true
		return f, true, nil
	}
	if dir != "" && fds[1] < 0 && fds[0] >= 0 && !partial {
		sc.snap.Warnings = append(sc.snap.Warnings, fmt.Errorf("folder %s (%s) has new/ but no cur/: its new/ is backed up", f.Name, path))
	}
	for k, sub := range subs {
		if fds[k] < 0 {
			continue
		}
		subPath := filepath.Join(path, sub)
		var err error
		if names[k], err = sc.list(fds[k], &f, sub); err != nil {
			sc.skip(Skip{Folder: f.Name, Dir: dir, Path: filepath.Join(dir, sub), Scope: ScopeFolder}, err)
			names[k] = nil
		}
		if testHookListed != nil {
			testHookListed(subPath)
		}
	}
	msgs := make([]Message, len(names[0])+len(names[1]))
	letters := make([]uint32, len(msgs))
	off, vanished := 0, 0
	for k, sub := range subs {
		n := len(names[k])
		d := sc.dirScan(&f, fds[k], sub)
		v, skips := d.statAll(names[k], msgs[off:off+n], letters[off:off+n])
		sc.snap.Skipped = append(sc.snap.Skipped, skips...)
		off += n
		vanished += v
	}
	if err := sc.stopped(); err != nil {
		return f, false, err // the stats were cut short
	}
	if vanished > 0 {
		// Files renamed while we listed (flag changes, new/ → cur/):
		// list again once and pick up the bases we lost.
		msgs, letters = sc.relist(&f, subs, fds, msgs, letters, skipped)
	}

	k := Skip{Folder: f.Name, Dir: dir, Path: filepath.Join(cdir, KeywordsFile), Scope: ScopeMeta}
	if data, o, ok := sc.readMeta(cfd, KeywordsFile, k); ok {
		f.KeywordsOwner = o
		f.Keywords, err = ParseKeywords(data)
		if err != nil {
			sc.snap.Warnings = append(sc.snap.Warnings, fmt.Errorf("%s: %w", k.Path, err))
		}
	}
	var uids map[string]uint32
	k.Path = filepath.Join(cdir, UIDListFile)
	if data, o, ok := sc.readMeta(cfd, UIDListFile, k); ok {
		f.UIDListOwner = o
		l, perr := ParseUIDList(data)
		if perr != nil {
			sc.snap.Warnings = append(sc.snap.Warnings, fmt.Errorf("%s: %w", k.Path, perr))
		}
		if l.Version != 0 {
			f.UIDValidity, f.NextUID, f.GUID, f.UIDExt = l.UIDValidity, l.Next(), l.GUID, l.HeaderExt
			uids = make(map[string]uint32, len(l.Entries))
			for _, e := range l.Entries {
				uids[e.Base] = e.UID
			}
		}
	}

	kwCache := map[uint32][]string{}
	kept := msgs[:0]
	for i := range msgs {
		m := msgs[i]
		if m.Name == "" {
			continue // vanished, or not a regular file
		}
		m.UID = uids[m.Base]
		if l := letters[i]; l != 0 {
			kw, ok := kwCache[l]
			if !ok {
				kw = keywordNames(f.Keywords, l)
				kwCache[l] = kw
			}
			m.Keywords = kw
		}
		kept = append(kept, m)
	}
	f.Messages = kept
	sort.Slice(f.Messages, func(i, j int) bool {
		mi, mj := &f.Messages[i], &f.Messages[j]
		if mi.UID != mj.UID {
			if mi.UID == 0 || mj.UID == 0 {
				return mj.UID == 0
			}
			return mi.UID < mj.UID
		}
		return mi.Name < mj.Name
	})
	return f, true, nil
}

// relist lists new/ and cur/ again and stats the files whose base name the
// first pass did not see (nor skipped: the skips of this folder start at
// Skipped[from]), appending them to msgs and letters. A listing that fails
// now is reported as skipped.
func (sc *scanner) relist(f *Folder, subs [2]string, fds [2]int, msgs []Message, letters []uint32, from int) ([]Message, []uint32) {
	seen := make(map[string]bool, len(msgs))
	for i := range msgs {
		if msgs[i].Name != "" {
			seen[msgs[i].Base] = true
		}
	}
	for _, k := range sc.snap.Skipped[from:] {
		if k.Name != "" {
			seen[baseOf(k.Name)] = true
		}
	}
	for k, sub := range subs {
		if fds[k] < 0 {
			continue
		}
		_, err := unix.Seek(fds[k], 0, 0)
		var names []string
		if err == nil {
			names, err = sc.list(fds[k], nil, sub)
		}
		if err != nil {
			sc.skip(Skip{Folder: f.Name, Dir: f.Dir, Path: filepath.Join(f.Dir, sub), Scope: ScopeFolder}, err)
			continue
		}
		fresh := names[:0]
		for _, n := range names {
			if b := baseOf(n); !seen[b] {
				seen[b] = true
				fresh = append(fresh, n)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		out, ls := make([]Message, len(fresh)), make([]uint32, len(fresh))
		_, skips := sc.dirScan(f, fds[k], sub).statRange(fresh, out, ls)
		sc.snap.Skipped = append(sc.snap.Skipped, skips...)
		msgs, letters = append(msgs, out...), append(letters, ls...)
	}
	return msgs, letters
}

// statParallelMin is the number of files from which statAll spreads its
// stat calls over several goroutines.
var statParallelMin = 2048

// dirScan stats the files of one new/ or cur/ directory, open as fd.
type dirScan struct {
	t         *tree
	fd        int
	sub       string
	folder    string          // name
	dir, path string          // the folder's directory, and new/ or cur/ relative to the root
	done      <-chan struct{} // closed when the scan is stopped; nil: never
}

func (sc *scanner) dirScan(f *Folder, fd int, sub string) *dirScan {
	d := &dirScan{t: sc.t, fd: fd, sub: sub, folder: f.Name, dir: f.Dir, path: filepath.Join(f.Dir, sub)}
	if sc.ctx != nil {
		d.done = sc.ctx.Done()
	}
	return d
}

// skip returns the Skip of one of its files.
func (d *dirScan) skip(name string, err error) Skip {
	k := Skip{Folder: d.folder, Dir: d.dir, Path: filepath.Join(d.path, name), Name: name, ID: baseOf(name), Scope: ScopeMessage}
	if k.Reason = refusedFor(err); k.Reason == "" {
		k.Reason, k.Err = ReasonUnreadable, err
	}
	return k
}

// statAll stats the files and fills out and letters; a file that vanished
// or was skipped leaves its Message empty. It returns how many files
// vanished, and the skipped ones. Large directories are stat'ed by up to
// GOMAXPROCS goroutines (at most 8), which matters where system calls are
// slow (virtual machines).
func (d *dirScan) statAll(names []string, out []Message, letters []uint32) (int, []Skip) {
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	if len(names) < statParallelMin || workers < 2 {
		return d.statRange(names, out, letters)
	}
	var wg sync.WaitGroup
	skips := make([][]Skip, workers)
	vanished := make([]int, workers)
	chunk := (len(names) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(names))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			vanished[w], skips[w] = d.statRange(names[lo:hi], out[lo:hi], letters[lo:hi])
		}(w, lo, hi)
	}
	wg.Wait()
	total := 0
	for _, v := range vanished {
		total += v
	}
	return total, slices.Concat(skips...)
}

// statRange is statAll for one goroutine.
func (d *dirScan) statRange(names []string, out []Message, letters []uint32) (vanished int, skips []Skip) {
	var st unix.Stat_t
	for i, name := range names {
		if i&4095 == 4095 && d.done != nil {
			select {
			case <-d.done:
				return vanished, skips // the caller sees the stop
			default:
			}
		}
		err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if !d.t.follow {
				err = &refusal{ReasonSymlink}
			} else {
				err = d.t.statLink(d.fd, name, &st)
			}
		}
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			err = &refusal{reasonOf(st.Mode)}
		}
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				vanished++ // renamed (flag change) or expunged meanwhile
			} else {
				skips = append(skips, d.skip(name, err))
			}
			continue
		}
		base, flags, l, _ := parseInfo(name)
		letters[i] = l
		out[i] = Message{
			Subdir: d.sub,
			Name:   name,
			Base:   base,
			Flags:  flagStrings[flags],
			Size:   st.Size,
			MTime:  time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
			Ino:    st.Ino,
			Dev:    uint64(st.Dev),
			Owner:  ownerOf(&st),
		}
	}
	return vanished, skips
}

// list reads the names in a new/ or cur/ directory, skipping names
// starting with '.' (never messages). With f set, entries whose type is
// known not to be a regular file (nor, when the mail store follows links,
// a link) are reported as skipped; without, they are left out silently.
func (sc *scanner) list(fd int, f *Folder, sub string) ([]string, error) {
	var names []string
	var d *dirScan
	err := readDir(fd, sc.buf, func(name []byte, typ byte) {
		if name[0] == '.' {
			return
		}
		switch {
		case typ == unix.DT_REG || typ == unix.DT_UNKNOWN || (typ == unix.DT_LNK && sc.s.follow):
			names = append(names, string(name))
		case f != nil:
			if d == nil {
				d = sc.dirScan(f, fd, sub)
			}
			sc.snap.Skipped = append(sc.snap.Skipped, d.skip(string(name), &refusal{reasonOfType(typ)}))
		}
	})
	return names, err
}

// reasonOfType is reasonOf for a getdents type (DT_x is S_IFx >> 12).
func reasonOfType(typ byte) Reason { return reasonOf(uint32(typ) << 12) }

// readDir reads a directory with getdents into buf and calls fn with each
// entry's name (never "." or "..", never empty; valid only during the
// call) and type.
func readDir(fd int, buf []byte, fn func(name []byte, typ byte)) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off < n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			typ := buf[off+18]
			name := buf[off+19 : off+reclen]
			if i := indexNUL(name); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if len(name) == 0 || (name[0] == '.' && (len(name) == 1 || (len(name) == 2 && name[1] == '.'))) {
				continue
			}
			fn(name, typ)
		}
	}
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// readMeta reads a small metadata file (dovecot-uidlist, dovecot-keywords,
// subscriptions) in the directory dirfd (-1: none) and returns its owner;
// ok is false when it is absent, or was skipped (a link, not a regular
// file, unreadable: k, completed, is then in Skipped).
func (sc *scanner) readMeta(dirfd int, name string, k Skip) (data []byte, o Owner, ok bool) {
	if dirfd < 0 {
		return nil, Owner{}, false
	}
	data, o, err := readSmall(sc.t, dirfd, name)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) {
			sc.skip(k, err)
		}
		return nil, Owner{}, false
	}
	return data, o, true
}

// readSmall reads a small file in the directory dirfd, opened as t opens
// files, and returns its owner.
func readSmall(t *tree, dirfd int, name string) ([]byte, Owner, error) {
	var st unix.Stat_t
	fd, err := t.openFile(dirfd, name, &st)
	if err != nil {
		return nil, Owner{}, err
	}
	defer unix.Close(fd)
	data := make([]byte, 0, st.Size+512)
	for {
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, Owner{}, err
		}
		if n == 0 {
			break
		}
		data = data[:len(data)+n]
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	return data, ownerOf(&st), nil
}

// ownerOf extracts owner, group and mode bits from a stat result.
func ownerOf(st *unix.Stat_t) Owner {
	m := fs.FileMode(st.Mode & 0o777)
	if st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return Owner{UID: st.Uid, GID: st.Gid, Mode: m}
}
