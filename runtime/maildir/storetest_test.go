package maildir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/store"
	"github.com/mailkeep/mailkeep/runtime/store/storetest"
)

// storeLayouts are the mail_location layouts the driver is checked in:
// those internal/e2e runs Dovecot with (Maildir++ with %d/%n, LAYOUT=fs
// with CONTROL= and INDEX=) and the other options and templates mailkeep
// accepts.
var storeLayouts = []struct {
	name     string
	location string // with DIR for the test's directory
	symlinks string
}{
	{"maildir++", "maildir:@D@/vmail/%d/%n/Maildir", ""},
	{"maildir++ CONTROL", "maildir:@D@/vmail/%d/%n/Maildir:CONTROL=@D@/control/%d/%n", ""},
	{"maildir++ INDEX VOLATILEDIR", "maildir:@D@/vmail/%d/%n/Maildir:INDEX=@D@/index/%d/%n:VOLATILEDIR=@D@/volatile/%n", ""},
	{"maildir++ INDEX=MEMORY user@domain", "maildir:@D@/vmail/%u:INDEX=MEMORY", ""},
	{"fs", "maildir:@D@/vmail/%d/%n/Maildir:LAYOUT=fs", ""},
	{"fs CONTROL INDEX", "maildir:@D@/vmail/%d/%n/Maildir:LAYOUT=fs:CONTROL=@D@/control/%d/%n:INDEX=@D@/index/%d/%n", ""},
	{"fs long variables within_store", "maildir:@D@/vmail/%{domain}/%{username}:LAYOUT=fs", maildir.SymlinksWithinStore},
	{"fs long variables", "maildir:@D@/vmail/%{domain}/%{username}:LAYOUT=fs", ""},
	{"within_store", "maildir:@D@/vmail/%d/%n/Maildir", maildir.SymlinksWithinStore},
}

// TestStoreContract runs the store driver contract suite against the
// Maildir driver in every layout.
func TestStoreContract(t *testing.T) {
	for _, l := range storeLayouts {
		t.Run(l.name, func(t *testing.T) {
			storetest.TestStore(t, func(t *testing.T) storetest.Harness {
				dir := t.TempDir()
				loc, err := location.Parse(replaceDir(l.location, dir))
				if err != nil {
					t.Fatal(err)
				}
				st, err := maildir.OpenWith(loc, maildir.Options{Symlinks: l.symlinks})
				if err != nil {
					t.Fatal(err)
				}
				return maildirHarness{st}
			})
		})
	}
}

// replaceDir puts the test's directory into a location.
func replaceDir(loc, dir string) string { return strings.ReplaceAll(loc, "@D@", dir) }

// maildirHarness does what Dovecot does to a Maildir: a flag change is a
// rename into cur/, an expunge an unlink.
type maildirHarness struct{ st *maildir.Store }

func (h maildirHarness) Store() store.Writable { return h.st }

func (h maildirHarness) SetFlags(a store.Account, f *store.Folder, m *store.Message, flags string) error {
	dir := filepath.Join(a.Root, f.Dir)
	info := maildir.ParseInfo(m.Name)
	return os.Rename(filepath.Join(dir, m.Subdir, m.Name), filepath.Join(dir, "cur", maildir.FormatName(m.Base, flags, info.Letters)))
}

func (h maildirHarness) Expunge(a store.Account, f *store.Folder, m *store.Message) error {
	return os.Remove(filepath.Join(a.Root, f.Dir, m.Subdir, m.Name))
}
