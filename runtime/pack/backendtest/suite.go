package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/pack"
)

// Run runs the contract suite; newBackend returns a new, empty backend
// for each subtest.
func Run(t *testing.T, newBackend func(t *testing.T) pack.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, be pack.Backend)
	}{
		{"SaveLoadStat", testSaveLoadStat},
		{"Replace", testReplace},
		{"Empty", testEmpty},
		{"Ranges", testRanges},
		{"ReaderAt", testReaderAt},
		{"Missing", testMissing},
		{"WrongSize", testWrongSize},
		{"ListRemove", testListRemove},
		{"HostileNames", testHostileNames},
		{"Concurrency", testConcurrency},
		{"Appender", testAppender},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

var ctx = context.Background()

func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func save(t *testing.T, be pack.Backend, name string, b []byte) {
	t.Helper()
	if err := be.Save(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Save(%q, %d bytes): %v", name, len(b), err)
	}
}

func load(be pack.Backend, name string, off, n int64) ([]byte, error) {
	rc, err := be.Load(ctx, name, off, n)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

func mustLoad(t *testing.T, be pack.Backend, name string, off, n int64) []byte {
	t.Helper()
	b, err := load(be, name, off, n)
	if err != nil {
		t.Fatalf("Load(%q, %d, %d): %v", name, off, n, err)
	}
	return b
}

func names(t *testing.T, be pack.Backend) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := be.List(ctx, func(o pack.ObjectInfo) error {
		if _, dup := got[o.Name]; dup {
			return fmt.Errorf("List reports %q twice", o.Name)
		}
		got[o.Name] = o.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func testSaveLoadStat(t *testing.T, be pack.Backend) {
	b := data(1, 100_000)
	save(t, be, "00000001.pack", b)
	if got := mustLoad(t, be, "00000001.pack", 0, 0); !bytes.Equal(got, b) {
		t.Fatalf("Load of the whole object: %d bytes, want %d (content differs)", len(got), len(b))
	}
	st, err := be.Stat(ctx, "00000001.pack")
	if err != nil || st.Size != int64(len(b)) || st.Name != "00000001.pack" {
		t.Fatalf("Stat: %+v, %v; want size %d", st, err, len(b))
	}
	if got := names(t, be); len(got) != 1 || got["00000001.pack"] != int64(len(b)) {
		t.Fatalf("List: %v", got)
	}
	if w := be.Where("00000001.pack"); !strings.Contains(w, "00000001.pack") {
		t.Errorf("Where(%q) = %q: does not name the object", "00000001.pack", w)
	}
}

func testReplace(t *testing.T, be pack.Backend) {
	save(t, be, "obj", data(1, 5000))
	b := data(2, 300)
	save(t, be, "obj", b)
	if got := mustLoad(t, be, "obj", 0, 0); !bytes.Equal(got, b) {
		t.Fatalf("after a second Save, Load gives %d bytes, want the new %d", len(got), len(b))
	}
	if got := names(t, be); len(got) != 1 || got["obj"] != 300 {
		t.Fatalf("List after a replacement: %v", got)
	}
}

func testEmpty(t *testing.T, be pack.Backend) {
	save(t, be, "empty", nil)
	if got := mustLoad(t, be, "empty", 0, 0); len(got) != 0 {
		t.Fatalf("Load of an empty object: %d bytes", len(got))
	}
	if st, err := be.Stat(ctx, "empty"); err != nil || st.Size != 0 {
		t.Fatalf("Stat of an empty object: %+v, %v", st, err)
	}
}

func testRanges(t *testing.T, be pack.Backend) {
	b := data(3, 10_000)
	save(t, be, "r", b)
	n := int64(len(b))
	for _, tc := range []struct {
		off, length int64
		want        []byte
	}{
		{0, 1, b[:1]},
		{17, 1000, b[17:1017]},
		{n - 1, 1, b[n-1:]},
		{5000, 0, b[5000:]},          // length 0: up to the end
		{9000, 5000, b[9000:]},       // short read
		{n, 10, nil},                 // at the end
		{n + 100, 10, nil},           // past the end
		{n + 100, 0, nil},            // past the end, to the end
		{0, n + 1<<20, b},            // longer than the object
		{1 << 40, 1 << 20, []byte{}}, // far past the end
	} {
		got, err := load(be, "r", tc.off, tc.length)
		if err != nil {
			t.Errorf("Load(off %d, length %d): %v", tc.off, tc.length, err)
			continue
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Load(off %d, length %d): %d bytes, want %d", tc.off, tc.length, len(got), len(tc.want))
		}
	}
	// A reader can be read in small pieces and closed early.
	rc, err := be.Load(ctx, "r", 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	var p [7]byte
	if _, err := io.ReadFull(rc, p[:]); err != nil || !bytes.Equal(p[:], b[10:17]) {
		t.Errorf("a 7-byte read of a range: %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Close of a reader read in part: %v", err)
	}
	if _, err := be.Load(ctx, "r", -1, 10); err == nil {
		t.Error("Load with a negative offset: no error")
	}
}

func testReaderAt(t *testing.T, be pack.Backend) {
	ra, ok := be.(pack.ReaderAt)
	if !ok {
		t.Log("the backend has no ReaderAt capability: nothing to check")
		return
	}
	b := data(4, 4096)
	save(t, be, "ra", b)
	p := make([]byte, 100)
	if n, err := ra.ReadAt(ctx, "ra", p, 50); n != 100 || err != nil || !bytes.Equal(p, b[50:150]) {
		t.Errorf("ReadAt inside: %d, %v", n, err)
	}
	n, err := ra.ReadAt(ctx, "ra", p, 4050)
	if n != 46 || !errors.Is(err, io.EOF) || !bytes.Equal(p[:n], b[4050:]) {
		t.Errorf("ReadAt across the end: %d, %v; want 46 bytes and io.EOF", n, err)
	}
	if n, err := ra.ReadAt(ctx, "ra", p, 5000); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt past the end: %d, %v; want 0 and io.EOF", n, err)
	}
	if _, err := ra.ReadAt(ctx, "nothing", p, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadAt of a missing object: %v; want fs.ErrNotExist", err)
	}
	// A replaced object reads as the new one.
	b2 := data(5, 200)
	save(t, be, "ra", b2)
	if n, err := ra.ReadAt(ctx, "ra", p, 0); n != 100 || err != nil || !bytes.Equal(p, b2[:100]) {
		t.Errorf("ReadAt after a replacement: %d, %v (or the old content)", n, err)
	}
}

func testMissing(t *testing.T, be pack.Backend) {
	if _, err := be.Load(ctx, "missing", 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing object: %v; want fs.ErrNotExist", err)
	}
	if _, err := be.Stat(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing object: %v; want fs.ErrNotExist", err)
	}
	if err := be.Remove(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove of a missing object: %v; want fs.ErrNotExist", err)
	}
	save(t, be, "gone", []byte("x"))
	if err := be.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Load(ctx, "gone", 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a removed object: %v; want fs.ErrNotExist", err)
	}
	if err := be.Remove(ctx, "gone"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a second Remove: %v; want fs.ErrNotExist", err)
	}
}

func testWrongSize(t *testing.T, be pack.Backend) {
	for _, size := range []int64{99, 101} {
		name := fmt.Sprintf("size%d", size)
		if err := be.Save(ctx, name, bytes.NewReader(data(6, 100)), size); err == nil {
			t.Errorf("Save of 100 bytes announced as %d: no error", size)
		}
		if _, err := be.Stat(ctx, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a failed Save left %q behind: %v", name, err)
		}
	}
	// A failed Save of an existing object leaves the old one.
	b := data(7, 50)
	save(t, be, "keep", b)
	if err := be.Save(ctx, "keep", bytes.NewReader(data(8, 10)), 20); err == nil {
		t.Error("short Save: no error")
	}
	if got, err := load(be, "keep", 0, 0); err != nil || !bytes.Equal(got, b) {
		t.Errorf("after a failed replacement, Load: %d bytes, %v; want the old %d", len(got), err, len(b))
	}
	if got := names(t, be); len(got) != 1 {
		t.Errorf("List after failed Saves: %v", got)
	}
}

func testListRemove(t *testing.T, be pack.Backend) {
	want := map[string]int64{}
	for i := range 40 {
		name := pack.PackName(uint32(i*37 + 1))
		if i%5 == 0 {
			name = fmt.Sprintf("other-%d.bin", i)
		}
		b := data(uint64(i), i*13)
		save(t, be, name, b)
		want[name] = int64(len(b))
	}
	got := names(t, be)
	if len(got) != len(want) {
		t.Fatalf("List: %d objects, want %d", len(got), len(want))
	}
	for name, size := range want {
		if got[name] != size {
			t.Errorf("List: %q has size %d, want %d", name, got[name], size)
		}
	}
	// An error from fn stops the listing and comes back.
	stop := errors.New("stop")
	calls := 0
	if err := be.List(ctx, func(pack.ObjectInfo) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with fn failing: %v after %d calls; want the error after 1", err, calls)
	}
	// Everything listed can be removed.
	for name := range got {
		if err := be.Remove(ctx, name); err != nil {
			t.Errorf("Remove(%q) of a listed object: %v", name, err)
		}
	}
	if left := names(t, be); len(left) != 0 {
		t.Errorf("List after removing everything: %v", left)
	}
}

// hostileNames are names no backend may accept.
var hostileNames = []string{
	"", ".", "..", "../escape", "../../etc/passwd", "a/b", "/abs", `a\b`, "a\x00b",
	".hidden", ".tmp-x", "-dash", "_under", "sp ace", "new\nline", "caf\xe9", "é",
	"*", "a?b", "a:b", strings.Repeat("x", 256),
}

func testHostileNames(t *testing.T, be pack.Backend) {
	for _, name := range hostileNames {
		if err := be.Save(ctx, name, bytes.NewReader([]byte("x")), 1); !errors.Is(err, pack.ErrInvalidName) {
			t.Errorf("Save(%q): %v; want pack.ErrInvalidName", name, err)
		}
		if _, err := be.Load(ctx, name, 0, 0); err == nil {
			t.Errorf("Load(%q): no error", name)
		}
		if _, err := be.Stat(ctx, name); err == nil {
			t.Errorf("Stat(%q): no error", name)
		}
		if err := be.Remove(ctx, name); err == nil {
			t.Errorf("Remove(%q): no error", name)
		}
		if app, ok := be.(pack.Appender); ok {
			if f, err := app.Create(ctx, name); !errors.Is(err, pack.ErrInvalidName) {
				t.Errorf("Create(%q): %v; want pack.ErrInvalidName", name, err)
				if f != nil {
					f.Close()
				}
			}
		}
	}
	if got := names(t, be); len(got) != 0 {
		t.Errorf("List after hostile names: %v", got)
	}
	// The longest valid name and every valid character work.
	for _, name := range []string{strings.Repeat("y", 255), "Az09.-_x", "a", "0", "a.b.c"} {
		save(t, be, name, []byte(name))
		if got := mustLoad(t, be, name, 0, 0); string(got) != name {
			t.Errorf("Load(%q): %q", name, got)
		}
	}
	if got := names(t, be); len(got) != 5 {
		t.Errorf("List of the valid names: %d objects, want 5", len(got))
	}
}

func testConcurrency(t *testing.T, be pack.Backend) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				b := data(uint64(w*100+i), 1000+w*i)
				if err := be.Save(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
					errs <- err
					continue
				}
				got, err := load(be, name, 0, 0)
				if err != nil || !bytes.Equal(got, b) {
					errs <- fmt.Errorf("Load(%q) after its Save: %d bytes, %v", name, len(got), err)
				}
				// Everyone also replaces and reads one shared object,
				// which must always be one whole version.
				shared := data(uint64(w), 2048)
				if err := be.Save(ctx, "shared", bytes.NewReader(shared), int64(len(shared))); err != nil {
					errs <- err
				}
				got, err = load(be, "shared", 0, 0)
				if err != nil {
					errs <- err
				} else if !isVersion(got, workers) {
					errs <- fmt.Errorf("the shared object read as a mix of versions (%d bytes)", len(got))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := names(t, be); len(got) != workers*each+1 {
		t.Errorf("List after parallel saves: %d objects, want %d", len(got), workers*each+1)
	}
}

func isVersion(b []byte, workers int) bool {
	for w := range workers {
		if bytes.Equal(b, data(uint64(w), 2048)) {
			return true
		}
	}
	return false
}

func testAppender(t *testing.T, be pack.Backend) {
	app, ok := be.(pack.Appender)
	if !ok {
		t.Log("the backend has no Appender capability: nothing to check")
		return
	}
	f, err := app.Create(ctx, "appended")
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i := range 5 {
		b := data(uint64(i), 333)
		if n, err := f.Write(b); n != len(b) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		all = append(all, b...)
		// What was written is readable before any Sync.
		if got := mustLoad(t, be, "appended", 0, 0); !bytes.Equal(got, all) {
			t.Fatalf("Load after %d writes: %d bytes, want %d", i+1, len(got), len(all))
		}
		if i == 2 {
			if err := f.Sync(); err != nil {
				t.Fatalf("Sync: %v", err)
			}
		}
	}
	if st, err := be.Stat(ctx, "appended"); err != nil || st.Size != int64(len(all)) {
		t.Fatalf("Stat of an object being appended to: %+v, %v", st, err)
	}
	if got := names(t, be); got["appended"] != int64(len(all)) {
		t.Fatalf("List of an object being appended to: %v", got)
	}
	if err := f.Truncate(500); err != nil {
		t.Fatalf("Truncate: %v", err)
	}
	if got := mustLoad(t, be, "appended", 0, 0); !bytes.Equal(got, all[:500]) {
		t.Fatalf("Load after Truncate: %d bytes, want 500", len(got))
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, be, "appended", 0, 0); !bytes.Equal(got, all[:500]) {
		t.Fatalf("Load after Close: %d bytes, want 500", len(got))
	}
	if err := app.SyncObject(ctx, "appended"); err != nil {
		t.Errorf("SyncObject: %v", err)
	}
	if err := app.SyncObject(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncObject of a missing object: %v; want fs.ErrNotExist", err)
	}
	// Create never takes over an existing object.
	if f, err := app.Create(ctx, "appended"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create of an existing object: %v; want fs.ErrExist", err)
		if f != nil {
			f.Close()
		}
	}
	save(t, be, "saved", []byte("x"))
	if _, err := app.Create(ctx, "saved"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a saved object: %v; want fs.ErrExist", err)
	}
	// An object created and removed while open is gone.
	g, err := app.Create(ctx, "dropped")
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("abc"))
	if err := be.Remove(ctx, "dropped"); err != nil {
		t.Fatalf("Remove of an object being appended to: %v", err)
	}
	g.Close()
	if _, err := be.Stat(ctx, "dropped"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an object removed while being appended to: %v", err)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for n := range names(t, be) {
			if !yield(n) {
				return
			}
		}
	})
	if !slices.Equal(got, []string{"appended", "saved"}) {
		t.Errorf("List at the end: %v", got)
	}
}
