package history_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit/mailrepo"
	"github.com/mailkeep/mailkeep/runtime/history"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// BenchmarkHistory100k measures backup history and backup diff over one
// account of 100,000 messages backed up, then 10% re-flagged, 10% moved
// and 10% deleted (not part of make test: go test -run '^$' -bench
// History100k ./runtime/history; BENCH_HISTORY_MESSAGES sets another size).
func BenchmarkHistory100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_HISTORY_MESSAGES")); err == nil {
		n = v
	}
	m := mailrepo.New(b, corpus.Options{Seed: 5, Accounts: 1, Messages: n, MaxSize: 16 << 10}, repo.Options{})
	root, st, store, r := m.Root, m.Corpus, m.Store, m.Repo
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	scanAt := func(at time.Time) {
		if _, err := scan.Run(context.Background(), r, store, scan.Options{Now: func() time.Time { return at }}); err != nil {
			b.Fatal(err)
		}
	}
	scanAt(now)
	for i, mutate := range []func(string, float64, int64) (int, error){corpus.RenameFlags, corpus.Move, corpus.Delete} {
		if _, err := mutate(root, 0.1, int64(i)); err != nil {
			b.Fatal(err)
		}
		scanAt(now.Add(time.Duration(i+1) * time.Hour))
	}
	account := st.PerAccount[0].Address
	b.Run("history", func(b *testing.B) {
		for b.Loop() {
			if _, err := history.Events(r.Catalog, account, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("diff", func(b *testing.B) {
		for b.Loop() {
			d, err := history.Compare(r.Catalog, account, now, now.Add(4*time.Hour), history.FromRepo(r))
			if err != nil {
				b.Fatal(err)
			}
			if d.Deleted == 0 || d.Moved == 0 || d.Reflagged == 0 {
				b.Fatalf("diff found %d deleted, %d moved, %d re-flagged", d.Deleted, d.Moved, d.Reflagged)
			}
		}
	})
}
