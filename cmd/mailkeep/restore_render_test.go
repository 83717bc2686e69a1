package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// TestRenderRestoreNamesFailedMessages: the summary of a restore that
// could not write every message counts only what it wrote and names each
// message it did not, with its folder, date, sender and subject.
func TestRenderRestoreNamesFailedMessages(t *testing.T) {
	date := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	res := api.RestoreResult{Account: "ann@example.com", To: "ann@example.com", Mode: "full", Messages: 78, Failed: 2, Bytes: 1 << 20,
		Folders: []api.FolderResult{{Name: "INBOX", Messages: 40, Failed: 1}, {Name: "Archive", Messages: 38, Failed: 1}},
		FailedItems: []api.FailedMessage{
			{Folder: "INBOX", Name: "1.M1.h:2,S", Received: date, Date: &date, From: "Bob <bob@example.org>", Subject: "Quarterly figures", Error: "blob 12: corrupt record"},
			{Folder: "Archive", Name: "2.M2.h:2,S", Received: date, Error: "writing: no space left on device"},
		}}
	var out bytes.Buffer
	renderRestore(&out, &api.Operation{State: api.StateFailed, Result: res})
	got := out.String()
	for _, want := range []string{
		"78 messages", "2 could not be written",
		"NOT WRITTEN INBOX  " + date.Local().Format(time.DateTime) + "  from Bob <bob@example.org>  \"Quarterly figures\": blob 12: corrupt record",
		"NOT WRITTEN Archive", "2.M2.h:2,S", "no space left on device",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
