package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailkeep/mailkeep/internal/units"
	"github.com/mailkeep/mailkeep/reconcile"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// statusVersion is the version of status -json's format.
const statusVersion = "1.0"

// statusTimeout bounds the wait for one agent's status.
const statusTimeout = 15 * time.Second

// serverStatus is one server of the listing.
type serverStatus struct {
	name   string
	target reconcile.Target
	sens   *reconcile.Sensitivity
	st     *api.Status
	err    string
}

func runStatus(c *cli, args []string) int {
	fs := c.newFlags("status", "[PATH] [-json] [-target GLOB] [-exclude GLOB] [-parallelism N] [-var NAME=VALUE] [-var-file FILE]",
		"Shows the server listing of every server in the policy, side by side: whether\nits agent answers, the live revision, backup at startup, the realtime scanner,\nthe SmartScan schedule and last run, the purge schedule and retention, local or\nremote, the space used by metadata and by the backup, and the description.\nExit code 1 when a server is unreachable.")
	asJSON := fs.Bool("json", false, "print every server's full status as JSON")
	var targets, excludes []string
	fs.Func("target", "list only the servers whose name matches GLOB (repeatable)", func(s string) error {
		targets = append(targets, s)
		return nil
	})
	fs.Func("exclude", "leave out the servers whose name matches GLOB (repeatable)", func(s string) error {
		excludes = append(excludes, s)
		return nil
	})
	parallelism := fs.Int("parallelism", reconcile.DefaultParallelism, "ask at most N agents at once")
	noColor := fs.Bool("no-color", false, "disable colour")
	var vars varFlags
	vars.register(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	path, ok := c.policyArg("status", pos)
	if !ok {
		return exitError
	}
	p := c.loadPolicy(path, vars.args, c.errColor(*noColor))
	if p == nil {
		return exitError
	}
	servers, err := reconcile.Select(p.Servers, targets, excludes)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep status: %v\n", err)
		return exitError
	}
	secrets := reconcile.PolicySecrets(p)
	out := make([]serverStatus, len(servers))
	d := newDialer(c)
	defer d.close()
	reconcile.Parallel(len(servers), *parallelism, func(i int) {
		s := servers[i]
		ss := serverStatus{name: s.Name, target: reconcile.TargetOf(s), sens: reconcile.NewSensitivity(s, secrets)}
		if cl, err := d.client(s.Name, ss.target); err != nil {
			ss.err = err.Error()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
			ss.st, err = cl.Status(ctx)
			cancel()
			if err != nil {
				ss.err = err.Error()
			}
		}
		ss.err = ss.sens.Scrub(ss.err)
		out[i] = ss
	})
	if *asJSON {
		if code := c.printJSON("status", statusJSON(out)); code != exitOK {
			return code
		}
	} else {
		writeStatusTable(c.stdout, out, time.Now())
	}
	unreachable := 0
	for _, s := range out {
		if s.st == nil {
			unreachable++
		}
	}
	if unreachable > 0 {
		if *asJSON {
			fmt.Fprintf(c.stderr, "mailkeep status: %s unreachable\n", plural(unreachable, "server"))
		}
		return exitError
	}
	return exitOK
}

// writeStatusTable writes the listing as a table, then the reasons of the
// servers that did not answer.
func writeStatusTable(w io.Writer, servers []serverStatus, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tREACHABLE\tREV\tSTATE\tAT STARTUP\tREALTIME\tSMARTSCAN\tLAST SCAN\tPURGE\tRETENTION\tLOCATION\tMETADATA\tBACKUP\tDESCRIPTION")
	var failed []serverStatus
	for _, s := range servers {
		if s.st == nil {
			fmt.Fprintf(tw, "%s\tno\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n", s.name)
			failed = append(failed, s)
			continue
		}
		st := s.st
		if st.State == "unconfigured" {
			fmt.Fprintf(tw, "%s\tyes\t%d\tunconfigured\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n", s.name, st.Revision)
			continue
		}
		cell := func(setting, text string) string {
			if s.sens.Paths[setting] {
				return reconcile.Redacted
			}
			return s.sens.Scrub(text)
		}
		state := st.State
		if st.ReservedSpace.Stopped != "" {
			state += " (space)"
		}
		realtime := onOff(st.Realtime.Enabled)
		if st.Realtime.Enabled && st.Realtime.State != "" {
			realtime += " (" + st.Realtime.State + ")"
		}
		fmt.Fprintf(tw, "%s\tyes\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.name, st.Revision, state,
			cell("enabled_at_startup", onOff(st.BackupAtStartup)),
			cell("realtime_scanner", realtime),
			cell("smartscan.schedule", schedule(st.SmartScan)),
			lastScan(st.SmartScan, now),
			cell("purge.schedule", schedule(st.Purge.JobStatus)),
			cell("purge.item_retention_days", fmt.Sprintf("items %s, accounts %s", days(st.Purge.ItemRetentionDays), days(st.Purge.AccountRetentionDays))),
			cell("remote.enabled", st.Location),
			units.Bytes(st.Space.MetadataBytes), units.Bytes(st.Space.BackupBytes),
			cell("description", oneLine(st.Description)))
	}
	tw.Flush()
	for _, s := range failed {
		fmt.Fprintf(w, "\n%s (%s) is unreachable: %s", s.name, s.target.Shown("address"), s.err)
	}
	if len(failed) > 0 {
		fmt.Fprintln(w)
	}
	for _, s := range servers {
		if s.st != nil && s.st.Error != "" {
			fmt.Fprintf(w, "\n%s: the backup module is not running: %s\n", s.name, s.sens.Scrub(s.st.Error))
		}
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func days(n int64) string {
	if n == 0 {
		return "forever"
	}
	return fmt.Sprintf("%dd", n)
}

// schedule renders a job's schedule: "off", or the cron expression and
// its time zone.
func schedule(j api.JobStatus) string {
	if !j.Enabled {
		return "off"
	}
	s := j.Schedule
	if j.Timezone != "" {
		s += " " + j.Timezone
	}
	if !j.Active {
		s += " (not active)"
	}
	return s
}

// lastScan renders a job's last run: its outcome and age.
func lastScan(j api.JobStatus, now time.Time) string {
	if j.LastRun == nil {
		return "never"
	}
	end := j.LastRun.Started
	if j.LastRun.Finished != nil {
		end = *j.LastRun.Finished
	}
	return fmt.Sprintf("%s, %s ago", j.LastRun.Outcome, age(now.Sub(end)))
}

// age renders a duration roughly: 45s, 12m, 5h, 3d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// statusFields maps the fields of the agent's status that show a setting
// to that setting, for redaction; the status type's setting tags say
// which they are.
var statusFields = api.StatusSettings()

// statusJSON builds status -json's output with sensitive values redacted.
func statusJSON(servers []serverStatus) any {
	type entry struct {
		Name      string `json:"name"`
		Address   string `json:"address"`
		Reachable bool   `json:"reachable"`
		Error     string `json:"error,omitempty"`
		Status    any    `json:"status"`
	}
	out := struct {
		FormatVersion string  `json:"format_version"`
		Servers       []entry `json:"servers"`
	}{FormatVersion: statusVersion, Servers: []entry{}}
	for _, s := range servers {
		e := entry{Name: s.name, Address: s.target.Shown("address"), Reachable: s.st != nil, Error: s.err}
		if s.st != nil {
			e.Status = redactStatus(s.st, s.sens)
		}
		out.Servers = append(out.Servers, e)
	}
	return out
}

// redactStatus returns an agent status as JSON values, with the fields
// that show sensitive settings redacted and sensitive values scrubbed from
// every string.
func redactStatus(st *api.Status, sens *reconcile.Sensitivity) any {
	b, _ := json.Marshal(st)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for field, setting := range statusFields {
		if !sens.Paths[setting] {
			continue
		}
		if _, ok := schema.LookupSetting(setting); !ok {
			continue
		}
		parent, key := m, field
		for parent != nil {
			i := strings.IndexByte(key, '.')
			if i < 0 {
				break
			}
			parent, _ = parent[key[:i]].(map[string]any)
			key = key[i+1:]
		}
		if parent != nil {
			if _, ok := parent[key]; ok {
				parent[key] = reconcile.Redacted
			}
		}
	}
	return scrubJSON(m, sens)
}

// scrubJSON replaces sensitive values in every string of a JSON value.
func scrubJSON(v any, sens *reconcile.Sensitivity) any {
	switch t := v.(type) {
	case string:
		return sens.Scrub(t)
	case []any:
		for i := range t {
			t[i] = scrubJSON(t[i], sens)
		}
	case map[string]any:
		for k := range t {
			t[k] = scrubJSON(t[k], sens)
		}
	}
	return v
}
