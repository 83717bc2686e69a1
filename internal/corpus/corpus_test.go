package corpus

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// entry is what a tree comparison looks at for one path.
type entry struct {
	mode  fs.FileMode
	size  int64
	mtime int64 // nanoseconds
	sum   string
	ino   uint64
}

// walkTree records every path under root; without allTimes, only message
// files' mtimes (the mutation helpers leave the others to the kernel).
func walkTree(t *testing.T, root string, allTimes bool) map[string]entry {
	t.Helper()
	tree := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: st.Mode()}
		if sub := filepath.Base(filepath.Dir(p)); allTimes || sub == "cur" || sub == "new" {
			e.mtime = st.ModTime().UnixNano()
		}
		if st.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(data)
			e.size, e.sum = st.Size(), hex.EncodeToString(h[:])
		}
		if s, ok := st.Sys().(*syscall.Stat_t); ok {
			e.ino = s.Ino
		}
		tree[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// diffTrees compares everything but inode numbers.
func diffTrees(a, b map[string]entry) []string {
	var diffs []string
	for p, ea := range a {
		eb, ok := b[p]
		ea.ino, eb.ino = 0, 0
		switch {
		case !ok:
			diffs = append(diffs, "only in first: "+p)
		case ea != eb:
			diffs = append(diffs, fmt.Sprintf("%s: %+v vs %+v", p, ea, eb))
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diffs = append(diffs, "only in second: "+p)
		}
	}
	slices.Sort(diffs)
	return diffs
}

// messageFiles lists the message files under root (paths with /cur/ or /new/).
func messageFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func generate(t *testing.T, opts Options) (string, Stats) {
	t.Helper()
	root := t.TempDir()
	st, err := Generate(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	return root, st
}

func TestMUTF7(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"}, // as Dovecot 2.3.19 names the directory
		{"A&B", "A&-B"},              // idem
		{"Входящие", "&BBIERQQ+BDQETwRJBDgENQ-"},
		{"Reçus", "Re&AOc-us"},
		{"日本語", "&ZeVnLIqe-"}, // RFC 3501 §5.1.3
		{"台北", "&U,BTFw-"},    // idem: ',' for '/'
		{"~peter", "~peter"},
		{"😀", "&2D3eAA-"}, // a surrogate pair
	} {
		if got := encodeMUTF7(c.in); got != c.want {
			t.Errorf("encodeMUTF7(%q) = %q, want %q", c.in, got, c.want)
		}
		if got, err := decodeMUTF7(c.want); err != nil || got != c.in {
			t.Errorf("decodeMUTF7(%q) = %q, %v, want %q", c.want, got, err, c.in)
		}
	}
	for _, name := range append(append([]string{"INBOX"}, standardFolders...), extraFolders...) {
		dir := maildirDirName(name)
		back, err := folderFromDirName(dir)
		if err != nil || back != name {
			t.Errorf("folder %q → %q → %q, %v", name, dir, back, err)
		}
	}
	if got := maildirDirName("Archive/2025/Q1"); got != ".Archive.2025.Q1" {
		t.Errorf("maildirDirName(Archive/2025/Q1) = %q", got)
	}
	for _, bad := range []string{"&", "&AMQ", "&A-", "\x01"} {
		if _, err := decodeMUTF7(bad); err == nil {
			t.Errorf("decodeMUTF7(%q) succeeded", bad)
		}
	}
}

func TestDeterminism(t *testing.T) {
	opts := Options{Seed: 7, Accounts: 6, Messages: 600, FoldersPerAccount: 12}
	rootA, stA := generate(t, opts)
	// A different degree of parallelism must not change anything.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rootB, stB := generate(t, opts)
	a, b := walkTree(t, rootA, true), walkTree(t, rootB, true)
	if d := diffTrees(a, b); len(d) > 0 {
		t.Fatalf("same seed, different trees (%d differences), first: %s", len(d), d[0])
	}
	stB.PerAccount[0].Maildir = stA.PerAccount[0].Maildir
	for i := range stB.PerAccount {
		stA.PerAccount[i].Maildir, stB.PerAccount[i].Maildir = "", ""
	}
	if fmt.Sprint(stA) != fmt.Sprint(stB) {
		t.Errorf("same seed, different stats:\n%+v\n%+v", stA, stB)
	}
	if stA.Messages != 600 || stA.Accounts != 6 || len(messageFiles(t, rootA)) != 600 {
		t.Errorf("stats %+v, %d files; want 600 messages in 6 accounts", stA, len(messageFiles(t, rootA)))
	}

	opts.Seed = 8
	rootC, _ := generate(t, opts)
	c := walkTree(t, rootC, true)
	same := 0
	for p, e := range c {
		if ea, ok := a[p]; ok && e.mode.IsRegular() && ea.sum == e.sum {
			same++
		}
	}
	if len(diffTrees(a, c)) == 0 || same > 0 {
		t.Errorf("seeds 7 and 8: %d files identical in name and content", same)
	}
}

// TestGolden pins the exact output for one small corpus: if it fails, the
// generator changed (or behaves differently on this platform), and every
// benchmark corpus changes with it. Update the digest only on purpose.
func TestGolden(t *testing.T) {
	t.Parallel()
	root, _ := generate(t, Options{Seed: 42, Accounts: 3, Messages: 120, FoldersPerAccount: 10})
	tree := walkTree(t, root, true)
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		e := tree[p]
		fmt.Fprintf(h, "%s %v %d %d %s\n", p, e.mode, e.size, e.mtime, e.sum)
	}
	const want = "617e8d8366f79223dc264fdd92657f6e5a9ba1d984532d811425ece03367ca10"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("corpus digest %s, want %s", got, want)
	}
}

func TestSizeDistribution(t *testing.T) {
	t.Parallel()
	root, st := generate(t, Options{Seed: 1, Accounts: 10, Messages: 5000})
	var sizes []int64
	var total int64
	for _, p := range messageFiles(t, root) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
		total += fi.Size()
	}
	if len(sizes) != 5000 || total != st.Bytes {
		t.Fatalf("%d files, %d bytes; stats say %d messages, %d bytes", len(sizes), total, st.Messages, st.Bytes)
	}
	slices.Sort(sizes)
	median, largest := sizes[len(sizes)/2], sizes[len(sizes)-1]
	over := len(sizes) - sort100K(sizes)
	t.Logf("median %d B, p90 %d B, p99 %d B, max %d B, %.1f%% > 100 KB, mean %d B",
		median, sizes[len(sizes)*9/10], sizes[len(sizes)*99/100], largest, 100*float64(over)/float64(len(sizes)), total/int64(len(sizes)))
	if median < 6<<10 || median > 10<<10 {
		t.Errorf("median %d bytes, want 6–10 KB", median)
	}
	if largest > 4<<20 {
		t.Errorf("largest message %d bytes exceeds MaxSize", largest)
	}
	if frac := float64(over) / float64(len(sizes)); frac < 0.01 || frac > 0.08 {
		t.Errorf("%.1f%% of messages exceed 100 KB, want a few %%", 100*frac)
	}
}

func sort100K(sorted []int64) int {
	i, _ := slices.BinarySearch(sorted, 100<<10+1)
	return i
}

func TestMaxSizeAndCompressibility(t *testing.T) {
	t.Parallel()
	const maxSize = 64 << 10
	root, _ := generate(t, Options{Seed: 3, Accounts: 3, Messages: 600, MaxSize: maxSize})
	var all []byte
	var largest int64
	for _, p := range messageFiles(t, root) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, int64(len(data)))
		all = append(all, data...)
	}
	if largest > maxSize {
		t.Errorf("largest message %d bytes, MaxSize %d", largest, maxSize)
	}
	if largest < maxSize/2 {
		t.Errorf("largest message only %d bytes: the attachment tail should reach towards MaxSize %d", largest, maxSize)
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(all)
	w.Close()
	ratio := float64(buf.Len()) / float64(len(all))
	t.Logf("deflate ratio %.2f over %d bytes", ratio, len(all))
	if ratio < 0.2 || ratio > 0.85 {
		t.Errorf("deflate ratio %.2f: want mail-like (text compresses, attachments do not)", ratio)
	}
	if _, err := Generate(t.TempDir(), Options{MaxSize: 1000}); err == nil {
		t.Error("MaxSize 1000 accepted")
	}
}

func TestSharedMessages(t *testing.T) {
	t.Parallel()
	root, _ := generate(t, Options{Seed: 5, Accounts: 10, Messages: 2000})
	accountsOf := map[string]map[string]bool{} // content hash → accounts
	copies := map[string]int{}
	for _, p := range messageFiles(t, root) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		k := string(h[:])
		rel, _ := filepath.Rel(root, p)
		acct := strings.Join(strings.Split(filepath.ToSlash(rel), "/")[:2], "/")
		if accountsOf[k] == nil {
			accountsOf[k] = map[string]bool{}
		}
		accountsOf[k][acct] = true
		copies[k]++
		if copies[k] > 1 && !bytes.Contains(data, []byte("\nList-Id: ")) {
			t.Errorf("%s: duplicate content that is not a list post", rel)
		}
	}
	shared := 0
	for k, n := range copies {
		if n > 1 {
			if len(accountsOf[k]) != n {
				t.Errorf("a list post has %d copies in only %d accounts", n, len(accountsOf[k]))
			}
			shared += n
		}
	}
	// 5% of 2000, less at most one that could not be paired.
	if shared < 99 || shared > 100 {
		t.Errorf("%d messages are shared copies, want 100 (5%%)", shared)
	}
	if _, err := Generate(t.TempDir(), Options{Seed: 5, Accounts: 1, Messages: 50}); err != nil {
		t.Errorf("one account (no sharing possible): %v", err)
	}
}

var (
	uidlistHeader = regexp.MustCompile(`^3 V[1-9][0-9]* N[1-9][0-9]* G[0-9a-f]{32}$`)
	uidlistRecord = regexp.MustCompile(`^[1-9][0-9]* :[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\.mail,S=[0-9]+,W=[0-9]+$`)
	messageName   = regexp.MustCompile(`^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\.mail,S=[0-9]+,W=[0-9]+(:2,[A-Za-z]*)?$`)
)

func TestLayout(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 11, Accounts: 4, Messages: 1500, FoldersPerAccount: 30}
	root, st := generate(t, opts)
	if err := Verify(root); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if st.Folders != 4*31 {
		t.Errorf("%d folders, want %d", st.Folders, 4*31)
	}
	oldest := DefaultNow.Unix() - twoYears
	dirs := map[string]bool{}
	inNew, keywords := 0, 0
	for _, a := range st.PerAccount {
		if !strings.HasPrefix(a.Maildir, root) || !strings.HasSuffix(a.Maildir, "/Maildir") {
			t.Errorf("account %s in %s", a.Address, a.Maildir)
		}
		subs, err := os.ReadFile(filepath.Join(a.Maildir, "subscriptions"))
		if err != nil || !bytes.HasPrefix(subs, []byte("V\t2\n\nINBOX\n")) {
			t.Errorf("%s subscriptions: %q, %v", a.Address, subs, err)
		}
		if !bytes.Contains(subs, []byte("\nArchive\t2025\tQ1\n")) && !bytes.Contains(subs, []byte("\nEntw&APw-rfe\n")) {
			t.Errorf("%s subscriptions lack both Archive/2025/Q1 and Entwürfe: %q", a.Address, subs)
		}
		entries, _ := os.ReadDir(a.Maildir)
		for _, e := range entries {
			dirs[e.Name()] = true
		}
	}
	for _, want := range []string{".Sent", ".Archive.2025.Q1", ".Projects.2026", ".Entw&APw-rfe", ".&BBIERQQ+BDQETwRJBDgENQ-", ".Clients.ACME &- Co", "cur", "new", "tmp", "dovecot-uidlist", "subscriptions", "dovecot-uidvalidity"} {
		if !dirs[want] {
			t.Errorf("no account has %s", want)
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		name := d.Name()
		parent := filepath.Base(filepath.Dir(p))
		switch {
		case p == root:
		case d.IsDir():
			if fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v", p, fi.Mode())
			}
			if strings.HasPrefix(name, ".") {
				if _, err := os.Stat(filepath.Join(p, "maildirfolder")); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		case parent == "cur" || parent == "new":
			if !messageName.MatchString(name) {
				t.Errorf("message name %q", name)
			}
			if parent == "new" {
				inNew++
				if strings.Contains(name, ":") {
					t.Errorf("%s: in new/ with flags", p)
				}
			} else if !strings.Contains(name, ":2,") {
				t.Errorf("%s: in cur/ without :2,", p)
			}
			_, flags, _ := parseMessageName(name)
			if !slices.IsSorted([]byte(flags)) || strings.Trim(flags, "DFPRST"+"abcdefghijklmnopqrstuvwxyz") != "" {
				t.Errorf("%s: flags %q", p, flags)
			}
			if strings.ContainsAny(flags, "abcdefghijklmnopqrstuvwxyz") {
				keywords++
			}
			if m := fi.ModTime().Unix(); m < oldest || m > DefaultNow.Unix() {
				t.Errorf("%s: mtime %v outside the two years before %v", p, fi.ModTime(), DefaultNow)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v", p, fi.Mode())
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			base, _, _ := parseMessageName(name)
			w, _ := sizeField(base, 'W')
			if int64(len(data)+bytes.Count(data, []byte("\n"))) != w {
				t.Errorf("%s: W= is not the size with CRLF line ends", p)
			}
			for _, h := range []string{"\nDate: ", "\nFrom: ", "\nSubject: ", "\nMIME-Version: 1.0\n"} {
				if !bytes.Contains(append([]byte("\n"), data[:bytes.Index(data, []byte("\n\n"))+1]...), []byte(h)) {
					t.Errorf("%s: no %q header", p, strings.TrimSpace(h))
				}
			}
		case name == uidlistName:
			data, _ := os.ReadFile(p)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if !uidlistHeader.MatchString(lines[0]) {
				t.Errorf("%s header %q", p, lines[0])
			}
			for _, l := range lines[1:] {
				if !uidlistRecord.MatchString(l) {
					t.Errorf("%s record %q", p, l)
				}
			}
		case name == keywordsName:
			data, _ := os.ReadFile(p)
			if !regexp.MustCompile(`^(\d+ \S+\n)+$`).Match(data) {
				t.Errorf("%s: %q", p, data)
			}
		case strings.HasPrefix(name, "dovecot-uidvalidity."):
			if fi.Mode().Perm() != 0o444 || fi.Size() != 0 {
				t.Errorf("%s: mode %v size %d", p, fi.Mode(), fi.Size())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inNew == 0 || keywords == 0 {
		t.Errorf("%d messages in new/, %d with keywords; want some of each", inNew, keywords)
	}
	if _, err := Generate(root, opts); err == nil {
		t.Error("generating over existing accounts succeeded")
	}
}

func TestOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("TestOwner needs root to chown (make test and CI run as root)")
	}
	root, _ := generate(t, Options{Seed: 2, Accounts: 2, Messages: 40, Owner: &Owner{UID: 65534, GID: 65534}})
	if _, err := Deliver(root, 5, 1); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, _ := d.Info()
		if s := fi.Sys().(*syscall.Stat_t); s.Uid != 65534 || s.Gid != 65534 {
			t.Errorf("%s: owner %d:%d", p, s.Uid, s.Gid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// uidOf returns each message's UID by folder directory and base name.
func uidsOf(t *testing.T, root string) map[string]uint32 {
	t.Helper()
	accounts, err := scanStore(root)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]uint32{}
	for _, a := range accounts {
		for _, f := range a.folders {
			for _, r := range f.ul.recs {
				uids[f.dir+"|"+r.name] = r.uid
			}
			uids[f.dir+"|next"] = f.ul.next
		}
	}
	return uids
}

func TestMutations(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 9, Accounts: 4, Messages: 800}
	root, _ := generate(t, opts)
	twin, _ := generate(t, opts)
	const n = 800

	mutate := func(root string) []int {
		var counts []int
		for _, step := range []func() (int, error){
			func() (int, error) { return RenameFlags(root, 0.1, 1) },
			func() (int, error) { return Deliver(root, 50, 2) },
			func() (int, error) { return Move(root, 0.1, 3) },
			func() (int, error) { return Delete(root, 0.1, 4) },
		} {
			c, err := step()
			if err != nil {
				t.Fatal(err)
			}
			counts = append(counts, c)
			if err := Verify(root); err != nil {
				t.Fatalf("after step %d: %v", len(counts), err)
			}
		}
		return counts
	}

	// Step by step on root, checking each helper's promise.
	before := walkTree(t, root, false)
	uidsBefore := uidsOf(t, root)
	if c, err := RenameFlags(root, 0.1, 1); err != nil || c != n/10 {
		t.Fatalf("RenameFlags: %d, %v", c, err)
	}
	after := walkTree(t, root, false)
	renamed := 0
	byIno := map[uint64]string{}
	for p, e := range after {
		byIno[e.ino] = p
	}
	for p, e := range before {
		if !e.mode.IsRegular() {
			continue
		}
		q, ok := byIno[e.ino]
		if !ok {
			t.Errorf("%s vanished", p)
			continue
		}
		if q != p {
			renamed++
			pb, _, _ := parseMessageName(filepath.Base(p))
			qb, qf, _ := parseMessageName(filepath.Base(q))
			if pb != qb || !strings.Contains(q, "/cur/") || after[q].mtime != e.mtime || !slices.IsSorted([]byte(qf)) {
				t.Errorf("flag change %s → %s", p, q)
			}
		}
	}
	if renamed != n/10 {
		t.Errorf("%d files renamed, want %d", renamed, n/10)
	}
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}

	if c, err := Deliver(root, 50, 2); err != nil || c != 50 {
		t.Fatalf("Deliver: %d, %v", c, err)
	}
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}
	uidsDelivered := uidsOf(t, root)
	fresh := 0
	for k, uid := range uidsDelivered {
		if _, ok := uidsBefore[k]; !ok {
			fresh++
			dir, _, _ := strings.Cut(k, "|")
			if uid < uidsBefore[dir+"|next"] {
				t.Errorf("delivered %s got UID %d below the old next UID %d", k, uid, uidsBefore[dir+"|next"])
			}
		}
	}
	if fresh != 50 {
		t.Errorf("%d new uidlist records after delivering 50", fresh)
	}
	for _, p := range messageFiles(t, root) {
		fi, _ := os.Stat(p)
		if fi.ModTime().Unix() > DefaultNow.Unix()+50*121 {
			t.Errorf("%s: mtime %v too far after the corpus", p, fi.ModTime())
		}
	}

	beforeMove := walkTree(t, root, false)
	if c, err := Move(root, 0.1, 3); err != nil || c != 85 {
		t.Fatalf("Move: %d, %v (want 85)", c, err)
	}
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}
	afterMove := walkTree(t, root, false)
	byIno = map[uint64]string{}
	for p, e := range afterMove {
		byIno[e.ino] = p
	}
	moved := 0
	for p, e := range beforeMove {
		if !e.mode.IsRegular() || !strings.Contains(p, "/cur/") && !strings.Contains(p, "/new/") {
			continue
		}
		q, ok := byIno[e.ino]
		if !ok {
			t.Errorf("%s vanished in a move", p)
			continue
		}
		if q != p {
			moved++
			folderOf := func(s string) string { return filepath.Dir(filepath.Dir(s)) }
			if folderOf(p) == folderOf(q) || strings.Split(p, "/")[1] != strings.Split(q, "/")[1] {
				t.Errorf("move %s → %s: not another folder of the same account", p, q)
			}
			if afterMove[q].sum != e.sum || afterMove[q].mtime != e.mtime {
				t.Errorf("move %s → %s changed content or mtime", p, q)
			}
		}
	}
	if moved != 85 {
		t.Errorf("%d files moved, want 85", moved)
	}

	if c, err := Delete(root, 0.1, 4); err != nil || c != 85 {
		t.Fatalf("Delete: %d, %v (want 85)", c, err)
	}
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}
	if got := len(messageFiles(t, root)); got != n+50-85 {
		t.Errorf("%d messages left, want %d", got, n+50-85)
	}
	uidsAfter := uidsOf(t, root)
	for k, v := range uidsAfter {
		if strings.HasSuffix(k, "|next") && v < uidsDelivered[k] {
			t.Errorf("%s went down from %d to %d", k, uidsDelivered[k], v)
		}
	}

	// The same steps on the twin give the same files, contents and mtimes.
	if counts := mutate(twin); !slices.Equal(counts, []int{80, 50, 85, 85}) {
		t.Errorf("twin counts %v", counts)
	}
	if d := diffTrees(walkTree(t, root, false), walkTree(t, twin, false)); len(d) > 0 {
		t.Errorf("same mutations, different trees (%d differences), first: %s", len(d), d[0])
	}

	for _, f := range []float64{-0.1, 1.5} {
		if _, err := RenameFlags(root, f, 1); err == nil {
			t.Errorf("fraction %v accepted", f)
		}
	}
}

func TestVerifyFindsProblems(t *testing.T) {
	t.Parallel()
	for name, breakIt := range map[string]func(inbox string) error{
		"missing record": func(inbox string) error {
			p := filepath.Join(inbox, uidlistName)
			data, _ := os.ReadFile(p)
			lines := strings.SplitAfter(string(data), "\n")
			return os.WriteFile(p, []byte(lines[0]+strings.Join(lines[2:], "")), 0o600)
		},
		"stray file": func(inbox string) error {
			return os.WriteFile(filepath.Join(inbox, "cur", "1.M1P1Q1.mail,S=2,W=3:2,S"), []byte("x\n"), 0o600)
		},
		"wrong size": func(inbox string) error {
			files, _ := filepath.Glob(filepath.Join(inbox, "cur", "*"))
			return os.WriteFile(files[0], []byte("truncated"), 0o600)
		},
		"undefined keyword": func(inbox string) error {
			files, _ := filepath.Glob(filepath.Join(inbox, "cur", "*"))
			return os.Rename(files[0], files[0]+"z")
		},
	} {
		t.Run(name, func(t *testing.T) {
			root, st := generate(t, Options{Seed: 4, Accounts: 1, Messages: 60, FoldersPerAccount: -1})
			if err := breakIt(st.PerAccount[0].Maildir); err != nil {
				t.Fatal(err)
			}
			if err := Verify(root); err == nil {
				t.Error("Verify found nothing")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestMutationsOnDovecotLikeStore(t *testing.T) {
	t.Parallel()
	// A store the helpers did not generate: a folder without uidlist yet, a
	// message in new/ that already has flags (Dovecot does that).
	root := t.TempDir()
	md := filepath.Join(root, "example.com", "bob", "Maildir")
	for _, d := range []string{"cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"} {
		if err := os.MkdirAll(filepath.Join(md, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	name := "1795641682.M536488P29658.vm,S=18,W=21"
	if err := os.WriteFile(filepath.Join(md, "new", name+":2,Sa"), []byte("Subject: x\n\nhello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(md, keywordsName), []byte("0 $Important\n"), 0o600)
	os.WriteFile(filepath.Join(md, uidlistName), []byte("3 V1795641683 N3 G2824b6205151076bcb73000083ecc375\n2 :"+name+"\n"), 0o600)
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}
	if c, err := Move(root, 1, 1); err != nil || c != 1 {
		t.Fatalf("Move: %d, %v", c, err)
	}
	if err := Verify(root); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(md, ".Sent", "cur", "*:2,Sa"))
	kw, _ := os.ReadFile(filepath.Join(md, ".Sent", keywordsName))
	ul, _ := os.ReadFile(filepath.Join(md, ".Sent", uidlistName))
	inbox, _ := os.ReadFile(filepath.Join(md, uidlistName))
	if len(files) != 1 || string(kw) != "0 $Important\n" || !strings.Contains(string(ul), "\n1 :") || string(inbox) != "3 V1795641683 N3 G2824b6205151076bcb73000083ecc375\n" {
		t.Errorf("after the move: files %v, keywords %q, Sent uidlist %q, INBOX uidlist %q", files, kw, ul, inbox)
	}
	if _, err := os.Stat(filepath.Join(md, ".Sent", uidlistLockName)); err == nil {
		t.Error("lock file left behind")
	}
	// A held lock makes the helpers fail rather than race.
	os.WriteFile(filepath.Join(md, uidlistLockName), nil, 0o600)
	if _, err := Deliver(root, 20, 1); err == nil || !strings.Contains(err.Error(), "locking") {
		t.Errorf("Deliver under a held lock: %v", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		start := time.Now()
		st, err := Generate(b.TempDir(), Options{Seed: 1, Accounts: 10, Messages: 10000})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Bytes)
		b.ReportMetric(float64(st.Messages)/time.Since(start).Seconds(), "msgs/s")
	}
}
