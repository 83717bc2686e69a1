package maildir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
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
func (s *Store) Scan(a Account) (*Snapshot, error) {
	return s.ScanWith(a, ScanOptions{})
}

// ScanOptions tune ScanWith.
type ScanOptions struct {
	// Reuse, when set, is asked about each folder once its stamp is known
	// (before its messages are listed); when it returns true the folder is
	// not listed and comes back with Reused set and no messages.
	Reuse func(dir string, st Stamp) bool
}

// ScanWith is Scan with options: a caller that remembers each folder's
// stamp from an earlier scan can skip the folders that did not change.
func (s *Store) ScanWith(a Account, opts ScanOptions) (*Snapshot, error) {
	var st unix.Stat_t
	if err := unix.Stat(a.Root, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, noAccount(a)
		}
		return nil, &fs.PathError{Op: "stat", Path: a.Root, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("account %s: %s is not a directory", a.Name, a.Root)
	}
	snap := &Snapshot{Account: a, Owner: ownerOf(&st)}
	dirs, err := s.folderDirs(a)
	if errors.Is(err, fs.ErrNotExist) {
		// Removed between the stat and the listing.
		return nil, noAccount(a)
	}
	if err != nil {
		return nil, err
	}
	sc := scanner{s: s, a: a, buf: make([]byte, 64<<10), snap: snap, reuse: opts.Reuse}
	for _, dir := range dirs {
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
	subs := filepath.Join(a.Control, SubscriptionsFile)
	if data, o, err := readSmall(subs); err == nil {
		snap.SubscriptionsRaw = data
		snap.SubscriptionsOwner = o
		snap.Subscriptions = ParseSubscriptions(data, s.layout)
	} else if !errors.Is(err, fs.ErrNotExist) {
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
// index directory are not folders.
func (s *Store) folderDirs(a Account) ([]string, error) {
	skip := func(p string) bool {
		return (a.Control != a.Root && p == a.Control) || (a.Index != "" && p == a.Index)
	}
	dirs := []string{""}
	if s.layout != LayoutFS {
		ents, err := os.ReadDir(a.Root)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			// ".INBOX" would shadow INBOX (it is where CONTROL= puts
			// INBOX's files, never a Maildir++ folder).
			if len(n) < 2 || n[0] != '.' || n == ".." || strings.EqualFold(n, "."+Inbox) || skip(filepath.Join(a.Root, n)) {
				continue
			}
			if isDirEntry(a.Root, e) {
				dirs = append(dirs, n)
			}
		}
		return dirs, nil
	}
	var walk func(rel string) error
	walk = func(rel string) error {
		p := filepath.Join(a.Root, rel)
		ents, err := os.ReadDir(p)
		if err != nil {
			if rel != "" && errors.Is(err, fs.ErrNotExist) {
				return nil // vanished: a folder deleted or renamed meanwhile
			}
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || n == "cur" || n == "new" || n == "tmp" {
				continue
			}
			child := n
			if rel != "" {
				child = rel + "/" + n
			}
			if skip(filepath.Join(a.Root, child)) || !isDirEntry(p, e) {
				continue
			}
			// A top-level "INBOX" directory holds INBOX's children; it
			// would shadow INBOX itself, which is the root.
			if rel != "" || !strings.EqualFold(n, Inbox) {
				dirs = append(dirs, child)
			}
			if !e.IsDir() {
				continue // a symbolic link: a folder, but no descent (no loops)
			}
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return dirs, nil
}

// isDirEntry reports whether a directory entry is a directory, following
// a symbolic link as Dovecot does.
func isDirEntry(parent string, e fs.DirEntry) bool {
	switch {
	case e.IsDir():
		return true
	case e.Type()&fs.ModeSymlink != 0:
		fi, err := os.Stat(filepath.Join(parent, e.Name()))
		return err == nil && fi.IsDir()
	}
	return false
}

// scanner holds the state of one Scan.
type scanner struct {
	s     *Store
	a     Account
	buf   []byte // getdents buffer
	snap  *Snapshot
	reuse func(dir string, st Stamp) bool
}

// mtimeOf returns a path's modification time in Unix ns, 0 when absent.
func mtimeOf(path string) int64 {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return 0
	}
	return st.Mtim.Nano()
}

// controlFiles returns the paths of a folder's dovecot-uidlist and
// dovecot-keywords.
func (sc *scanner) controlFiles(dir string) (uidPath, kwPath string) {
	ctl := sc.s.ControlDir(sc.a, dir)
	uidPath, kwPath = filepath.Join(ctl, UIDListFile), filepath.Join(ctl, KeywordsFile)
	if dir == "" && sc.s.control != nil {
		// Older Dovecot versions kept INBOX's files in the control root.
		if _, err := os.Lstat(ctl); errors.Is(err, fs.ErrNotExist) {
			uidPath, kwPath = filepath.Join(sc.a.Control, UIDListFile), filepath.Join(sc.a.Control, KeywordsFile)
		}
	}
	return uidPath, kwPath
}

// folder scans one folder directory. ok is false when it is not a
// selectable folder (no cur/) or vanished.
func (sc *scanner) folder(dir string) (f Folder, ok bool, err error) {
	path := filepath.Join(sc.a.Root, dir)
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return f, false, nil
		}
		return f, false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	f = Folder{Name: FolderName(sc.s.layout, dir), Dir: dir, Owner: ownerOf(&st)}
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
	for k, sub := range subs {
		subPath := filepath.Join(path, sub)
		fd, err := unix.Open(subPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				continue
			}
			return f, false, &fs.PathError{Op: "open", Path: subPath, Err: err}
		}
		fds[k] = fd
		var dst unix.Stat_t
		if err := unix.Fstat(fd, &dst); err != nil {
			return f, false, &fs.PathError{Op: "fstat", Path: subPath, Err: err}
		}
		if k == 0 {
			f.Stamp.New = dst.Mtim.Nano()
		} else {
			f.Stamp.Cur = dst.Mtim.Nano()
		}
	}
	uidPath, kwPath := sc.controlFiles(dir)
	f.Stamp.UIDList, f.Stamp.Keywords = mtimeOf(uidPath), mtimeOf(kwPath)
	if sc.reuse != nil && (dir == "" || fds[1] >= 0) && sc.reuse(dir, f.Stamp) {
		f.Reused = true
		return f, true, nil
	}
	for k, sub := range subs {
		fd := fds[k]
		if fd < 0 {
			continue
		}
		subPath := filepath.Join(path, sub)
		var err error
		if names[k], err = sc.list(fd); err != nil {
			return f, false, &fs.PathError{Op: "getdents", Path: subPath, Err: err}
		}
		if testHookListed != nil {
			testHookListed(subPath)
		}
	}
	hasCur := fds[1] >= 0
	msgs := make([]Message, len(names[0])+len(names[1]))
	letters := make([]uint32, len(msgs))
	off, vanished := 0, 0
	for k, sub := range subs {
		n := len(names[k])
		v, err := statAll(fds[k], filepath.Join(path, sub), sub, names[k], msgs[off:off+n], letters[off:off+n])
		if err != nil {
			return f, false, err
		}
		off += n
		vanished += v
	}
	if vanished > 0 {
		// Files renamed while we listed (flag changes, new/ → cur/):
		// list again once and pick up the bases we lost.
		if msgs, letters, err = sc.relist(path, subs, fds, msgs, letters); err != nil {
			return f, false, err
		}
	}
	if dir != "" && !hasCur {
		return f, false, nil
	}

	if data, o, err := readSmall(kwPath); err == nil {
		f.KeywordsOwner = o
		f.Keywords, err = ParseKeywords(data)
		if err != nil {
			sc.snap.Warnings = append(sc.snap.Warnings, fmt.Errorf("%s: %w", kwPath, err))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return f, false, err
	}
	var uids map[string]uint32
	if data, o, err := readSmall(uidPath); err == nil {
		f.UIDListOwner = o
		l, perr := ParseUIDList(data)
		if perr != nil {
			sc.snap.Warnings = append(sc.snap.Warnings, fmt.Errorf("%s: %w", uidPath, perr))
		}
		if l.Version != 0 {
			f.UIDValidity, f.NextUID, f.GUID, f.UIDExt = l.UIDValidity, l.Next(), l.GUID, l.HeaderExt
			uids = make(map[string]uint32, len(l.Entries))
			for _, e := range l.Entries {
				uids[e.Base] = e.UID
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return f, false, err
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
// first pass did not see, appending them to msgs and letters.
func (sc *scanner) relist(path string, subs [2]string, fds [2]int, msgs []Message, letters []uint32) ([]Message, []uint32, error) {
	seen := make(map[string]bool, len(msgs))
	for i := range msgs {
		if msgs[i].Name != "" {
			seen[msgs[i].Base] = true
		}
	}
	for k, sub := range subs {
		if fds[k] < 0 {
			continue
		}
		subPath := filepath.Join(path, sub)
		if _, err := unix.Seek(fds[k], 0, 0); err != nil {
			return nil, nil, &fs.PathError{Op: "rewinddir", Path: subPath, Err: err}
		}
		names, err := sc.list(fds[k])
		if err != nil {
			return nil, nil, &fs.PathError{Op: "getdents", Path: subPath, Err: err}
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
		if _, err := statRange(fds[k], subPath, sub, fresh, out, ls); err != nil {
			return nil, nil, err
		}
		msgs, letters = append(msgs, out...), append(letters, ls...)
	}
	return msgs, letters, nil
}

// statParallelMin is the number of files from which statAll spreads its
// stat calls over several goroutines.
var statParallelMin = 2048

// statAll stats the files of one new/ or cur/ directory (open as fd) and
// fills out and letters; a file that vanished or is not a regular file
// leaves its Message empty. It returns how many files vanished. Large directories are stat'ed by up to
// GOMAXPROCS goroutines (at most 8), which matters where system calls are
// slow (virtual machines).
func statAll(fd int, dirPath, sub string, names []string, out []Message, letters []uint32) (int, error) {
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	if len(names) < statParallelMin || workers < 2 {
		return statRange(fd, dirPath, sub, names, out, letters)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
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
			vanished[w], errs[w] = statRange(fd, dirPath, sub, names[lo:hi], out[lo:hi], letters[lo:hi])
		}(w, lo, hi)
	}
	wg.Wait()
	total := 0
	for _, v := range vanished {
		total += v
	}
	return total, errors.Join(errs...)
}

// statRange is statAll for one goroutine.
func statRange(fd int, dirPath, sub string, names []string, out []Message, letters []uint32) (vanished int, err error) {
	var st unix.Stat_t
	for i, name := range names {
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				vanished++ // renamed (flag change) or expunged meanwhile
				continue
			}
			return vanished, &fs.PathError{Op: "stat", Path: filepath.Join(dirPath, name), Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		base, flags, l, _ := parseInfo(name)
		letters[i] = l
		out[i] = Message{
			Subdir: sub,
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
	return vanished, nil
}

// list reads the names in a directory with getdents, skipping ".", ".."
// and names starting with '.' (never messages) and entries whose type is
// known not to be a regular file.
func (sc *scanner) list(fd int) ([]string, error) {
	var names []string
	for {
		n, err := unix.Getdents(fd, sc.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		for off := 0; off < n; {
			reclen := int(binary.NativeEndian.Uint16(sc.buf[off+16:]))
			typ := sc.buf[off+18]
			name := sc.buf[off+19 : off+reclen]
			if i := indexNUL(name); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if len(name) == 0 || name[0] == '.' {
				continue
			}
			if typ != unix.DT_REG && typ != unix.DT_UNKNOWN {
				continue
			}
			names = append(names, string(name))
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

// readSmall reads a small metadata file and returns its owner.
func readSmall(path string) ([]byte, Owner, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Owner{}, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, Owner{}, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	data := make([]byte, 0, st.Size+512)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err != nil {
			if err == io.EOF {
				break
			}
			return nil, Owner{}, &fs.PathError{Op: "read", Path: path, Err: err}
		}
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
