package agent

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseInstant reads a restore instant: "" or "last" (the zero time: the
// latest state), RFC 3339, "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or
// "YYYY-MM-DD HH:MM:SS" in loc (the agent's zone), or a duration ago such
// as "90m", "36h", "2d" or "1w".
func ParseInstant(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "last" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if d, ok := parseAgo(s); ok {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("instant %q: the duration must be positive", s)
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("instant %q: use last, RFC 3339 (2026-11-25T14:00:00Z), YYYY-MM-DD[ HH:MM[:SS]] or a duration ago such as 90m, 2d", s)
}

// parseAgo reads "<number><unit>" with units s, m, h, d and w, or any Go
// duration.
func parseAgo(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, true
	}
	units := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if len(s) < 2 {
		return 0, false
	}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(n * float64(unit)), true
}
