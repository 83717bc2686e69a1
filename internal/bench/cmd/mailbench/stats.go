package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// medianDuration returns the median of ds (the mean of the two middle values
// for an even count) and false when ds is empty.
func medianDuration(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// medianInt64 is medianDuration for byte counts.
func medianInt64(vs []int64) (int64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// maxInt64 returns the largest of vs, or 0.
func maxInt64(vs []int64) int64 {
	var m int64
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// fmtDuration renders a phase time with a precision that suits it:
// "0.062 s", "4.81 s", "61.3 s".
func fmtDuration(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 1:
		return fmt.Sprintf("%.3f s", s)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	default:
		return fmt.Sprintf("%.1f s", s)
	}
}

// fmtRatio renders a ratio such as mailkeep/fastest: "0.42×", "1.9×",
// "12×"; "n/a" when the denominator is missing or zero.
func fmtRatio(num, den float64) string {
	if den <= 0 || num < 0 || math.IsNaN(num) || math.IsInf(num, 0) {
		return "n/a"
	}
	r := num / den
	switch {
	case r < 10:
		return fmt.Sprintf("%.2f×", r)
	case r < 100:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.0f×", r)
	}
}

// fmtMB renders a byte count in megabytes (10^6 bytes), the unit the
// targets use.
func fmtMB(b int64) string {
	mb := float64(b) / 1e6
	switch {
	case mb < 10:
		return fmt.Sprintf("%.2f MB", mb)
	case mb < 1000:
		return fmt.Sprintf("%.1f MB", mb)
	default:
		return fmt.Sprintf("%.0f MB", mb)
	}
}

// fmtKB renders a small size in kilobytes (10^3 bytes).
func fmtKB(b int64) string { return fmt.Sprintf("%.1f KB", float64(b)/1e3) }
