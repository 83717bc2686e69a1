package mailheader

import (
	"net/mail"
	"strings"
	"time"
)

// parseDate reads a Date: header: the RFC 5322 form most messages carry
// ("Tue, 1 Dec 2026 10:00:00 +0100", optionally with a trailing comment)
// by hand, since net/mail.ParseDate tries layout after layout and
// allocates an error for each that fails; anything else through
// net/mail.ParseDate. It reports false when the date does not parse.
func parseDate(s string) (time.Time, bool) {
	if t, ok := fastDate(s); ok {
		return t, true
	}
	t, err := mail.ParseDate(s)
	return t, err == nil
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// fastDate reads "[Ddd, ]D Mon YYYY HH:MM[:SS] ±HHMM[ (comment)]".
func fastDate(s string) (time.Time, bool) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = strings.TrimLeft(s[i+1:], " ")
	}
	f := strings.Fields(s)
	if len(f) < 5 || len(f) > 6 || len(f) == 6 && !strings.HasPrefix(f[5], "(") {
		return time.Time{}, false
	}
	day, ok := number(f[0], 1, 2)
	if !ok {
		return time.Time{}, false
	}
	month := 0
	for i, m := range months {
		if strings.EqualFold(f[1], m) {
			month = i + 1
		}
	}
	year, ok := number(f[2], 4, 4)
	if month == 0 || !ok {
		return time.Time{}, false
	}
	clock := strings.Split(f[3], ":")
	if len(clock) < 2 || len(clock) > 3 {
		return time.Time{}, false
	}
	var hms [3]int
	for i, c := range clock {
		if hms[i], ok = number(c, 2, 2); !ok {
			return time.Time{}, false
		}
	}
	z := f[4]
	if len(z) != 5 || z[0] != '+' && z[0] != '-' {
		return time.Time{}, false
	}
	zh, ok1 := number(z[1:3], 2, 2)
	zm, ok2 := number(z[3:], 2, 2)
	if !ok1 || !ok2 || day > 31 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || zm > 59 {
		return time.Time{}, false
	}
	off := (zh*60 + zm) * 60
	if z[0] == '-' {
		off = -off
	}
	t := time.Date(year, time.Month(month), day, hms[0], hms[1], hms[2], 0, time.FixedZone("", off))
	if t.Day() != day { // 31 Feb
		return time.Time{}, false
	}
	return t, true
}

// number reads a decimal of minLen to maxLen digits.
func number(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
