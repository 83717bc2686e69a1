package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/store"
)

// Errors returned (wrapped, with the path) by the Store and the Writer:
// the store driver interface's own.
var (
	// ErrNoAccount means the account's Maildir root does not exist.
	ErrNoAccount = store.ErrNoAccount
	// ErrVanished means a message file is gone: expunged, or moved to
	// another folder.
	ErrVanished = store.ErrVanished
	// ErrExists means a Writer refused to replace a message: a file with
	// the same base name is already in the folder.
	ErrExists = store.ErrExists
)

// Store is a Dovecot Maildir store described by a mail_store setting. It
// is safe for concurrent use; it holds no open files.
type Store struct {
	ms      location.Location
	follow  bool // mail_store_symlinks = "within_store"
	layout  string
	path    *template
	control *template // nil without CONTROL=
	index   *template // nil without INDEX= or with INDEX=MEMORY
}

// Options are the policy settings, other than mail_store, that say how a
// Store reads.
type Options struct {
	// Symlinks is the mail_store_symlinks setting: SymlinksRefuse (or "")
	// or SymlinksWithinStore.
	Symlinks string
}

// Open checks a parsed mail_store setting and returns its Store, which
// follows no symbolic link below an account's root. It does not touch the
// disk.
func Open(ms location.Location) (*Store, error) { return OpenWith(ms, Options{}) }

// OpenWith is Open with options.
func OpenWith(ms location.Location, opts Options) (*Store, error) {
	s, err := open(ms)
	if err != nil {
		return nil, err
	}
	switch opts.Symlinks {
	case "", SymlinksRefuse:
	case SymlinksWithinStore:
		s.follow = true
	default:
		return nil, fmt.Errorf("mail_store_symlinks %q: use %q or %q", opts.Symlinks, SymlinksRefuse, SymlinksWithinStore)
	}
	return s, nil
}

func open(ms location.Location) (*Store, error) {
	if ms.Driver != "maildir" {
		return nil, fmt.Errorf("mail store driver %q is not supported; the supported driver is \"maildir\"", ms.Driver)
	}
	s := &Store{ms: ms, layout: strings.ToLower(ms.Layout)}
	switch s.layout {
	case "":
		s.layout = LayoutMaildirPP
	case LayoutMaildirPP, LayoutFS:
	default:
		return nil, fmt.Errorf("LAYOUT=%s is not supported; use LAYOUT=maildir++ (the default) or LAYOUT=fs", ms.Layout)
	}
	var err error
	if s.path, err = parseStorePath("the Maildir path", ms.Path); err != nil {
		return nil, err
	}
	if !s.path.hasU && !s.path.hasN {
		return nil, fmt.Errorf("the Maildir path %q does not name the account; it must contain %%u or %%n", ms.Path)
	}
	if ms.Control != "" {
		if s.control, err = parseStorePath("CONTROL", ms.Control); err != nil {
			return nil, err
		}
	}
	if ms.Index != "" && ms.Index != "MEMORY" {
		if s.index, err = parseStorePath("INDEX", ms.Index); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseStorePath(what, p string) (*template, error) {
	if !filepath.IsAbs(p) {
		return nil, fmt.Errorf("%s %q must be an absolute path", what, p)
	}
	return parseTemplate(what, p)
}

// MailStore returns the setting the Store was opened with.
func (s *Store) MailStore() location.Location { return s.ms }

// Layout returns LayoutMaildirPP or LayoutFS.
func (s *Store) Layout() string { return s.layout }

// Account is one mail account of a Store and where its files are: Root
// is its Maildir root, Control where its dovecot-uidlist,
// dovecot-keywords and subscriptions live (Root unless CONTROL= is set),
// Index where Dovecot's index files are when INDEX= is set.
type Account = store.Account

// Account resolves an account name to its paths, whether or not it exists
// on disk. Names are checked: no '/', no "..", no NUL, no leading '.', and
// "user@domain" when the path template has %d. The name is split at its
// first '@', as Dovecot splits a login for %n and %d: "a@@b" is the user
// "a" of the domain "@b".
func (s *Store) Account(name string) (Account, error) {
	if err := checkAccountName(name); err != nil {
		return Account{}, err
	}
	user, domain := name, ""
	switch {
	case s.path.hasD || s.path.hasU:
		if at := strings.IndexByte(name, '@'); at >= 0 {
			user, domain = name[:at], name[at+1:]
		}
		if s.path.hasD && (user == "" || domain == "") {
			return Account{}, fmt.Errorf("account %q: the mail store %q has %%d, so accounts are user@domain", name, s.ms.Path)
		}
	case strings.Contains(name, "@"):
		return Account{}, fmt.Errorf("account %q: the mail store %q has no %%d or %%u, so accounts are plain user names without '@'", name, s.ms.Path)
	}
	if user == "" || strings.HasPrefix(user, ".") || strings.HasPrefix(domain, ".") {
		return Account{}, fmt.Errorf("account %q: the user and the domain must not be empty or start with '.'", name)
	}
	return s.account(user, domain), nil
}

func (s *Store) account(user, domain string) Account {
	a := Account{User: user, Domain: domain, Name: user}
	if domain != "" {
		a.Name = user + "@" + domain
	}
	a.Root = filepath.Clean(s.path.expand(user, domain))
	a.Control = a.Root
	if s.control != nil {
		a.Control = filepath.Clean(s.control.expand(user, domain))
	}
	if s.index != nil {
		a.Index = filepath.Clean(s.index.expand(user, domain))
	}
	return a
}

// checkAccountName rejects names that could leave the store's directory.
func checkAccountName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty account name")
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("account name %q contains NUL", name)
	case strings.Contains(name, "/"):
		return fmt.Errorf("account name %q contains '/'", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("account name %q contains \"..\"", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("account name %q starts with '.'", name)
	}
	return nil
}

// Accounts enumerates the accounts whose Maildir root exists, by globbing
// the path template (each variable becomes "*") and reading the variables
// back from each match. Matches that are not directories, or whose names
// would not pass Account, are skipped. The result is sorted by name.
func (s *Store) Accounts() ([]Account, error) {
	matches, err := filepath.Glob(s.path.glob())
	if err != nil {
		return nil, fmt.Errorf("listing accounts of %q: %w", s.ms.Path, err)
	}
	seen := map[string]bool{}
	var out []Account
	for _, m := range matches {
		user, domain, ok := s.path.match(m)
		if !ok {
			continue
		}
		name := user
		if domain != "" {
			name = user + "@" + domain
		}
		a, err := s.Account(name)
		if err != nil || a.Root != filepath.Clean(m) || seen[name] {
			continue
		}
		if fi, err := os.Stat(m); err != nil || !fi.IsDir() {
			continue
		}
		seen[name] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ControlDir returns the directory that holds a folder's dovecot-uidlist
// and dovecot-keywords: the folder's own directory, or with CONTROL= the
// same path below the control directory, where INBOX has its own
// directory ".INBOX" (Maildir++) or "INBOX" (LAYOUT=fs), as Dovecot does.
func (s *Store) ControlDir(a Account, folderDir string) string {
	if s.control == nil {
		return filepath.Join(a.Root, folderDir)
	}
	if folderDir == "" {
		if s.layout == LayoutFS {
			folderDir = Inbox
		} else {
			folderDir = "." + Inbox
		}
	}
	return filepath.Join(a.Control, folderDir)
}

// FolderDir maps a folder name to its directory in this Store's layout;
// see the package function FolderDir.
func (s *Store) FolderDir(name string) (string, error) { return FolderDir(s.layout, name) }

// FolderName maps a folder directory to its name in this Store's layout;
// see the package function FolderName.
func (s *Store) FolderName(dir string) string { return FolderName(s.layout, dir) }
