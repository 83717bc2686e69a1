package selection

import (
	"fmt"
	"path"
)

// Selected reports whether an account is backed up under accounts
// { include, exclude }: it matches one of include (an empty include
// matches every account) and none of exclude. A malformed pattern matches
// nothing; Check reports it.
func Selected(name string, include, exclude []string) bool {
	if len(include) > 0 && !Match(include, name) {
		return false
	}
	return !Match(exclude, name)
}

// Held reports whether an account is under legal hold: it matches one of
// the legal_hold patterns.
func Held(name string, legalHold []string) bool { return Match(legalHold, name) }

// Match reports whether name matches one of patterns.
func Match(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Check returns an error naming the first malformed pattern; what says
// which list it is in ("accounts.include", "legal hold"...).
func Check(what string, patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, "user@example.com"); err != nil {
			return fmt.Errorf("%s pattern %q: %v", what, p, err)
		}
	}
	return nil
}
