package agent

import (
	"errors"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mailkeep/mailkeep/schema"
)

// Scheduled jobs.
const (
	jobSmartScan = "smartscan"
	jobPurge     = "purge"
)

// scheduler runs SmartScan and purge on their cron schedules, each in its
// own time zone. A run due while the previous one of the same job is
// still going is skipped, and the skip is logged and counted.
type scheduler struct {
	a       *Agent
	mu      sync.Mutex
	crons   map[string]*cron.Cron
	skipped map[string]int
}

func newScheduler(a *Agent) *scheduler {
	return &scheduler{a: a, crons: map[string]*cron.Cron{}, skipped: map[string]int{}}
}

// apply replaces the schedules with the ones of doc, at once.
func (s *scheduler) apply(doc *schema.Document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	c := doc.Config()
	s.startLocked(jobSmartScan, c.SmartScan, func() error { _, err := s.a.StartSmartScan(false); return err })
	s.startLocked(jobPurge, c.Purge.Job(), func() error { _, err := s.a.StartPurge(false); return err })
}

// startLocked schedules one job from the enabled, schedule and timezone
// settings of its block.
func (s *scheduler) startLocked(job string, jc schema.JobConfig, run func() error) {
	if !jc.Enabled {
		return
	}
	loc, err := location(jc.Timezone)
	if err != nil {
		s.a.log.Error("schedule not started", "job", job, "err", err)
		return
	}
	sched, err := schema.CronSchedule(jc.Schedule)
	if err != nil {
		s.a.log.Error("schedule not started", "job", job, "err", err)
		return
	}
	c := cron.New(cron.WithLocation(loc))
	c.Schedule(sched, cron.FuncJob(func() { s.fire(job, run) }))
	c.Start()
	s.crons[job] = c
}

// fire starts a scheduled run, or records that it was skipped.
func (s *scheduler) fire(job string, run func() error) {
	err := run()
	switch {
	case errors.Is(err, ErrBusy):
		s.mu.Lock()
		s.skipped[job]++
		s.mu.Unlock()
		s.a.log.Warn("scheduled run skipped: the previous one (or a conflicting operation) is still running", "job", job, "err", err)
	case err != nil:
		s.a.log.Error("scheduled run not started", "job", job, "err", err)
	}
}

// next returns the next scheduled run of a job, or the zero time.
func (s *scheduler) next(job string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crons[job]
	if c == nil {
		return time.Time{}
	}
	for _, e := range c.Entries() {
		return e.Next
	}
	return time.Time{}
}

// skips returns how many scheduled runs of a job were skipped.
func (s *scheduler) skips(job string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped[job]
}

func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *scheduler) stopLocked() {
	for job, c := range s.crons {
		<-c.Stop().Done()
		delete(s.crons, job)
	}
}

// location resolves a schedule's time zone; "" is the agent's local zone.
func location(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	return time.LoadLocation(name)
}
