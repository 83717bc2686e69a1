package pack

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Benchmarks on generated mail (mail_test.go): 2,000 messages, 88 MB
// (median 8.6 KB; 64% of the bytes in the 2% with big attachments).
// Each op handles one message, taken in turn; MB/s counts raw bytes, and
// stored/raw is the size of what was written (records included for Put)
// over the raw size. Run:
//
//	go test ./runtime/pack -run '^$' -bench . -count 5

const benchMessages = 2000

var benchCorpus = sync.OnceValues(func() ([][]byte, []ID) {
	msgs := mailCorpus(42, benchMessages)
	ids := make([]ID, len(msgs))
	for i, m := range msgs {
		ids[i] = Hash(m)
	}
	return msgs, ids
})

// benchLevels are the Store levels compared by BenchmarkPut and
// BenchmarkRead (SpeedBestCompression is too slow for the hot path: see
// BenchmarkCompress).
var benchLevels = []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression}

// cpuTime returns the CPU time (user + system) of this process so far.
// On a shared, noisy machine MB per CPU-second is steadier than MB/s.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds the throughput (wall and CPU) and the compression ratio.
func report(b *testing.B, cpu0 time.Duration, raw, stored int64) {
	b.ReportMetric(float64(raw)/1e6/b.Elapsed().Seconds(), "MB/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(raw)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
	if stored > 0 {
		b.ReportMetric(float64(stored)/float64(raw), "stored/raw")
	}
}

// compressVariants are the encoder settings compared by BenchmarkCompress:
// each level, and the two fast levels with entropy coding of literals in
// blocks without matches, which the library turns on only above
// SpeedDefault, and which base64 attachments need (64 symbols: 6 bits of 8).
var compressVariants = []struct {
	name string
	lvl  zstd.EncoderLevel
	lit  bool
}{
	{"fastest", zstd.SpeedFastest, false},
	{"fastest+lit", zstd.SpeedFastest, true},
	{"default", zstd.SpeedDefault, false},
	{"default+lit", zstd.SpeedDefault, true},
	{"better", zstd.SpeedBetterCompression, true},
	{"best", zstd.SpeedBestCompression, true},
}

// BenchmarkCompress measures the zstd settings alone (EncodeAll with one
// shared encoder, as Put uses it), on all cores.
func BenchmarkCompress(b *testing.B) {
	msgs, _ := benchCorpus()
	for _, v := range compressVariants {
		b.Run("level="+v.name, func(b *testing.B) {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(v.lvl), zstd.WithAllLitEntropyCompression(v.lit), zstd.WithEncoderCRC(false))
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			var next, raw, stored, smallRaw, smallStored atomic.Int64
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				var r, s, sr, ss int64
				for pb.Next() {
					m := msgs[int(next.Add(1))%len(msgs)]
					dst = enc.EncodeAll(m, dst[:0])
					n := int64(min(len(dst), len(m))) // Put stores raw what does not shrink
					r += int64(len(m))
					s += n
					if len(m) < 32<<10 {
						sr += int64(len(m))
						ss += n
					}
				}
				raw.Add(r)
				stored.Add(s)
				smallRaw.Add(sr)
				smallStored.Add(ss)
			})
			report(b, cpu0, raw.Load(), stored.Load())
			// The same ratio over messages under 32 KiB: mostly text, where
			// the match finder of each level makes the difference.
			b.ReportMetric(float64(smallStored.Load())/float64(smallRaw.Load()), "small-stored/raw")
		})
	}
}

// BenchmarkDecompress measures decoding what each level produced.
func BenchmarkDecompress(b *testing.B) {
	msgs, _ := benchCorpus()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(false))
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	for _, v := range compressVariants {
		b.Run("level="+v.name, func(b *testing.B) {
			enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(v.lvl), zstd.WithAllLitEntropyCompression(v.lit), zstd.WithEncoderCRC(false))
			comp := make([][]byte, len(msgs))
			for i, m := range msgs {
				comp[i] = enc.EncodeAll(m, nil)
			}
			enc.Close()
			var next, raw atomic.Int64
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				var r int64
				for pb.Next() {
					i := int(next.Add(1)) % len(msgs)
					var err error
					if dst, err = dec.DecodeAll(comp[i], dst[:0]); err != nil {
						b.Error(err)
						return
					}
					r += int64(len(dst))
				}
				raw.Add(r)
			})
			report(b, cpu0, raw.Load(), 0)
		})
	}
}

// BenchmarkPut measures Put from all cores into a store without fsync
// (BenchmarkPutSync adds it): compression, CRC, buffered append, rotation.
// The ids are computed beforehand, as the caller does for deduplication.
func BenchmarkPut(b *testing.B) {
	msgs, ids := benchCorpus()
	for _, lvl := range benchLevels {
		b.Run("level="+lvl.String(), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Level: lvl, NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var next, raw, stored atomic.Int64
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				var r, st int64
				for pb.Next() {
					i := int(next.Add(1)) % len(msgs)
					loc, err := s.Put(ids[i], msgs[i])
					if err != nil {
						b.Error(err)
						return
					}
					r += int64(len(msgs[i]))
					st += int64(loc.Length)
				}
				raw.Add(r)
				stored.Add(st)
			})
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
			report(b, cpu0, raw.Load(), stored.Load())
		})
	}
}

// BenchmarkPutSync is BenchmarkPut at the default level with a durable
// Sync after every batch messages, as the catalog commits.
func BenchmarkPutSync(b *testing.B) {
	msgs, ids := benchCorpus()
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var next, raw atomic.Int64
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				var r int64
				for pb.Next() {
					n := int(next.Add(1))
					i := n % len(msgs)
					if _, err := s.Put(ids[i], msgs[i]); err != nil {
						b.Error(err)
						return
					}
					r += int64(len(msgs[i]))
					if n%batch == 0 {
						if err := s.Sync(); err != nil {
							b.Error(err)
							return
						}
					}
				}
				raw.Add(r)
			})
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
			report(b, cpu0, raw.Load(), 0)
		})
	}
}

// BenchmarkRead reads the corpus back in random order from all cores
// (page cache warm): pread, CRC, decompression, SHA-256 verification.
// "read" allocates the result; "append" reuses a buffer as a restore does.
func BenchmarkRead(b *testing.B) {
	msgs, ids := benchCorpus()
	for _, lvl := range benchLevels {
		s, err := Open(b.TempDir(), Options{Level: lvl, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		locs := make([]Location, len(msgs))
		for i, m := range msgs {
			if locs[i], err = s.Put(ids[i], m); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Sync(); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"read", "append"} {
			b.Run(fmt.Sprintf("level=%s/%s", lvl, mode), func(b *testing.B) {
				var seed, raw atomic.Uint64
				b.ResetTimer()
				cpu0 := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					r := rand.New(rand.NewPCG(seed.Add(1), 0))
					var buf []byte
					var n uint64
					for pb.Next() {
						i := r.IntN(len(msgs))
						var err error
						if mode == "read" {
							buf, err = s.Read(locs[i])
						} else {
							buf, err = s.AppendBlob(buf[:0], ids[i], locs[i])
						}
						if err != nil {
							b.Error(err)
							return
						}
						n += uint64(len(buf))
					}
					raw.Add(n)
				})
				report(b, cpu0, int64(raw.Load()), 0)
			})
		}
		s.Close()
	}
}

// BenchmarkCheck measures a deep Check of a 64 MiB-ish pack.
func BenchmarkCheck(b *testing.B) {
	msgs, ids := benchCorpus()
	s, err := Open(b.TempDir(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var total int64
	for i, m := range msgs {
		if _, err := s.Put(ids[i], m); err != nil {
			b.Fatal(err)
		}
		total += int64(len(m))
	}
	s.Sync()
	for _, deep := range []bool{false, true} {
		b.Run(fmt.Sprintf("deep=%v", deep), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if err := s.Check(1, deep, nil); err != nil {
					b.Fatal(err)
				}
			}
			report(b, cpu0, total*int64(b.N), 0)
		})
	}
}

// TestMailCorpusShape keeps the generator honest: median near 8 KB, a tail.
func TestMailCorpusShape(t *testing.T) {
	msgs := mailCorpus(42, 500)
	sizes := make([]int, len(msgs))
	var total int
	for i, m := range msgs {
		sizes[i] = len(m)
		total += len(m)
	}
	slices.Sort(sizes)
	med, p99 := sizes[len(sizes)/2], sizes[len(sizes)*99/100]
	t.Logf("500 messages: median %d B, p99 %d B, max %d B, total %d B", med, p99, sizes[len(sizes)-1], total)
	if med < 6000 || med > 11000 || p99 < 60000 {
		t.Fatalf("median %d, p99 %d: not mail-like", med, p99)
	}
}
