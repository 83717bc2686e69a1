package agent

import (
	"errors"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mailkeep/mailkeep/schema"
)

// scheduler runs SmartScan on its cron schedule. A run due while one is
// still going is skipped and the skip is logged.
type scheduler struct {
	a  *Agent
	mu sync.Mutex
	c  *cron.Cron
	// spec is the schedule in force, for status.
	spec    string
	tz      string
	skipped int
}

func newScheduler(a *Agent) *scheduler { return &scheduler{a: a} }

// apply replaces the schedules with the ones of doc, at once.
func (s *scheduler) apply(doc *schema.Document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		s.c.Stop()
		s.c = nil
	}
	s.spec, s.tz = "", ""
	if !doc.Bool("smartscan.enabled") {
		return
	}
	loc, err := location(doc.String("smartscan.timezone"))
	if err != nil {
		s.a.log.Error("SmartScan schedule not started", "err", err)
		return
	}
	sched, err := schema.CronSchedule(doc.String("smartscan.schedule"))
	if err != nil {
		s.a.log.Error("SmartScan schedule not started", "err", err)
		return
	}
	c := cron.New(cron.WithLocation(loc))
	c.Schedule(sched, cron.FuncJob(s.runSmartScan))
	c.Start()
	s.c, s.spec, s.tz = c, doc.String("smartscan.schedule"), doc.String("smartscan.timezone")
}

func (s *scheduler) runSmartScan() {
	if _, err := s.a.StartSmartScan(false); err != nil {
		if errors.Is(err, ErrBusy) {
			s.mu.Lock()
			s.skipped++
			s.mu.Unlock()
			s.a.log.Warn("scheduled SmartScan skipped: the previous one is still running")
			return
		}
		s.a.log.Error("scheduled SmartScan not started", "err", err)
	}
}

// next returns the next scheduled SmartScan, or the zero time.
func (s *scheduler) next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return time.Time{}
	}
	for _, e := range s.c.Entries() {
		return e.Next
	}
	return time.Time{}
}

func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		<-s.c.Stop().Done()
		s.c = nil
	}
}

// location resolves a schedule's time zone; "" is the agent's local zone.
func location(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	return time.LoadLocation(name)
}

// nextRun computes the next run of a cron schedule after t, for settings
// that are shown but not yet run by this version (purge).
func nextRun(spec, tz string, t time.Time) time.Time {
	loc, err := location(tz)
	if err != nil {
		return time.Time{}
	}
	sched, err := schema.CronSchedule(spec)
	if err != nil {
		return time.Time{}
	}
	return sched.Next(t.In(loc))
}
