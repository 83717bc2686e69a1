package impact

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser reads schedules as schema.CronSchedule does: the standard
// five fields and descriptors such as @daily or @every 6h. The documents
// the rules read are validated already, so the parse cannot refuse what
// the schema accepted (TestNextRunAsTheSchema).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

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
	sched, err := cronParser.Parse(strings.TrimSpace(spec))
	if err != nil {
		return time.Time{}
	}
	return sched.Next(t.In(loc))
}
