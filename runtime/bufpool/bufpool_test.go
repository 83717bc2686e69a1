package bufpool

import "testing"

func TestGetSizes(t *testing.T) {
	for _, n := range []int{0, 1, 4095, 4096, 4097, 1 << 20, 16 << 20, 16<<20 + 1} {
		bp := Get(n)
		if len(*bp) < n {
			t.Errorf("Get(%d) returned %d bytes", n, len(*bp))
		}
		if n <= 16<<20 && len(*bp) != max(4096, nextPow2(n)) {
			t.Errorf("Get(%d) returned %d bytes, want its size class %d", n, len(*bp), max(4096, nextPow2(n)))
		}
		(*bp)[len(*bp)-1] = 1
		Put(bp)
	}
}

func TestPutShortenedBuffer(t *testing.T) {
	bp := Get(10000) // 16 KiB class
	*bp = (*bp)[:3]
	Put(bp)
	for i := 0; i < 10; i++ {
		if b := Get(16 << 10); len(*b) < 16<<10 {
			t.Fatalf("Get(16 KiB) returned %d bytes after a shortened Put", len(*b))
		}
	}
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
