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

	"github.com/mailkeep/mailkeep/runtime/store"
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
// It never follows a symbolic link below the part of the mail_store path
// the administrator wrote (see template.fixedDir): every directory is
// opened level by level with O_NOFOLLOW, and every file and directory is
// created, renamed, changed and removed relative to such a handle. A link
// in the way is refused with an error wrapping ErrSymlink that names it.
//
// Call Folder before writing into a folder, hold Lock while writing into a
// folder of a live account, and call Sync at the end to make the renames
// durable.
type Writer struct {
	s *Store
	a Account
	// rootBase and ctlBase are the trusted directories above the
	// account's Maildir root and its control directory.
	rootBase, ctlBase string

	// LockTimeout is how long Lock waits for Dovecot's
	// dovecot-uidlist.lock; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// refresh is how often a held lock is touched; zero means lockRefresh.
	refresh time.Duration

	mu    sync.Mutex
	bases map[string]map[string]bool // folder dir → base names in new/ and cur/
	dirty map[string]string          // directories to fsync in Sync → their trusted base
}

// tmpSeq makes temporary names unique within the process.
var tmpSeq atomic.Uint64

// Writer returns a Writer for an account of the Store.
func (s *Store) Writer(a Account) *Writer {
	w := &Writer{s: s, a: a, bases: map[string]map[string]bool{}, dirty: map[string]string{}}
	w.rootBase = s.path.fixedDir()
	w.ctlBase = w.rootBase
	if s.control != nil {
		w.ctlBase = s.control.fixedDir()
	}
	return w
}

// folderDir opens a directory below the account's Maildir root (rel ""
// is the root); see openDirBelow for create, o and applyLast.
func (w *Writer) folderDir(rel string, create bool, o Owner, applyLast bool) (*dirHandle, error) {
	return openDirBelow(w.rootBase, filepath.Join(w.a.Root, rel), create, o, applyLast)
}

// controlDir opens a folder's control directory (see Store.ControlDir).
func (w *Writer) controlDir(folderDir string, create bool, o Owner, applyLast bool) (*dirHandle, error) {
	return openDirBelow(w.ctlBase, w.s.ControlDir(w.a, folderDir), create, o, applyLast)
}

// FolderSpec says which folder Writer.Folder creates: Dir is relative to
// the Maildir root as in Folder.Dir.
type FolderSpec = store.FolderSpec

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
	fd, err := w.folderDir(dir, true, f.Owner, true)
	if err != nil {
		return err
	}
	defer fd.close()
	for _, sub := range [3]string{"cur", "new", "tmp"} {
		d, err := fd.sub(sub, true, f.Owner, true)
		if err != nil {
			return err
		}
		d.close()
	}
	if dir != "" && w.s.layout != LayoutFS {
		mf, err := fd.create(maildirFolderFile, fileModeFor(f.Owner.Mode))
		switch {
		case err == nil:
			err = applyOwnerFile(mf, fileOwner(f.Owner))
			mf.Close()
			if err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrExist):
			return err
		}
	}
	if w.s.control != nil {
		ctl, err := w.controlDir(dir, true, f.Owner, true)
		if err != nil {
			return err
		}
		w.markDirty(ctl)
		ctl.close()
	}
	w.markDirty(fd)
	w.markDirtyPath(filepath.Dir(fd.path), fd.base)
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
	f *os.File
	// tmp is its name in tmp/; subdir and name where it goes.
	tmp, subdir, name string
	folderDir, base   string
}

// dest is the path the message goes to, for messages.
func (w *Writer) dest(st *Staged) string {
	return filepath.Join(w.a.Root, st.folderDir, st.subdir, st.name)
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
	st := &Staged{subdir: subdir, name: name, folderDir: folderDir, base: baseOf(name)}
	if exists, err := w.reserveBase(folderDir, st.base); err != nil {
		return nil, err
	} else if exists {
		return nil, fmt.Errorf("%s: %w", w.dest(st), ErrExists)
	}
	tmp, err := w.folderDir(filepath.Join(folderDir, "tmp"), false, Owner{}, false)
	if err != nil {
		w.unreserve(st)
		return nil, err
	}
	defer tmp.close()
	st.tmp = tempName("")
	f, err := tmp.create(st.tmp, fileModeFor(o.Mode))
	if err != nil {
		w.unreserve(st)
		return nil, err
	}
	st.f = f
	fail := func(err error) (*Staged, error) {
		w.discardIn(tmp, st)
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		return fail(fmt.Errorf("writing %s: %w", f.Name(), err))
	}
	if err := applyOwnerFile(f, o); err != nil {
		return fail(err)
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	if err := unix.UtimesNanoAt(tmp.fd, st.tmp, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail(&fs.PathError{Op: "utimensat", Path: f.Name(), Err: err})
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
	dirs := map[string]*dirHandle{}
	defer func() {
		for _, d := range dirs {
			d.close()
		}
	}()
	open := func(rel string) (*dirHandle, error) {
		if d, ok := dirs[rel]; ok {
			return d, nil
		}
		d, err := w.folderDir(rel, false, Owner{}, false)
		if err == nil {
			dirs[rel] = d
		}
		return d, err
	}
	for j, st := range batch {
		if errs[j] != nil {
			w.discard(st)
			continue
		}
		tmp, err := open(filepath.Join(st.folderDir, "tmp"))
		if err != nil {
			w.unreserve(st)
			errs[j] = err
			continue
		}
		dest, err := open(filepath.Join(st.folderDir, st.subdir))
		if err == nil {
			err = tmp.renameNoReplace(st.tmp, dest, st.name)
		}
		if err != nil {
			w.discardIn(tmp, st)
			if errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("%s: %w", w.dest(st), ErrExists)
			}
			errs[j] = err
			continue
		}
		w.markDirty(dest)
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
	tmp, err := w.folderDir(filepath.Join(st.folderDir, "tmp"), false, Owner{}, false)
	if err != nil {
		// The tmp/ directory was replaced meanwhile: its file cannot be
		// named safely any more; the next restore's cleanup removes it.
		if st.f != nil {
			st.f.Close()
			st.f = nil
		}
		w.unreserve(st)
		return
	}
	defer tmp.close()
	w.discardIn(tmp, st)
}

// discardIn drops a staged message whose tmp/ directory is open.
func (w *Writer) discardIn(tmp *dirHandle, st *Staged) {
	if st.f != nil {
		st.f.Close()
		st.f = nil
	}
	tmp.remove(st.tmp)
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
			d, err := w.folderDir(filepath.Join(folderDir, sub), false, Owner{}, false)
			if err != nil {
				return false, err // the folder must exist: call Folder first
			}
			names, err := d.names()
			d.close()
			if err != nil {
				return false, err
			}
			for _, n := range names {
				set[baseOf(n)] = true
			}
		}
		w.bases[folderDir] = set
	}
	if set[base] {
		return true, nil
	}
	set[base] = true
	return false, nil
}

// uniqueName returns a Maildir unique name, for a message written under
// a new identity.
func uniqueName() string {
	now := time.Now()
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), tmpSeq.Add(1), fileHost())
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
	ctl, err := w.controlDir(folderDir, false, Owner{}, false)
	if err != nil {
		return err
	}
	defer ctl.close()
	if err := l.validate(); err != nil {
		return fmt.Errorf("%s: %w", ctl.join(UIDListFile), err)
	}
	return w.writeAtomic(ctl, UIDListFile, l.Marshal(), o)
}

// WriteKeywords replaces a folder's dovecot-keywords (in its control
// directory) atomically; names[i] is the keyword of letter 'a'+i.
func (w *Writer) WriteKeywords(folderDir string, names []string, o Owner) error {
	if err := checkFolderDir(w.s.layout, folderDir); err != nil {
		return fmt.Errorf("account %s: %w", w.a.Name, err)
	}
	ctl, err := w.controlDir(folderDir, false, Owner{}, false)
	if err != nil {
		return err
	}
	defer ctl.close()
	data, err := FormatKeywords(names)
	if err != nil {
		return fmt.Errorf("%s: %w", ctl.join(KeywordsFile), err)
	}
	return w.writeAtomic(ctl, KeywordsFile, data, o)
}

// WriteSubscriptions replaces the account's subscriptions file atomically.
// When raw is non-nil its exact bytes are written; otherwise names (UTF-8,
// '/' separated) are written in Dovecot's version 2 format. The control
// directory is created (with o's owner) when missing.
func (w *Writer) WriteSubscriptions(names []string, raw []byte, o Owner) error {
	ctl, err := openDirBelow(w.ctlBase, w.a.Control, true, Owner{UID: o.UID, GID: o.GID, Mode: dirModeFor(o.Mode)}, false)
	if err != nil {
		return err
	}
	defer ctl.close()
	removeStaleTemps(ctl, false)
	data := raw
	if data == nil {
		data = FormatSubscriptions(names)
	}
	return w.writeAtomic(ctl, SubscriptionsFile, data, o)
}

// writeAtomic writes a file next to name in dir, fsyncs it, gives it its
// owner and mode and renames it over name (a link there is replaced, not
// followed).
func (w *Writer) writeAtomic(dir *dirHandle, name string, data []byte, o Owner) error {
	tmp := tempName(name + ".")
	f, err := dir.create(tmp, fileModeFor(o.Mode))
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
		err = dir.rename(tmp, name)
	}
	if err != nil {
		dir.remove(tmp)
		return err
	}
	w.markDirty(dir)
	return nil
}

// markDirty notes a directory to fsync in Sync.
func (w *Writer) markDirty(d *dirHandle) { w.markDirtyPath(d.path, d.base) }

func (w *Writer) markDirtyPath(path, base string) {
	w.mu.Lock()
	w.dirty[path] = base
	w.mu.Unlock()
}

// Sync fsyncs every directory the Writer changed, making its renames
// durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	dirty := w.dirty
	w.dirty = map[string]string{}
	w.mu.Unlock()
	for path, base := range dirty {
		d, err := openDirBelow(base, path, false, Owner{}, false)
		if err != nil {
			return err
		}
		err = d.sync()
		d.close()
		if err != nil {
			return err
		}
	}
	return nil
}
