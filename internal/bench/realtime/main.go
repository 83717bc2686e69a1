// Command realtime measures the realtime scanner (issue 5): with
// deliveries at a steady rate spread over many folders, the time from a
// message's arrival in new/ to its durable record in the repository; then,
// after a forced loss of events (the event reader paused until the kernel
// queue overflows), whether any message is missing once the rescan ends.
//
//	go run ./internal/bench/realtime -rate 200 -folders 1000 -seconds 60
//
// The store, the repository and the scanner run in this process, on the
// local disk, with metadata.flush_on_save (every batch durable before it is
// reported). For the overflow phase the kernel's fs.inotify.max_queued_events
// is lowered for the scanner's inotify instance when /proc allows it, and
// restored afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/realtime"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

func main() {
	rate := flag.Int("rate", 200, "deliveries per second")
	folders := flag.Int("folders", 1000, "folders the deliveries are spread over (10 per account)")
	seconds := flag.Int("seconds", 60, "how long to deliver")
	overflow := flag.Int("overflow", 8000, "messages delivered while the event reader is paused")
	dir := flag.String("dir", "", "work directory (default: a temporary one, removed at the end)")
	flag.Parse()
	if err := run(*rate, *folders, *seconds, *overflow, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "realtime bench:", err)
		os.Exit(1)
	}
}

// delivery is one message written into a folder's new/.
type delivery struct {
	account string
	at      time.Time
}

// tracker matches deliveries with the batches that recorded them.
type tracker struct {
	mu        sync.Mutex
	pending   map[string][]time.Time // account → arrival times not yet recorded
	latencies []time.Duration
}

func (t *tracker) delivered(d delivery) {
	t.mu.Lock()
	t.pending[d.account] = append(t.pending[d.account], d.at)
	t.mu.Unlock()
}

// recorded marks every delivery to the batch's accounts made before the
// batch started as durable now.
func (t *tracker) recorded(b realtime.Batch) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range b.Accounts {
		left := t.pending[a][:0]
		for _, at := range t.pending[a] {
			if at.Before(b.Started) {
				t.latencies = append(t.latencies, now.Sub(at))
			} else {
				left = append(left, at)
			}
		}
		t.pending[a] = left
	}
}

func (t *tracker) outstanding() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.pending {
		n += len(p)
	}
	return n
}

func run(rate, folders, seconds, overflow int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "mailkeep-realtime-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	accounts := max(1, folders/10)
	root := filepath.Join(dir, "vmail")
	st, err := corpus.Generate(root, corpus.Options{Seed: 5, Accounts: accounts, Messages: accounts * 20, FoldersPerAccount: 9, MaxSize: 64 << 10})
	if err != nil {
		return err
	}
	ms, _ := location.Parse("maildir:" + root + "/%d/%n/Maildir")
	store, err := maildir.Open(ms)
	if err != nil {
		return err
	}
	targets, err := folderTargets(store)
	if err != nil {
		return err
	}
	r, err := repo.Open(filepath.Join(dir, "backup"), repo.Options{Create: true, Durable: true})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Printf("store: %d accounts, %d folders, %d messages\n", st.Accounts, len(targets), st.Messages)

	tr := &tracker{pending: map[string][]time.Time{}}
	var paused atomic.Bool
	restore := lowerQueue(1024)
	s, err := realtime.Start(context.Background(), r, store, realtime.Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnRecord: tr.recorded,
		Pause:    paused.Load,
	})
	restore()
	if err != nil {
		return err
	}
	defer s.Stop()
	waitIdle(s)

	// Phase 1: steady deliveries.
	rnd := rand.New(rand.NewPCG(1, 2))
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	n := 0
	for next := start; time.Since(start) < time.Duration(seconds)*time.Second; next = next.Add(interval) {
		time.Sleep(time.Until(next))
		tg := targets[rnd.IntN(len(targets))]
		at, err := deliver(tg, n)
		if err != nil {
			return err
		}
		tr.delivered(delivery{account: tg.account, at: at})
		n++
	}
	for deadline := time.Now().Add(30 * time.Second); tr.outstanding() > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	lat := slices.Clone(tr.latencies)
	slices.Sort(lat)
	fmt.Printf("steady: %d deliveries in %.1fs (%.0f/s) over %d folders; recorded %d, outstanding %d\n",
		n, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds(), len(targets), len(lat), tr.outstanding())
	if len(lat) > 0 {
		fmt.Printf("arrival → durable record: p50 %s  p90 %s  p99 %s  max %s  (target p99 < 1s: %s)\n",
			pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1], verdict(pct(lat, 99) < time.Second))
	}

	// Phase 2: lost events.
	before := st.Messages + n
	paused.Store(true)
	for i := 0; i < overflow; i++ {
		tg := targets[rnd.IntN(len(targets))]
		if _, err := deliver(tg, n+i); err != nil {
			return err
		}
	}
	paused.Store(false)
	deadline := time.Now().Add(2 * time.Minute)
	var got int64
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if got = countItems(r); got == int64(before+overflow) && s.Status().Pending == 0 {
			break
		}
	}
	status := s.Status()
	fmt.Printf("lost events: %d delivered while paused; overflows reported %d; recorded %d of %d messages: %d missing (target 0: %s)\n",
		overflow, status.Overflows, got, before+overflow, int64(before+overflow)-got, verdict(got == int64(before+overflow)))
	if status.LastRescan != "" {
		fmt.Printf("last rescan: %s\n", status.LastRescan)
	}
	return nil
}

// target is a folder deliveries go to.
type target struct {
	account string
	dir     string // the folder's directory
}

func folderTargets(store *maildir.Store) ([]target, error) {
	accounts, err := store.Accounts()
	if err != nil {
		return nil, err
	}
	var out []target
	for _, a := range accounts {
		snap, err := store.Scan(a)
		if err != nil {
			return nil, err
		}
		for _, f := range snap.Folders {
			out = append(out, target{account: a.Name, dir: filepath.Join(a.Root, f.Dir)})
		}
	}
	return out, nil
}

// deliver writes a message into tmp/ and renames it into new/, as an MDA
// does, and returns the time it appeared in new/.
func deliver(t target, n int) (time.Time, error) {
	name := fmt.Sprintf("%d.M%dP%d.bench", time.Now().Unix(), n, os.Getpid())
	body := fmt.Sprintf("From: bench@example.com\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\n\r\n%s\r\n", n, n, strings.Repeat("hello ", 200+n%500))
	tmp := filepath.Join(t.dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return time.Time{}, err
	}
	if err := os.Rename(tmp, filepath.Join(t.dir, "new", name)); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

func countItems(r *repo.Repo) int64 {
	stats, err := r.Catalog.Stats("")
	if err != nil {
		return -1
	}
	var n int64
	for _, s := range stats {
		n += s.Items
	}
	return n
}

func waitIdle(s *realtime.Scanner) {
	for i := 0; i < 600; i++ {
		if st := s.Status(); st.Recorded > 0 && st.Pending == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lowerQueue lowers fs.inotify.max_queued_events (read by the kernel when
// an inotify instance is created) and returns a function restoring it.
func lowerQueue(n int) func() {
	const p = "/proc/sys/fs/inotify/max_queued_events"
	old, err := os.ReadFile(p)
	if err != nil || os.WriteFile(p, []byte(fmt.Sprint(n)), 0o644) != nil {
		fmt.Println("note: cannot lower fs.inotify.max_queued_events; the overflow phase relies on the paused reader alone")
		return func() {}
	}
	fmt.Printf("fs.inotify.max_queued_events lowered from %s to %d for the scanner's instance\n", strings.TrimSpace(string(old)), n)
	return func() { os.WriteFile(p, old, 0o644) }
}

func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	if i > 0 {
		i--
	}
	return d[min(i, len(d)-1)]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
