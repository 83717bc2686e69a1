package corpus

import (
	"math"
	"math/rand/v2"
)

// Every random choice comes from a generator seeded by mixing Options.Seed
// with a stream number and an index, so that one message's content does not
// depend on how many random numbers another message consumed, nor on the
// order in which parallel workers run.

// Stream numbers: one per independent sequence of choices.
const (
	streamPlan uint64 = iota + 1
	streamMessage
	streamShared
	streamMutate
)

// mix hashes its arguments with splitmix64 steps.
func mix(vals ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= v
		h += 0x9e3779b97f4a7c15
		z := h
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		h = z ^ (z >> 31)
	}
	return h
}

func newRand(seed int64, vals ...uint64) *rand.Rand {
	h := mix(append([]uint64{uint64(seed)}, vals...)...)
	return rand.New(rand.NewPCG(h, mix(h, 0x5851f42d4c957f2d)))
}

func newChaCha(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := 0; i < 4; i++ {
		v := mix(seed, uint64(i))
		for j := 0; j < 8; j++ {
			s[8*i+j] = byte(v >> (8 * j))
		}
	}
	return rand.NewChaCha8(s)
}

// Floating point: only IEEE-exact operations (+ - * / with explicit
// conversions that forbid fused multiply-add, and Ldexp), so that sizes are
// the same on every architecture; math.Exp and math.Log have assembly
// versions that may differ in the last bit between platforms.

// normal returns an approximately standard normal variate (Irwin–Hall: the
// sum of 12 uniforms, minus 6), bounded to ±6.
func normal(r *rand.Rand) float64 {
	s := 0.0
	for i := 0; i < 12; i++ {
		s += float64(r.Float64()) // no fused multiply-add on arm64
	}
	return s - 6
}

// expDet is exp(x) for |x| < 700 computed with exact operations only.
func expDet(x float64) float64 {
	const ln2 = 0.6931471805599453
	k := math.Floor(x/ln2 + 0.5)
	rr := float64(x - float64(k*ln2)) // |rr| <= ln2/2
	// Taylor series to degree 14: error far below 1e-15 on |rr| <= 0.35.
	p := 1.0
	for n := 14; n >= 1; n-- {
		p = float64(float64(p*rr)/float64(n)) + 1
	}
	return math.Ldexp(p, int(k))
}

// logNormal returns median·e^(sigma·Z).
func logNormal(r *rand.Rand, median, sigma float64) float64 {
	return median * expDet(float64(sigma*normal(r)))
}
