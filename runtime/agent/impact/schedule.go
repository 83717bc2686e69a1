package impact

import (
	"time"

	"github.com/mailkeep/mailkeep/schema"
)

// nextRun computes the next run of a cron schedule after t in the time
// zone tz ("" is the local zone), as the agent's scheduler runs it, for a
// candidate config that is not scheduled; the zero time when the
// schedule or the zone is not valid.
func nextRun(spec, tz string, t time.Time) time.Time {
	loc := time.Local
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}
		}
		loc = l
	}
	sched, err := schema.CronSchedule(spec)
	if err != nil {
		return time.Time{}
	}
	return sched.Next(t.In(loc))
}
