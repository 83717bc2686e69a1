package apitest

import (
	"testing"
	"time"
)

// TestFake: the fake passes the conformance cases the agent passes
// (runtime/agent's TestConformance).
func TestFake(t *testing.T) {
	Run(t, func(t *testing.T) (Target, string) {
		return &Fake{Now: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)}, t.TempDir()
	})
}
