package bufpool

import (
	"math/bits"
	"sync"
)

// Size classes: powers of two from 4 KiB to 16 MiB. Larger buffers are
// allocated on each Get and dropped by Put.
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

// Put gives a buffer back for reuse; the caller must not use it after.
// Buffers outside the size classes are left to the garbage collector.
func Put(bp *[]byte) {
	c := cap(*bp)
	shift := bits.Len(uint(c)) - 1 // floor(log2(cap)): the buffer serves that class
	if shift < minShift || shift > maxShift {
		return
	}
	*bp = (*bp)[:c]
	pools[shift-minShift].Put(bp)
}
