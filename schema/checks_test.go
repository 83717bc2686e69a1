package schema

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestParseCronAccepts(t *testing.T) {
	for _, spec := range []string{
		"0 4 * * *", "0 4 * * 6", " 30 2 * * 0 ", "*/15 * * * *", "0 4 * * mon-fri", "0 4 1,15 * *",
		"0 0 29 2 *", // leap days exist
		"@daily", "@weekly", "@monthly", "@yearly", "@hourly", "@every 6h", "@every 1m",
	} {
		if err := ParseCron(spec); err != nil {
			t.Errorf("ParseCron(%q): %v", spec, err)
		}
	}
}

func TestParseCronRefuses(t *testing.T) {
	for _, c := range []struct{ spec, err string }{
		{"", "the schedule is empty"},
		{"0 4 * * * *", "has 6 fields; a schedule has 5"},
		{"60 4 * * *", `the minute field "60"`},
		{"0 4 0 * *", `the day-of-month field "0"`},
		{"0 4 * 13 *", `the month field "13"`},
		{"0 4 * * 7", `the day-of-week field "7"`},
		{"CRON_TZ=UTC 0 4 * * *", "use the timezone attribute instead"},
		{"@every 0s", "at least 1m"},
		{"@every -1h", "at least 1m"},
		{"@every 59s", "at least 1m"},
		{", * * * *", "never runs"},
		{"0 4 31 2 *", "never runs"},
	} {
		err := ParseCron(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseCron(%q) = %v, want an error containing %q", c.spec, err, c.err)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	for _, a := range []string{
		"https://mx1.example.com:7443", "http://mx1:80", "https://mx1.example.com", "https://[::1]:7443",
		"HTTPS://MX1.example.com:7443/", "unix:///run/mailkeep/agent.sock", DefaultAgentAddress,
	} {
		if err := CheckAddress(a); err != nil {
			t.Errorf("CheckAddress(%q): %v", a, err)
		}
	}
	for _, c := range []struct{ addr, err string }{
		{"mx1.example.com", "has no scheme"},
		{"mx1.example.com:7443", "has no scheme"},
		{"10.0.0.1:7443", "has no scheme"},
		{"ftp://mx1:21", `has scheme "ftp"`},
		{"unix://run/agent.sock", "is not unix:///absolute/path"},
		{"unix:///run/agent.sock?x=1", "is not unix:///absolute/path"},
		{"https://", "has no host"},
		{"https://mx1:0", `invalid port "0"`},
		{"https://mx1:70000", `invalid port "70000"`},
		{"https://mx1:", "empty port"},
		{"https://mx1:7443/api", "has a path, query or fragment"},
		{"https://mx1:7443?x=1", "has a path, query or fragment"},
		{"https://token@mx1:7443", "carries credentials"},
	} {
		err := CheckAddress(c.addr)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("CheckAddress(%q) = %v, want an error containing %q", c.addr, err, c.err)
		}
	}
}

func TestCheckUserName(t *testing.T) {
	for _, ok := range []string{"root", "vmail", "dovecot", "_mailkeep", "mail-admin", "a.b", "65534", "0", "machine$", strings.Repeat("u", 32)} {
		if d := checkUserName(cty.StringVal(ok)); d != nil {
			t.Errorf("checkUserName(%q): %s: %s", ok, d.Summary, d.Detail)
		}
	}
	for _, c := range []struct{ name, summary string }{
		{"", "Empty user name"},
		{"-root", "Malformed user name"},
		{".hidden", "Malformed user name"},
		{"vmail mail", "Malformed user name"},
		{"root:root", "Malformed user name"},
		{"../etc", "Malformed user name"},
		{"caf\xe9", "Malformed user name"},
		{"a$b", "Malformed user name"},
		{strings.Repeat("u", 33), "Malformed user name"},
	} {
		if d := checkUserName(cty.StringVal(c.name)); d == nil || d.Summary != c.summary {
			t.Errorf("checkUserName(%q) = %v, want %q", c.name, d, c.summary)
		}
	}
}
