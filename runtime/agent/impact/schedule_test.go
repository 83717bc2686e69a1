package impact

import (
	"testing"
	"time"
)

// TestNextRunAcrossDST: schedules run in their own time zone, and a daily
// schedule keeps its local hour across a daylight-saving change.
func TestNextRunAcrossDST(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	// Europe/Paris leaves summer time on 2026-10-25 at 03:00 local.
	before := time.Date(2026, 10, 23, 12, 0, 0, 0, paris)
	first := nextRun("0 4 * * *", "Europe/Paris", before)
	second := nextRun("0 4 * * *", "Europe/Paris", first)
	if first.In(paris).Hour() != 4 || second.In(paris).Hour() != 4 {
		t.Fatalf("local hour not kept: %s, %s", first.In(paris), second.In(paris))
	}
	if got := second.Sub(first); got != 25*time.Hour {
		t.Errorf("the night of the change lasts %s between two 04:00 runs, want 25h", got)
	}
	// A 02:30 run on the spring-forward day (no 02:30 exists) runs once.
	spring := time.Date(2026, 3, 28, 12, 0, 0, 0, paris)
	n1 := nextRun("30 2 * * *", "Europe/Paris", spring)
	n2 := nextRun("30 2 * * *", "Europe/Paris", n1)
	if !n2.After(n1) || n2.Sub(n1) < 20*time.Hour {
		t.Errorf("spring-forward runs: %s then %s", n1, n2)
	}
	// The same expression in two zones runs at different instants.
	ny := nextRun("0 4 * * *", "America/New_York", before)
	if ny.Equal(first) || ny.In(mustZone(t, "America/New_York")).Hour() != 4 {
		t.Errorf("New York 04:00 = %s, Paris 04:00 = %s", ny, first)
	}
	if !nextRun("0 4 * * *", "Mars/Olympus", before).IsZero() {
		t.Error("an unknown zone gave a next run")
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
