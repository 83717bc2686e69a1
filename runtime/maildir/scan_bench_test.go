package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchMessages is the size of the benchmark Maildir: BENCH_MESSAGES,
// default 100,000 (as in `make bench`).
func benchMessages(b *testing.B) int {
	if v := os.Getenv("BENCH_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_MESSAGES=%q is not a positive number", v)
		}
		return n
	}
	return 100000
}

// BenchmarkScan scans one account of BENCH_MESSAGES messages spread over
// ten folders, with a dovecot-uidlist and keywords, as Dovecot leaves
// them. Compare with `find DIR -printf '%s %T@ %i\n'` on the same tree
// (the stat floor).
func BenchmarkScan(b *testing.B) {
	n := benchMessages(b)
	base := b.TempDir()
	s := mustOpenB(b, "maildir:"+base+"/%d/%n/Maildir")
	a, _ := s.Account("bench@example.com")
	folders := []string{""}
	for i := 1; i < 10; i++ {
		folders = append(folders, fmt.Sprintf(".Folder%d", i))
	}
	per := n / len(folders)
	body := make([]byte, 64)
	for _, f := range folders {
		dir := filepath.Join(a.Root, f)
		for _, sub := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(dir, sub), 0o700)
		}
		uidlist := []byte("3 V1700000000 N1 G00112233445566778899aabbccddeeff\n")
		for i := 0; i < per; i++ {
			base := fmt.Sprintf("17000%05d.M%dP%d.bench,S=64,W=66", i, i*7, i)
			name := base + ":2,S"
			if i%3 == 0 {
				name += "a"
			}
			if err := os.WriteFile(filepath.Join(dir, "cur", name), body, 0o600); err != nil {
				b.Fatal(err)
			}
			uidlist = fmt.Appendf(uidlist, "%d :%s\n", i+1, base)
		}
		os.WriteFile(filepath.Join(dir, UIDListFile), uidlist, 0o600)
		os.WriteFile(filepath.Join(dir, KeywordsFile), []byte("0 $Important\n"), 0o600)
	}
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		snap, err := s.Scan(a)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Folders) != len(folders) {
			b.Fatalf("%d folders", len(snap.Folders))
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/float64(per*len(folders)), "ns/message")
	// CPU time (user and system) per message: on a shared machine it
	// varies far less than the wall clock.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(per*len(folders)), "cpu-ns/message")
}

// cpuTime returns the process's user and system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func mustOpenB(b *testing.B, location string) *Store {
	b.Helper()
	ms, err := parseLocation(location)
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(ms)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
