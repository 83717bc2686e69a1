package storetest_test

import (
	"testing"

	"github.com/mailkeep/mailkeep/runtime/store/storetest"
)

// TestMemoryDriver runs the suite against a driver that keeps no files: a
// map in memory. It shows that the contract does not depend on Maildir.
func TestMemoryDriver(t *testing.T) {
	storetest.TestStore(t, func(t *testing.T) storetest.Harness { return storetest.NewMemory() })
}
