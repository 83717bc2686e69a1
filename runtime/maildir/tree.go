package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mailkeep/mailkeep/runtime/store"
)

// Values of the mail_store_symlinks setting: what the driver does with a
// symbolic link below an account's Maildir root.
const (
	// SymlinksRefuse (the default) follows none: a link is reported as
	// skipped and what it points to is never read.
	SymlinksRefuse = "refuse"
	// SymlinksWithinStore follows a link when the file or directory it
	// leads to, once every link on the way is resolved, is the account's
	// root or lies below it; a link that leads anywhere else (another
	// account, another part of the disk) is refused as with
	// SymlinksRefuse.
	SymlinksWithinStore = "within_store"
)

// Reason says why a file or directory below an account's root was not
// read.
type Reason = store.Reason

// The reasons of Skip.
const (
	ReasonSymlink    = store.ReasonSymlink
	ReasonOutside    = store.ReasonOutside
	ReasonFIFO       = store.ReasonFIFO
	ReasonDevice     = store.ReasonDevice
	ReasonSocket     = store.ReasonSocket
	ReasonDirectory  = store.ReasonDirectory
	ReasonNotDir     = store.ReasonNotDir
	ReasonUnreadable = store.ReasonUnreadable
)

// SkipScope says how much of a folder a Skip hides.
type SkipScope = store.SkipScope

// The scopes of Skip: ScopeFolder is the folder's directory, its new/ or
// its cur/; ScopeMeta a dovecot-uidlist, dovecot-keywords or
// subscriptions file.
const (
	ScopeMessage = store.ScopeMessage
	ScopeFolder  = store.ScopeFolder
	ScopeMeta    = store.ScopeMeta
)

// Skip is a file or directory below an account's root that Scan did not
// read, and why.
type Skip = store.Skip

// RefusedError is returned (wrapped) by OpenMessage for a message file
// that is not a regular file, or sits below a symbolic link the mail store
// does not follow; nothing was read from it.
type RefusedError = store.RefusedError

// tree opens the directories and files below one account's root without
// following symbolic links: every level is opened relative to the one
// above it with O_NOFOLLOW, so that a link planted anywhere below the root
// (new/, cur/, a folder's directory, a message) is seen and refused, or,
// with SymlinksWithinStore, followed only when what it leads to is inside
// the root. The root itself, and the path up to it, are the
// administrator's (the mail_store setting) and are followed.
//
// Files are opened with O_NONBLOCK, so that a FIFO or a device never
// blocks the open, and refused unless fstat finds a regular file.
type tree struct {
	root   string // as the mail store names it
	fd     int
	follow bool   // SymlinksWithinStore
	real   string // the root's real path; read when a link is first followed
}

// openTree opens an account's root directory (or its control directory)
// with openRoot.
func openTree(base, root string, follow bool) (*tree, error) {
	fd, err := openRoot(base, root, follow)
	if err != nil {
		return nil, err
	}
	return &tree{root: root, fd: fd, follow: follow}, nil
}

// ErrRootLink is the error of an account root reached through a symbolic
// link that the mail user could have planted.
var ErrRootLink = errors.New(`is a symbolic link below the administrator's part of mail_store, which mail_store_symlinks = "refuse" does not follow`)

// openRoot opens root, a directory below base, the part of mail_store
// the administrator wrote before its first variable (/var/vmail of
// /var/vmail/%d/%n/Maildir). base is opened as it is, links and all: they
// are the administrator's. Each level below it (the domain, the user,
// Maildir) lives in directories the mail user may control, so it is
// opened without following a link, unless follow (SymlinksWithinStore):
// otherwise replacing Maildir with a link to /etc would make the root
// agent back /etc up as that user's mail.
func openRoot(base, root string, follow bool) (int, error) {
	rel, err := filepath.Rel(base, root)
	if follow || base == "" || err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: root, Err: err}
		}
		return fd, nil
	}
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: base, Err: err}
	}
	path := base
	for _, l := range strings.Split(rel, "/") {
		path = filepath.Join(path, l)
		next, err := unix.Openat(fd, l, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ELOOP || err == unix.ENOTDIR {
			var st unix.Stat_t
			if unix.Fstatat(fd, l, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				err = ErrRootLink
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		fd = next
	}
	return fd, nil
}

func (t *tree) close() { unix.Close(t.fd) }

// refusal is a file or directory refused for what it is (never an error
// reading it).
type refusal struct{ reason Reason }

func (r *refusal) Error() string { return string(r.reason) }

// refusedFor returns the reason of a refusal, "" for any other error.
func refusedFor(err error) Reason {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason
	}
	return ""
}

// reasonOf names what a file of this type is, for a refusal.
func reasonOf(mode uint32) Reason {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return ReasonSymlink
	case unix.S_IFIFO:
		return ReasonFIFO
	case unix.S_IFCHR, unix.S_IFBLK:
		return ReasonDevice
	case unix.S_IFSOCK:
		return ReasonSocket
	case unix.S_IFDIR:
		return ReasonDirectory
	}
	return ReasonNotDir
}

// openDir opens the directory name in the directory parent. A symbolic
// link, or anything that is not a directory, is a *refusal; a link that
// mail_store_symlinks lets through is followed.
func (t *tree) openDir(parent int, name string) (int, error) {
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil || (err != unix.ELOOP && err != unix.ENOTDIR) {
		return fd, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || !t.follow {
		return -1, &refusal{reasonOf(st.Mode)}
	}
	fd, err = unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOTDIR || err == unix.ELOOP {
		return -1, &refusal{ReasonSymlink}
	}
	if err != nil {
		return -1, err
	}
	return t.checkInside(fd)
}

// openRel opens a folder directory relative to the root ("" is the root
// itself, returned as a new descriptor), level by level.
func (t *tree) openRel(rel string) (int, error) {
	fd, err := unix.Dup(t.fd)
	if err != nil || rel == "" {
		return fd, err
	}
	for _, l := range strings.Split(rel, "/") {
		next, err := t.openDir(fd, l)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// openFile opens a file in the directory parent for reading: without
// blocking (O_NONBLOCK, cleared once the file is known to be regular),
// without following a symbolic link unless mail_store_symlinks lets it
// through, and without updating its access time where permitted. Anything
// but a regular file is a *refusal; st is filled in.
func (t *tree) openFile(parent int, name string, st *unix.Stat_t) (int, error) {
	const flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	keep := unix.O_NOATIME
	fd, err := unix.Openat(parent, name, flags|unix.O_NOFOLLOW|keep, 0)
	if err == unix.EPERM {
		// O_NOATIME needs the file's owner or CAP_FOWNER.
		keep = 0
		fd, err = unix.Openat(parent, name, flags|unix.O_NOFOLLOW, 0)
	}
	if err == unix.ELOOP {
		if !t.follow {
			return -1, &refusal{ReasonSymlink}
		}
		keep = 0
		if fd, err = unix.Openat(parent, name, flags, 0); err == nil {
			fd, err = t.checkInside(fd)
		}
	}
	if err != nil {
		return -1, err
	}
	if err := unix.Fstat(fd, st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, &refusal{reasonOf(st.Mode)}
	}
	// O_NONBLOCK means nothing to a regular file; cleared so that the
	// file is an ordinary blocking one to os.NewFile.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, keep); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// statLink stats what a symbolic link in parent leads to, for a listing
// under SymlinksWithinStore; a link leading out of the root, or to
// nothing, is a *refusal.
func (t *tree) statLink(parent int, name string, st *unix.Stat_t) error {
	fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT || err == unix.ELOOP {
		return &refusal{ReasonSymlink} // dangling, or a loop
	}
	if err != nil {
		return err
	}
	if fd, err = t.checkInside(fd); err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fstat(fd, st)
}

// checkInside returns fd when the file it is open on lies inside the
// account's root, and otherwise closes it and refuses it. It reads where
// fd is from /proc/self/fd, so that what is checked is what was opened.
func (t *tree) checkInside(fd int) (int, error) {
	if t.real == "" {
		p, err := fdPath(t.fd)
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("resolving %s: %w", t.root, err)
		}
		t.real = p
	}
	p, err := fdPath(fd)
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	if p != t.real && !strings.HasPrefix(p, strings.TrimSuffix(t.real, "/")+"/") {
		unix.Close(fd)
		return -1, &refusal{ReasonOutside}
	}
	return fd, nil
}

// fdPath returns the path of the file an open descriptor refers to.
func fdPath(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
	if err != nil {
		return "", fmt.Errorf("reading /proc/self/fd: %w", err)
	}
	return string(buf[:n]), nil
}
