package agent

import (
	"os"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/schema"
)

// Version is the agent's version, set by the binary.
var Version = "dev"

// Status returns the server listing.
func (a *Agent) Status() api.Status {
	host, _ := os.Hostname()
	s := api.Status{Version: Version, Hostname: host, Started: a.started.UTC(), OldRepositories: []api.RepoRecord{}, Inactive: []string{}, Running: []api.Operation{}}
	a.mu.RLock()
	doc, e, engErr, switching, stop := a.doc, a.engine, a.engineErr, a.switching, a.spaceStop
	s.Revision, s.ETag = a.st.Revision, a.st.ETag
	repos := append([]api.RepoRecord(nil), a.st.Repos...)
	a.mu.RUnlock()
	for _, op := range a.ops.list() {
		if op.State == api.StateRunning {
			s.Running = append(s.Running, op)
		}
	}
	if doc == nil {
		s.State = "unconfigured"
		return s
	}
	now := a.cfg.Now()
	c := doc.Config()
	s.Description = c.Description
	s.BackupAtStartup = c.EnabledAtStartup
	s.SmartScanAtStartup = c.SmartScanAtStartup
	s.Realtime = a.rt.status(c.RealtimeScanner)
	s.SmartScan = api.JobStatus{Enabled: c.SmartScan.Enabled, Schedule: c.SmartScan.Schedule,
		Timezone: c.SmartScan.Timezone, Active: true}
	if next := a.sched.next(jobSmartScan); !next.IsZero() {
		s.SmartScan.NextRun = &next
	}
	s.SmartScan.SkippedRuns = a.sched.skips(jobSmartScan)
	s.Purge = api.PurgeStatus{
		JobStatus:         api.JobStatus{Enabled: c.Purge.Enabled, Schedule: c.Purge.Schedule, Timezone: c.Purge.Timezone},
		ItemRetentionDays: c.Purge.ItemRetentionDays, AccountRetentionDays: c.Purge.AccountRetentionDays,
	}
	s.Purge.Active = true
	if next := a.sched.next(jobPurge); !next.IsZero() {
		s.Purge.NextRun = &next
	}
	s.Purge.SkippedRuns = a.sched.skips(jobPurge)
	s.HeaderIndex = a.hdr.status()
	s.Location = "local"
	if c.Remote.Enabled {
		s.Location = "remote"
	}
	s.BackupPath = c.BackupPath
	s.ReservedSpace.BackupMB = c.ReservedSpace.BackupMB
	s.ReservedSpace.MetadataMB = c.ReservedSpace.MetadataMB
	s.ReservedSpace.Stopped = stop
	if u, err := repo.DiskUsage(s.BackupPath); err == nil {
		s.Space.MetadataBytes, s.Space.BackupBytes = u.Metadata, u.Blobs
	}
	for _, r := range repos {
		if r.Path != s.BackupPath {
			s.OldRepositories = append(s.OldRepositories, r)
		}
	}
	for _, st := range schema.Settings() {
		if !st.Active {
			s.Inactive = append(s.Inactive, st.Path)
		}
	}
	var catErr error
	if e != nil {
		catErr = e.repo.CheckCatalog()
	}
	switch {
	case switching:
		s.State = "switching"
	case e == nil:
		s.State = "error"
		if engErr != nil {
			s.Error = engErr.Error()
		}
	case catErr != nil:
		s.State = "error"
		s.Error = catErr.Error()
	case len(s.Running) > 0:
		s.State = "running"
	default:
		s.State = "idle"
	}
	if e != nil {
		for _, j := range []*api.JobStatus{&s.SmartScan, &s.Purge.JobStatus} {
			kind := jobSmartScan
			if j == &s.Purge.JobStatus {
				kind = jobPurge
			}
			if last, ok, err := e.repo.Catalog.LastScan(kind); err == nil {
				j.LastRun = runRecord(last)
				if ok != nil && ok.Finished != 0 {
					age := int64(now.Sub(time.Unix(0, ok.Finished)).Seconds())
					j.LastSuccessAgeSeconds = &age
				}
			}
		}
	}
	return s
}

// runRecord converts a catalog scan record.
func runRecord(sc *catalog.Scan) *api.RunRecord {
	if sc == nil {
		return nil
	}
	r := &api.RunRecord{Started: time.Unix(0, sc.Started).UTC(), Outcome: sc.Outcome, Detail: sc.Detail}
	if sc.Finished != 0 {
		f := time.Unix(0, sc.Finished).UTC()
		r.Finished = &f
	}
	return r
}
