package bufpool

import (
	"math/bits"
	"sync"
)

// Size classes: powers of two from 4 KiB to 16 MiB. Get allocates larger
// buffers each time; Put keeps those under 32 MiB in the 16 MiB class,
// which they serve, and drops the others.
const (
	minShift = 12
	maxShift = 24
)

var pools [maxShift - minShift + 1]sync.Pool

// Get returns a buffer of length at least n (its whole capacity), from
// the pool of n's size class when it has one.
func Get(n int) *[]byte {
	shift := minShift
	if n > 1 {
		shift = max(minShift, bits.Len(uint(n-1)))
	}
	if shift > maxShift {
		b := make([]byte, n)
		return &b
	}
	if v := pools[shift-minShift].Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 1<<shift)
	return &b
}

// Put gives a buffer back for reuse, in the largest class its capacity
// serves; the caller must not use it after. Buffers under 4 KiB or of 32
// MiB and more are left to the garbage collector.
func Put(bp *[]byte) {
	c := cap(*bp)
	shift := bits.Len(uint(c)) - 1 // floor(log2(cap)): the buffer serves that class
	if shift < minShift || shift > maxShift {
		return
	}
	*bp = (*bp)[:c]
	pools[shift-minShift].Put(bp)
}
