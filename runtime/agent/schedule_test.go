package agent

import (
	"errors"
	"io"
	"log/slog"
	"testing"
)

// TestOverlappingRunIsSkipped: a scheduled run due while the previous one
// still runs is skipped and counted, not queued.
func TestOverlappingRunIsSkipped(t *testing.T) {
	a := &Agent{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s := newScheduler(a)
	busy := func() error { return errors.New("smartscan 1234: " + ErrBusy.Error()) }
	s.fire(jobSmartScan, func() error { return nil })
	s.fire(jobSmartScan, func() error { return wrapBusy() })
	s.fire(jobSmartScan, func() error { return wrapBusy() })
	s.fire(jobPurge, busy) // not ErrBusy itself: an error, not a skip
	if got := s.skips(jobSmartScan); got != 2 {
		t.Errorf("skipped SmartScans: %d, want 2", got)
	}
	if got := s.skips(jobPurge); got != 0 {
		t.Errorf("skipped purges: %d, want 0", got)
	}
}

func wrapBusy() error { return errors.Join(errors.New("smartscan 1234"), ErrBusy) }
