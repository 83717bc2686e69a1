package api

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// The instants mailkeep can represent: the catalog keeps times as Unix
// nanoseconds in an int64, from 1677-09-21T00:12:43.145224192Z to
// 2262-04-11T23:47:16.854775807Z.
var (
	MinInstant = time.Unix(0, math.MinInt64).UTC()
	MaxInstant = time.Unix(0, math.MaxInt64).UTC()
)

// ErrInstantRange is what errors.Is finds in the errors of instants that
// cannot be represented or lie outside an account's history.
var ErrInstantRange = errors.New("instant out of range")

// rangeError is an instant refused for its range; its message says which
// range would be accepted.
type rangeError struct{ msg string }

func (e *rangeError) Error() string        { return e.msg }
func (e *rangeError) Is(target error) bool { return target == ErrInstantRange }

// RangeError returns an error of an instant refused for its range (one
// outside an account's history, say) whose message is msg, and which
// errors.Is finds to be ErrInstantRange.
func RangeError(msg string) error { return &rangeError{msg} }

// unrepresentable is the error of an instant outside MinInstant to
// MaxInstant; shown is what it was read as, when it could be.
func unrepresentable(s, shown string) error {
	if shown != "" {
		s = fmt.Sprintf("%q (%s)", s, shown)
	} else {
		s = fmt.Sprintf("%q", s)
	}
	return &rangeError{fmt.Sprintf("instant %s cannot be represented: mailkeep represents instants from %s to %s",
		s, MinInstant.Format(time.RFC3339), MaxInstant.Format(time.RFC3339))}
}

// instantForms is what ParseInstant reads, for messages.
const instantForms = "use last, RFC 3339 (2026-11-25T14:00:00Z), YYYY-MM-DD[ HH:MM[:SS]] or a duration ago such as 90m, 2d"

// ParseInstant reads an instant: "" or "last" (the zero time: the latest
// state), RFC 3339, "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or
// "YYYY-MM-DD HH:MM:SS" in loc (the agent's zone), or a duration ago such
// as "90m", "36h", "2d" or "1w" (a number, a point and decimals allowed,
// and one unit of s, m, h, d and w; or any Go duration such as "1h30m").
// An instant the catalog cannot represent (before MinInstant or after
// MaxInstant: year 1600, year 10000, 300 years ago) is an error wrapping
// ErrInstantRange that names it and the range; it is never taken for
// another instant (nor "0001-01-01T00:00:00Z" for last).
func ParseInstant(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "last" {
		return time.Time{}, nil
	}
	t, ok, err := parseDate(s, loc)
	if !ok && err == nil {
		t, ok, err = parseAgo(s, now)
	}
	switch {
	case err != nil:
		return time.Time{}, err
	case !ok:
		return time.Time{}, fmt.Errorf("instant %q: %s", s, instantForms)
	case t.Before(MinInstant) || t.After(MaxInstant):
		return time.Time{}, unrepresentable(s, t.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// longYear is a date whose year has more than four digits or a sign
// (ISO 8601's expanded years, +10000-01-01, -0044-03-15), which no layout
// of parseDate reads.
var longYear = regexp.MustCompile(`^([+-]\d{4,}|\d{5,})-\d\d-\d\d`)

// parseDate reads the RFC 3339 and YYYY-MM-DD forms; ok is false when s
// is none of them.
func parseDate(s string, loc *time.Location) (t time.Time, ok bool, err error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true, nil
		}
	}
	if longYear.MatchString(s) {
		return time.Time{}, false, unrepresentable(s, "")
	}
	return time.Time{}, false, nil
}

// agoForm is a duration ago in one unit: a number, with decimals or not,
// and s, m, h, d or w.
var agoForm = regexp.MustCompile(`^([+-]?)(\d+(?:\.\d+)?)([smhdw])$`)

var agoUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseAgo reads a duration ago (agoForm, or any Go duration); ok is false
// when s is not a duration. A duration that is not positive, or longer
// than a time.Duration holds (about 292 years), is an error.
func parseAgo(s string, now time.Time) (t time.Time, ok bool, err error) {
	var d time.Duration
	if m := agoForm.FindStringSubmatch(s); m != nil {
		n, _, perr := big.ParseFloat(m[2], 10, 128, big.ToNearestEven)
		if perr != nil {
			return time.Time{}, false, nil
		}
		ns, _ := new(big.Float).Mul(n, new(big.Float).SetInt64(int64(agoUnits[m[3]]))).Int(nil)
		if !ns.IsInt64() {
			return time.Time{}, false, &rangeError{fmt.Sprintf("instant %q cannot be represented: a duration ago may be at most %s (%dd)",
				s, time.Duration(math.MaxInt64), int64(time.Duration(math.MaxInt64)/(24*time.Hour)))}
		}
		if d = time.Duration(ns.Int64()); m[1] == "-" {
			d = -d
		}
	} else if d, err = time.ParseDuration(s); err != nil {
		return time.Time{}, false, nil
	}
	if d <= 0 {
		return time.Time{}, false, fmt.Errorf("instant %q: the duration must be positive", s)
	}
	return now.Add(-d), true, nil
}
