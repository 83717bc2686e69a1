package scan

// SetAheadItems sets the read-ahead bound for a test and returns what
// restores it.
func SetAheadItems(n int) (restore func()) {
	old := aheadItems
	aheadItems = n
	return func() { aheadItems = old }
}
