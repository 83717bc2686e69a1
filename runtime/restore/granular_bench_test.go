package restore_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/restore"
)

// benchMessages is the size of the benchmark account.
const benchMessages = 20000

// BenchmarkUndeleteAccount measures an undelete of a whole account whose
// Maildir was removed (every message a deletion to trace): preparing it
// (the catalog queries) in a dry run, and writing it.
func BenchmarkUndeleteAccount(b *testing.B) {
	for _, dry := range []bool{true, false} {
		b.Run(fmt.Sprintf("dry_run=%v", dry), func(b *testing.B) {
			f := newFixture(b, 41, 1, benchMessages)
			name := f.accounts()[0]
			at, _ := f.smartScan()
			a, _ := f.store.Account(name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				os.RemoveAll(a.Root)
				f.smartScan()
				b.StartTimer()
				res, err := restore.Undelete(context.Background(), f.repo, f.store, restore.UndeleteOptions{
					Account: name, From: at.Add(time.Minute), Until: f.now, DryRun: dry, Now: func() time.Time { return f.now }})
				if err != nil || res.Messages != benchMessages {
					b.Fatalf("undelete: %v, %d messages", err, res.Messages)
				}
			}
			b.ReportMetric(float64(benchMessages*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkIntoFolder measures restoring a whole account under a folder.
func BenchmarkIntoFolder(b *testing.B) {
	f := newFixture(b, 41, 1, benchMessages)
	name := f.accounts()[0]
	at, _ := f.smartScan()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := restore.IntoFolder(context.Background(), f.repo, f.store, restore.IntoFolderOptions{
			Account: name, At: at.Add(time.Minute), Folder: fmt.Sprintf("Restored/run%d", i)})
		if err != nil || res.Messages != benchMessages {
			b.Fatalf("into-folder: %v, %+v", err, res)
		}
	}
	b.ReportMetric(float64(benchMessages*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
