package api

import (
	"maps"
	"testing"
)

// TestStatusSettings: the fields of the status that show a setting, as
// the setting tags say, are the ones status -json redacts (this list was
// the command line's own table before it was derived from the tags).
func TestStatusSettings(t *testing.T) {
	want := map[string]string{
		"description":                  "description",
		"backup_at_startup":            "enabled_at_startup",
		"smartscan_at_startup":         "smartscan_at_startup",
		"realtime.enabled":             "realtime_scanner",
		"smartscan.enabled":            "smartscan.enabled",
		"smartscan.schedule":           "smartscan.schedule",
		"smartscan.timezone":           "smartscan.timezone",
		"purge.enabled":                "purge.enabled",
		"purge.schedule":               "purge.schedule",
		"purge.timezone":               "purge.timezone",
		"purge.item_retention_days":    "purge.item_retention_days",
		"purge.account_retention_days": "purge.account_retention_days",
		"location":                     "remote.enabled",
		"backup_path":                  "backup_path",
		"reserved_space.backup_mb":     "reserved_space.backup_mb",
		"reserved_space.metadata_mb":   "reserved_space.metadata_mb",
	}
	if got := StatusSettings(); !maps.Equal(got, want) {
		t.Errorf("StatusSettings() =\n%v\nwant\n%v", got, want)
	}
}
