package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Default modes when a Writer is given a zero Owner: Dovecot's own.
const (
	defaultDirMode  fs.FileMode = 0o700
	defaultFileMode fs.FileMode = 0o600
)

// maildirFolderFile marks a Maildir++ sub-folder (for delivery agents that
// must not treat it as a Maildir root).
const maildirFolderFile = "maildirfolder"

// Writer writes into one account as a Maildir writer must: files go to
// tmp/, are fsynced and renamed into place, and get the owner and mode they
// had, so that the (unprivileged) mail server can use them. It never
// replaces a message. Its methods are safe for concurrent use.
//
// Call Folder before writing into a folder, hold Lock while writing into a
// folder of a live account, and call Sync at the end to make the renames
// durable.
type Writer struct {
	s *Store
	a Account

	// LockTimeout is how long Lock waits for Dovecot's
	// dovecot-uidlist.lock; zero means DefaultLockTimeout.
	LockTimeout time.Duration

	mu    sync.Mutex
	bases map[string]map[string]bool // folder dir → base names in new/ and cur/
	dirty map[string]bool            // directories to fsync in Sync
}

// tmpSeq makes temporary names unique within the process.
var tmpSeq atomic.Uint64

// Writer returns a Writer for an account of the Store.
func (s *Store) Writer(a Account) *Writer {
	return &Writer{s: s, a: a, bases: map[string]map[string]bool{}, dirty: map[string]bool{}}
}

// FolderSpec says which folder Writer.Folder creates.
type FolderSpec struct {
	// Name is the folder's UTF-8 name ("INBOX", "Projects/2026"); used to
	// compute Dir when Dir is "" and Name is not INBOX.
	Name string
	// Dir is the folder's directory relative to the Maildir root as in
	// Folder.Dir; it wins over Name when set.
	Dir string
	// Owner is given to the directories; a zero Owner leaves the owner as
	// created and uses mode 0700.
	Owner Owner
}

// Folder creates a folder's directories: the Maildir root and its missing
// parents, intermediate levels (LAYOUT=fs), the folder directory with cur/,
// new/ and tmp/, maildirfolder in a Maildir++ sub-folder, and its control
// directory with CONTROL=. Directories it creates and the folder's own
// directories get f.Owner (chown and chmod); existing parents are left as
// they are. It is idempotent.
func (w *Writer) Folder(f FolderSpec) error {
	dir, err := w.specDir(f)
	if err != nil {
		return err
	}
	if err := mkdirAll(w.a.Root, f.Owner); err != nil {
		return err
	}
	path := filepath.Join(w.a.Root, dir)
	if dir != "" {
		if err := mkdirAll(filepath.Dir(path), f.Owner); err != nil {
			return err
		}
		if err := mkdirOwned(path, f.Owner); err != nil {
			return err
		}
	} else if err := applyOwner(path, f.Owner, true); err != nil {
		return err
	}
	for _, sub := range [3]string{"cur", "new", "tmp"} {
		if err := mkdirOwned(filepath.Join(path, sub), f.Owner); err != nil {
			return err
		}
	}
	if dir != "" && w.s.layout != LayoutFS {
		p := filepath.Join(path, maildirFolderFile)
		fd, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileModeFor(f.Owner.Mode))
		switch {
		case err == nil:
			fd.Close()
			if err := applyOwner(p, fileOwner(f.Owner), false); err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrExist):
			return err
		}
	}
	if w.s.control != nil {
		if err := mkdirAll(w.a.Control, f.Owner); err != nil {
			return err
		}
		ctl := w.s.ControlDir(w.a, dir)
		if err := mkdirAll(filepath.Dir(ctl), f.Owner); err != nil {
			return err
		}
		if err := mkdirOwned(ctl, f.Owner); err != nil {
			return err
		}
	}
	w.markDirty(filepath.Dir(path))
	return nil
}

// specDir returns the checked directory of a FolderSpec.
func (w *Writer) specDir(f FolderSpec) (string, error) {
	dir := f.Dir
	if dir == "" && f.Name != "" && !strings.EqualFold(f.Name, Inbox) {
		var err error
		if dir, err = FolderDir(w.s.layout, f.Name); err != nil {
			return "", fmt.Errorf("account %s: %w", w.a.Name, err)
		}
	}
	if err := checkFolderDir(w.s.layout, dir); err != nil {
		return "", fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	return dir, nil
}

// WriteMessage writes one message file into folderDir/subdir/name ("new"
// or "cur"): it writes tmp/<unique> (mode and owner from o), sets its
// modification time (the received date) to mtime, fsyncs it and renames it
// into place. It never replaces a file: when a file with the same base
// name is in new/ or cur/ it returns an error wrapping ErrExists.
func (w *Writer) WriteMessage(folderDir, subdir, name string, r io.Reader, mtime time.Time, o Owner) error {
	st, err := w.Stage(folderDir, subdir, name, r, mtime, o)
	if err != nil {
		return err
	}
	return w.Publish([]*Staged{st})[0]
}

// Staged is a message written into its folder's tmp/ but not yet durable
// nor visible; Publish puts it in place, Discard drops it.
type Staged struct {
	f               *os.File
	tmp, dest       string
	folderDir, base string
	dir             string // the directory the message goes to
}

// Stage writes a message into tmp/<unique> with its owner, mode and
// modification time, without syncing it, and reserves its base name. A
// base name already in new/ or cur/ gives an error wrapping ErrExists.
// Publish many staged messages at once to share the cost of making them
// durable.
func (w *Writer) Stage(folderDir, subdir, name string, r io.Reader, mtime time.Time, o Owner) (*Staged, error) {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return nil, fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	if subdir != "new" && subdir != "cur" {
		return nil, fmt.Errorf("account %s: message subdirectory %q is not \"new\" or \"cur\"", w.a.Name, subdir)
	}
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/\x00") {
		return nil, fmt.Errorf("account %s: %q is not a Maildir file name", w.a.Name, name)
	}
	dir := filepath.Join(w.a.Root, folderDir)
	st := &Staged{dest: filepath.Join(dir, subdir, name), folderDir: folderDir, base: baseOf(name), dir: filepath.Join(dir, subdir)}
	if exists, err := w.reserveBase(folderDir, st.base); err != nil {
		return nil, err
	} else if exists {
		return nil, fmt.Errorf("%s: %w", st.dest, ErrExists)
	}
	st.tmp = filepath.Join(dir, "tmp", uniqueName())
	f, err := os.OpenFile(st.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileModeFor(o.Mode))
	if err != nil {
		w.unreserve(st)
		return nil, err
	}
	st.f = f
	fail := func(err error) (*Staged, error) {
		w.discard(st)
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		return fail(fmt.Errorf("writing %s: %w", st.tmp, err))
	}
	if err := applyOwnerFile(f, o); err != nil {
		return fail(err)
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, st.tmp, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail(&fs.PathError{Op: "utimensat", Path: st.tmp, Err: err})
	}
	return st, nil
}

// publishSyncers bounds the fsyncs Publish runs at once; concurrent
// fsyncs let the filesystem share one journal commit among them.
const publishSyncers = 16

// Publish makes staged messages durable (fsyncing them concurrently) and
// renames each into place, never over an existing file. It returns one
// error per message, nil for those now in place; a message whose name was
// taken meanwhile gets an error wrapping ErrExists. Staged messages are
// consumed whatever the outcome.
func (w *Writer) Publish(batch []*Staged) []error {
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	next := make(chan int)
	for i := 0; i < min(publishSyncers, len(batch)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				st := batch[j]
				err := st.f.Sync()
				if cerr := st.f.Close(); err == nil {
					err = cerr
				}
				st.f = nil
				errs[j] = err
			}
		}()
	}
	for j := range batch {
		next <- j
	}
	close(next)
	wg.Wait()
	for j, st := range batch {
		if errs[j] != nil {
			w.discard(st)
			continue
		}
		if err := renameNoReplace(st.tmp, st.dest); err != nil {
			os.Remove(st.tmp)
			w.unreserve(st)
			if errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("%s: %w", st.dest, ErrExists)
			}
			errs[j] = err
			continue
		}
		w.markDirty(st.dir)
	}
	return errs
}

// Discard drops staged messages that will not be published.
func (w *Writer) Discard(batch []*Staged) {
	for _, st := range batch {
		w.discard(st)
	}
}

func (w *Writer) discard(st *Staged) {
	if st.f != nil {
		st.f.Close()
		st.f = nil
	}
	os.Remove(st.tmp)
	w.unreserve(st)
}

// unreserve forgets the base name a failed write reserved.
func (w *Writer) unreserve(st *Staged) {
	w.mu.Lock()
	delete(w.bases[st.folderDir], st.base)
	w.mu.Unlock()
}

// reserveBase reports whether a base name is in the folder's new/ or cur/
// (listing both once per Writer and folder) and, when it is not, reserves
// it for the caller.
func (w *Writer) reserveBase(folderDir, base string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set, ok := w.bases[folderDir]
	if !ok {
		set = map[string]bool{}
		for _, sub := range [2]string{"new", "cur"} {
			p := filepath.Join(w.a.Root, folderDir, sub)
			d, err := os.Open(p)
			if err != nil {
				return false, err // the folder must exist: call Folder first
			}
			for {
				names, err := d.Readdirnames(4096)
				for _, n := range names {
					set[baseOf(n)] = true
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					d.Close()
					return false, &fs.PathError{Op: "readdir", Path: p, Err: err}
				}
			}
			d.Close()
		}
		w.bases[folderDir] = set
	}
	if set[base] {
		return true, nil
	}
	set[base] = true
	return false, nil
}

// renameNoReplace renames without replacing an existing destination:
// renameat2(RENAME_NOREPLACE), or link and unlink where the filesystem
// lacks it. An existing destination gives an error wrapping fs.ErrExist.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err == nil {
		return nil
	}
	if err != unix.EINVAL && err != unix.ENOSYS && err != unix.EOPNOTSUPP {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	if err := os.Link(from, to); err != nil {
		return err
	}
	return os.Remove(from)
}

// uniqueName returns a Maildir unique name for a file in tmp/.
func uniqueName() string {
	now := time.Now()
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host)
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), tmpSeq.Add(1), host)
}

// WriteUIDList replaces a folder's dovecot-uidlist (in its control
// directory) atomically with a version 3 file. Entries are written sorted
// by UID; the header's N is the larger of nextUID and the highest UID + 1.
// Hold Lock(folderDir) when Dovecot may be running.
func (w *Writer) WriteUIDList(folderDir string, uidValidity, nextUID uint32, guid string, entries []UIDEntry, o Owner) error {
	return w.WriteUIDListFile(folderDir, &UIDList{Version: 3, UIDValidity: uidValidity, NextUID: nextUID, GUID: guid, Entries: entries}, o)
}

// WriteUIDListFile is WriteUIDList for a whole UIDList, header extension
// fields included.
func (w *Writer) WriteUIDListFile(folderDir string, l *UIDList, o Owner) error {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	path := filepath.Join(w.s.ControlDir(w.a, folderDir), UIDListFile)
	if err := l.validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return w.writeAtomic(path, l.Marshal(), o)
}

// WriteKeywords replaces a folder's dovecot-keywords (in its control
// directory) atomically; names[i] is the keyword of letter 'a'+i.
func (w *Writer) WriteKeywords(folderDir string, names []string, o Owner) error {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	path := filepath.Join(w.s.ControlDir(w.a, folderDir), KeywordsFile)
	data, err := FormatKeywords(names)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return w.writeAtomic(path, data, o)
}

// WriteSubscriptions replaces the account's subscriptions file atomically.
// When raw is non-nil its exact bytes are written; otherwise names (UTF-8,
// '/' separated) are written in Dovecot's version 2 format. The control
// directory is created (with o's owner) when missing.
func (w *Writer) WriteSubscriptions(names []string, raw []byte, o Owner) error {
	if err := mkdirAll(w.a.Control, Owner{UID: o.UID, GID: o.GID, Mode: dirModeFor(o.Mode)}); err != nil {
		return err
	}
	data := raw
	if data == nil {
		data = FormatSubscriptions(names)
	}
	return w.writeAtomic(filepath.Join(w.a.Control, SubscriptionsFile), data, o)
}

// writeAtomic writes a file next to path, fsyncs it, gives it its owner
// and mode and renames it over path.
func (w *Writer) writeAtomic(path string, data []byte, o Owner) error {
	tmp := fmt.Sprintf("%s.mailkeep-%d-%d.tmp", path, os.Getpid(), tmpSeq.Add(1))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileModeFor(o.Mode))
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = applyOwnerFile(f, o)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	w.markDirty(filepath.Dir(path))
	return nil
}

func (w *Writer) markDirty(dir string) {
	w.mu.Lock()
	w.dirty[dir] = true
	w.mu.Unlock()
}

// Sync fsyncs every directory the Writer changed, making its renames
// durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	dirs := make([]string, 0, len(w.dirty))
	for d := range w.dirty {
		dirs = append(dirs, d)
	}
	w.dirty = map[string]bool{}
	w.mu.Unlock()
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return &fs.PathError{Op: "fsync", Path: d, Err: err}
		}
	}
	return nil
}
