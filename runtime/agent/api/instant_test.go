package api

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseInstant: every form ParseInstant reads, in the zone it is
// given, and the refusals, each wrapping ErrInstantRange when the instant
// cannot be represented.
func TestParseInstant(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"last", time.Time{}},
		{"  last ", time.Time{}},
		{"2026-11-25T14:00:00Z", now},
		{"2026-11-25T15:00:00.5+01:00", now.Add(500 * time.Millisecond)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, paris)},
		{"2026-11-25 15:04", time.Date(2026, 11, 25, 15, 4, 0, 0, paris)},
		{"2026-11-25T15:04:05", time.Date(2026, 11, 25, 15, 4, 5, 0, paris)},
		{"90m", now.Add(-90 * time.Minute)},
		{"2d", now.Add(-48 * time.Hour)},
		{"1w", now.Add(-7 * 24 * time.Hour)},
		{"1.5h", now.Add(-90 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
	} {
		got, err := ParseInstant(c.in, now, paris)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseInstant(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in, says string
		inRange  bool
	}{
		{"soonish", "RFC 3339", false},
		{"-2d", "must be positive", false},
		{"0s", "must be positive", false},
		{"1600-01-01", "cannot be represented", true},
		{"+10000-01-01", "cannot be represented", true},
		{"0001-01-01T00:00:00Z", "cannot be represented", true},
		{"300y", "RFC 3339", false},
		{"110000d", "cannot be represented", true},
	} {
		_, err := ParseInstant(c.in, now, paris)
		if err == nil || !strings.Contains(err.Error(), c.says) || errors.Is(err, ErrInstantRange) != c.inRange {
			t.Errorf("ParseInstant(%q): %v; want an error saying %q (ErrInstantRange: %v)", c.in, err, c.says, c.inRange)
		}
	}
	if err := RangeError("outside"); !errors.Is(err, ErrInstantRange) || err.Error() != "outside" {
		t.Errorf("RangeError: %v", err)
	}
}
