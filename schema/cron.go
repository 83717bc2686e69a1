package schema

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields and descriptors such as
// @daily or @every 6h.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var cronFields = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// neverRef is the instant from which schedules are checked to run at all;
// fixed, so that validation does not depend on the clock.
var neverRef = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseCron parses a schedule as the agent will, and returns an error that
// names the offending field when the expression is invalid.
func ParseCron(spec string) error {
	_, err := CronSchedule(spec)
	return err
}

// CronSchedule parses a schedule: five fields (minute hour day-of-month
// month day-of-week) or a descriptor (@yearly, @monthly, @weekly, @daily,
// @hourly, @every DURATION). Time zones are set with the schedule's
// timezone attribute, not inside the expression.
func CronSchedule(spec string) (cron.Schedule, error) {
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return nil, fmt.Errorf("the schedule is empty; use five fields such as %q or a descriptor such as \"@daily\"", DefaultSmartScanSchedule)
	}
	if strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ=") {
		return nil, fmt.Errorf("%q sets a time zone inside the expression; use the timezone attribute instead", spec)
	}
	if strings.HasPrefix(trimmed, "@") {
		s, err := cronParser.Parse(trimmed)
		if err != nil {
			return nil, fmt.Errorf("%q is not a known descriptor (use @yearly, @monthly, @weekly, @daily, @hourly or @every DURATION): %v", trimmed, err)
		}
		// The parser turns any duration under a second, zero and negative
		// ones included, into "every second".
		if d, ok := s.(cron.ConstantDelaySchedule); ok && d.Delay < time.Minute {
			return nil, fmt.Errorf("%q runs more often than once a minute; @every needs a duration of at least 1m", trimmed)
		}
		return s, nil
	}
	fields := strings.Fields(trimmed)
	if len(fields) != len(cronFields) {
		return nil, fmt.Errorf("%q has %d fields; a schedule has 5: %s", spec, len(fields), strings.Join(cronFields, " "))
	}
	s, err := cronParser.Parse(trimmed)
	if err == nil {
		// "0 4 30 2 *" parses, but February has no 30th: a purge on it
		// would never run. The parser gives up after five years.
		if s.Next(neverRef).IsZero() {
			return nil, fmt.Errorf("%q never runs: no date matches it", spec)
		}
		return s, nil
	}
	// Find the field at fault by parsing each one alone with the others
	// wildcarded.
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, ferr := cronParser.Parse(strings.Join(probe, " ")); ferr != nil {
			return nil, fmt.Errorf("the %s field %q is invalid: %v", cronFields[i], f, ferr)
		}
	}
	return nil, fmt.Errorf("%q is invalid: %v", spec, err)
}
