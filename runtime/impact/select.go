package impact

import "path"

// selectedBy reports whether an account matches include (empty: all) and
// none of exclude, as SmartScan selects accounts (scan.Selected).
//
// It is a copy of scan.Selected, which this package cannot import without
// linking SQLite into the planner; it goes once account selection has its
// own package (issue 12, item 6).
func selectedBy(name string, include, exclude []string) bool {
	if len(include) > 0 && !matchAny(include, name) {
		return false
	}
	return !matchAny(exclude, name)
}

// matchAny reports whether name matches one of the shell globs patterns.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
