package maildir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// handMade builds a Maildir++ account the way Dovecot leaves one, with
// the files Scan must skip.
func handMade(t *testing.T) (*Store, Account) {
	t.Helper()
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/%d/%n/Maildir")
	a, err := s.Account("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	r := a.Root
	maildir(t, r, "", ".Projects.2026", ".Entw&APw-rfe", ".A&-B")
	mkdirs(t, r, ".NoCur/new", ".Projects.2026/cur/subdir", ".INBOX/cur")
	writeAt(t, r, "cur/100.M1P1.host,S=5,W=6:2,Sa", "one\r\n", t0)
	writeAt(t, r, "cur/101.M2P1.host,S=5:2,FSbd", "two!\n", t0.Add(time.Second))
	writeAt(t, r, "new/102.M3P1.host", "three", t0.Add(2*time.Second))
	writeAt(t, r, "new/103.M4P1.host:2,T", "four", t0.Add(3*time.Second))
	writeAt(t, r, "tmp/104.M5P1.host", "half-written", t0)
	writeAt(t, r, "cur/.hidden", "x", t0)
	writeAt(t, r, "dovecot.index", "idx", t0)
	writeAt(t, r, "dovecot.index.log", "idx", t0)
	writeAt(t, r, "dovecot-uidvalidity", "6b07500f", t0)
	writeAt(t, r, "dovecot-uidlist", "3 V1000 N2 G00112233445566778899aabbccddeeff\n1 :100.M1P1.host,S=5,W=6\n2 W5 :101.M2P1.host,S=5\n3 :102.M3P1.host\n", t0)
	writeAt(t, r, "dovecot-uidlist.lock", "", t0)
	writeAt(t, r, "dovecot-keywords", "0 $Important\n1 Junk\n", t0)
	writeAt(t, r, "subscriptions", dovecotSubscriptions, t0)
	writeAt(t, r, ".Projects.2026/maildirfolder", "", t0)
	writeAt(t, r, ".Projects.2026/cur/200.M1P2.host:2,", "p", t0)
	writeAt(t, r, ".Projects.2026/dovecot-uidlist", "3 V2000 N5\n4 :200.M1P2.host\n", t0)
	writeAt(t, r, ".Entw&APw-rfe/new/300.M1P3.host", "e", t0)
	os.Symlink("100.M1P1.host,S=5,W=6:2,Sa", filepath.Join(r, "cur", "link:2,S"))
	return s, a
}

func TestScanHandMade(t *testing.T) {
	s, a := handMade(t)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	// A folder with new/ but no cur/ is read, with a warning.
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0].Error(), "NoCur") {
		t.Errorf("warnings: %v", snap.Warnings)
	}
	// The symbolic link and the directory among the messages are
	// skipped, and said so.
	if got, want := skipList(snap), []string{"cur/link:2,S: symlink", ".Projects.2026/cur/subdir: directory"}; !reflect.DeepEqual(got, want) {
		t.Errorf("skipped = %q, want %q", got, want)
	}
	var names []string
	for _, f := range snap.Folders {
		names = append(names, f.Name+"="+f.Dir)
	}
	if want := []string{"INBOX=", "A&B=.A&-B", "Entwürfe=.Entw&APw-rfe", "NoCur=.NoCur", "Projects/2026=.Projects.2026"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("folders = %q, want %q", names, want)
	}
	inbox := snap.Folders[0]
	if inbox.UIDValidity != 1000 || inbox.NextUID != 4 || inbox.GUID != "00112233445566778899aabbccddeeff" {
		t.Errorf("INBOX uidlist header: %d %d %q", inbox.UIDValidity, inbox.NextUID, inbox.GUID)
	}
	if !reflect.DeepEqual(inbox.Keywords, []string{"$Important", "Junk"}) {
		t.Errorf("INBOX keywords = %q", inbox.Keywords)
	}
	type msg struct {
		Subdir, Name, Base, Flags string
		Keywords                  []string
		Size                      int64
		MTime                     time.Time
		UID                       uint32
	}
	var got []msg
	for _, m := range inbox.Messages {
		got = append(got, msg{m.Subdir, m.Name, m.Base, m.Flags, m.Keywords, m.Size, m.MTime.UTC(), m.UID})
		if m.Ino == 0 || m.Owner.Mode != 0o600 || m.Owner.UID != uint32(os.Geteuid()) {
			t.Errorf("%s: ino %d owner %+v", m.Name, m.Ino, m.Owner)
		}
	}
	want := []msg{
		{"cur", "100.M1P1.host,S=5,W=6:2,Sa", "100.M1P1.host,S=5,W=6", "S", []string{"$Important"}, 5, t0, 1},
		{"cur", "101.M2P1.host,S=5:2,FSbd", "101.M2P1.host,S=5", "FS", []string{"Junk", "?d"}, 5, t0.Add(time.Second), 2},
		{"new", "102.M3P1.host", "102.M3P1.host", "", nil, 5, t0.Add(2 * time.Second), 3},
		{"new", "103.M4P1.host:2,T", "103.M4P1.host", "T", nil, 4, t0.Add(3 * time.Second), 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("INBOX messages:\n got %+v\nwant %+v", got, want)
	}
	proj := snap.Folders[4]
	if proj.UIDValidity != 2000 || proj.NextUID != 5 || len(proj.Messages) != 1 || proj.Messages[0].UID != 4 || proj.Messages[0].Flags != "" {
		t.Errorf("Projects/2026 = %+v", proj)
	}
	ent := snap.Folders[2]
	if ent.UIDValidity != 0 || len(ent.Messages) != 1 || ent.Messages[0].UID != 0 {
		t.Errorf("Entwürfe = %+v", ent)
	}
	if !reflect.DeepEqual(snap.Subscriptions, []string{"INBOX", "Entwürfe", "Projects/2026"}) || string(snap.SubscriptionsRaw) != dovecotSubscriptions {
		t.Errorf("subscriptions = %q %q", snap.Subscriptions, snap.SubscriptionsRaw)
	}
	if snap.Owner.Mode != 0o700 || snap.Owner.UID != uint32(os.Geteuid()) {
		t.Errorf("root owner = %+v", snap.Owner)
	}
}

func TestScanOwners(t *testing.T) {
	s, a := handMade(t)
	o := testOwner(0o750)
	os.Chown(a.Root, int(o.UID), int(o.GID))
	os.Chmod(a.Root, 0o750|os.ModeSetgid)
	p := filepath.Join(a.Root, "cur/100.M1P1.host,S=5,W=6:2,Sa")
	os.Chown(p, int(o.UID), int(o.GID))
	os.Chmod(p, 0o640)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Owner{UID: o.UID, GID: o.GID, Mode: 0o750 | os.ModeSetgid}); snap.Owner != want || snap.Folders[0].Owner != want {
		t.Errorf("root owner = %+v / %+v, want %+v", snap.Owner, snap.Folders[0].Owner, want)
	}
	if want := (Owner{UID: o.UID, GID: o.GID, Mode: 0o640}); snap.Folders[0].Messages[0].Owner != want {
		t.Errorf("message owner = %+v, want %+v", snap.Folders[0].Messages[0].Owner, want)
	}
}

func TestScanNoAccount(t *testing.T) {
	s := mustOpen(t, "maildir:"+t.TempDir()+"/%d/%n/Maildir")
	a, _ := s.Account("nobody@example.com")
	if _, err := s.Scan(a); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("Scan of a missing account: %v", err)
	}
}

func TestScanBrokenMetadataWarns(t *testing.T) {
	s, a := handMade(t)
	writeAt(t, a.Root, "dovecot-uidlist", "garbage\n", t0)
	writeAt(t, a.Root, "dovecot-keywords", "zero Junk\n", t0)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Warnings) != 3 { // the two files, and .NoCur
		t.Fatalf("warnings = %v", snap.Warnings)
	}
	for _, m := range snap.Folders[0].Messages {
		if m.UID != 0 {
			t.Errorf("%s has UID %d from a broken uidlist", m.Name, m.UID)
		}
	}
}

func TestScanVanishedFiles(t *testing.T) {
	s, a := handMade(t)
	cur := filepath.Join(a.Root, "cur")
	testHookListed = func(dir string) {
		if dir == cur {
			// Dovecot sets \Seen on one message and expunges another
			// between our listing and our stat.
			os.Rename(filepath.Join(cur, "101.M2P1.host,S=5:2,FSbd"), filepath.Join(cur, "101.M2P1.host,S=5:2,FSTbd"))
			os.Remove(filepath.Join(cur, "100.M1P1.host,S=5,W=6:2,Sa"))
		}
	}
	defer func() { testHookListed = nil }()
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range snap.Folders[0].Messages {
		names = append(names, m.Subdir+"/"+m.Name)
	}
	// The expunged message is gone; the renamed one is found again.
	if want := []string{"cur/101.M2P1.host,S=5:2,FSTbd", "new/102.M3P1.host", "new/103.M4P1.host:2,T"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("messages = %q, want %q", names, want)
	}
}

func TestOpenMessageFollowsRenames(t *testing.T) {
	s, a := handMade(t)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	inbox := &snap.Folders[0]
	m := inbox.Messages[2] // new/102.M3P1.host
	// Dovecot moves it to cur/ and flags it \Seen and Junk.
	if err := os.Rename(filepath.Join(a.Root, "new", m.Name), filepath.Join(a.Root, "cur", m.Name+":2,Sb")); err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenMessage(a, inbox, &m)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(f)
	f.Close()
	if string(body) != "three" || m.Subdir != "cur" || m.Name != "102.M3P1.host:2,Sb" || m.Flags != "S" || !reflect.DeepEqual(m.Keywords, []string{"Junk"}) {
		t.Fatalf("read %q; message now %+v", body, m)
	}
	// Expunged: ErrVanished.
	os.Remove(filepath.Join(a.Root, "cur", m.Name))
	if _, err := s.OpenMessage(a, inbox, &m); !errors.Is(err, ErrVanished) {
		t.Fatalf("OpenMessage of an expunged message: %v", err)
	}
	// Unchanged: opened in place.
	m = inbox.Messages[0]
	f, err = s.OpenMessage(a, inbox, &m)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestScanFSLayoutWithControl(t *testing.T) {
	base := t.TempDir()
	s := mustOpen(t, "maildir:"+base+"/mail/%n/Maildir:LAYOUT=fs:CONTROL="+base+"/ctl/%n:INDEX="+base+"/idx/%n")
	a, err := s.Account("bob")
	if err != nil {
		t.Fatal(err)
	}
	maildir(t, a.Root, "", "Projects/2026", "Projects/2026/Deep", "Entw&APw-rfe")
	mkdirs(t, a.Root, "Projects/notselectable", ".hidden/cur", "INBOX/cur")
	os.Symlink(a.Root, filepath.Join(a.Root, "Projects", "loop"))
	writeAt(t, a.Root, "new/1.M1.h:2,Fa", "x", t0)
	writeAt(t, a.Root, "Projects/2026/Deep/cur/2.M1.h:2,S", "y", t0)
	writeAt(t, base, "ctl/bob/INBOX/dovecot-uidlist", "3 V7 N2\n1 :1.M1.h\n", t0)
	writeAt(t, base, "ctl/bob/INBOX/dovecot-keywords", "0 Junk\n", t0)
	writeAt(t, base, "ctl/bob/Projects/2026/Deep/dovecot-uidlist", "3 V8 N9\n8 :2.M1.h\n", t0)
	writeAt(t, base, "ctl/bob/subscriptions", "V\t2\n\nProjects\t2026\tDeep\n", t0)
	snap, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range snap.Folders {
		got = append(got, f.Name+"="+f.Dir)
	}
	// Projects/loop is a symbolic link to the root: refused by default.
	if want := []string{"INBOX=", "Entwürfe=Entw&APw-rfe", "Projects/2026=Projects/2026", "Projects/2026/Deep=Projects/2026/Deep"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("folders = %q, want %q", got, want)
	}
	if got, want := skipList(snap), []string{"Projects/loop: symlink"}; !reflect.DeepEqual(got, want) {
		t.Errorf("skipped = %q, want %q", got, want)
	}
	in := snap.Folders[0]
	if in.UIDValidity != 7 || len(in.Messages) != 1 || in.Messages[0].UID != 1 || !reflect.DeepEqual(in.Messages[0].Keywords, []string{"Junk"}) {
		t.Errorf("INBOX = %+v", in)
	}
	deep := snap.Folders[3]
	if deep.UIDValidity != 8 || deep.NextUID != 9 || deep.Messages[0].UID != 8 {
		t.Errorf("Deep = %+v", deep)
	}
	if !reflect.DeepEqual(snap.Subscriptions, []string{"Projects/2026/Deep"}) {
		t.Errorf("subscriptions = %q", snap.Subscriptions)
	}
	// With mail_store_symlinks = "within_store" the link leads inside the
	// account: a folder (it has cur/), never descended into.
	ms, _ := parseLocation("maildir:" + base + "/mail/%n/Maildir:LAYOUT=fs:CONTROL=" + base + "/ctl/%n:INDEX=" + base + "/idx/%n")
	within, err := OpenWith(ms, Options{Symlinks: SymlinksWithinStore})
	if err != nil {
		t.Fatal(err)
	}
	if snap, err = within.Scan(a); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, f := range snap.Folders {
		got = append(got, f.Name+"="+f.Dir)
	}
	if want := []string{"INBOX=", "Entwürfe=Entw&APw-rfe", "Projects/2026=Projects/2026", "Projects/2026/Deep=Projects/2026/Deep", "Projects/loop=Projects/loop"}; !reflect.DeepEqual(got, want) || len(snap.Skipped) != 0 {
		t.Fatalf("within_store: folders = %q, want %q; skipped %q", got, want, skipList(snap))
	}
}

// skipList renders what a scan skipped.
func skipList(snap *Snapshot) []string {
	var out []string
	for _, k := range snap.Skipped {
		out = append(out, k.String())
	}
	return out
}

// TestScanParallelStat scans with the stat calls spread over goroutines
// (as for big folders) and must find exactly what a sequential scan does,
// renamed files included.
func TestScanParallelStat(t *testing.T) {
	s, a := handMade(t)
	for i := 0; i < 50; i++ {
		writeAt(t, a.Root, fmt.Sprintf("cur/%d.M9P9.host:2,S", 1000+i), "x", t0)
	}
	seq, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	old := statParallelMin
	statParallelMin = 2
	defer func() { statParallelMin = old }()
	par, err := s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(par, seq) {
		t.Fatalf("parallel scan differs:\n got %+v\nwant %+v", par.Folders[0].Messages, seq.Folders[0].Messages)
	}
	cur := filepath.Join(a.Root, "cur")
	testHookListed = func(dir string) {
		if dir == cur {
			os.Rename(filepath.Join(cur, "1007.M9P9.host:2,S"), filepath.Join(cur, "1007.M9P9.host:2,FS"))
		}
	}
	defer func() { testHookListed = nil }()
	par, err = s.Scan(a)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range par.Folders[0].Messages {
		if m.Base == "1007.M9P9.host" {
			found++
			if m.Flags != "FS" {
				t.Errorf("renamed message has flags %q", m.Flags)
			}
		}
	}
	if found != 1 || len(par.Folders[0].Messages) != len(seq.Folders[0].Messages) {
		t.Errorf("renamed message found %d times; %d messages, want %d", found, len(par.Folders[0].Messages), len(seq.Folders[0].Messages))
	}
}
