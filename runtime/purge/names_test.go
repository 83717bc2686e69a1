package purge

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// The purge report gives the exact bytes of the account, folder and file
// names that are not UTF-8 beside their display form: JSON would replace
// the bytes, and the report is what an administrator reviews.
func TestReportNamesAsBytes(t *testing.T) {
	const account, folder = "caf\xe9@example.org", "Caf\xe9"
	now := t0.Add(100 * Day)
	h := newHist(t)
	h.begin()
	h.account(account, t0)
	h.folder(account, folder, t0, now)
	h.item(account, folder, "old\xff", "", t0, t0.Add(Day))
	h.item(account, "INBOX", "kept", "", t0, now)
	h.deleteAccount(account, now.Add(-Day))
	h.commit()
	res := h.purge(Options{Now: now, ItemRetentionDays: 30, AccountRetentionDays: 30})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	if len(back.RemovedItems) != 1 {
		t.Fatalf("removed items %+v; want the one expunged message", back.RemovedItems)
	}
	it := back.RemovedItems[0]
	if it.AccountB64 != b64(account) || it.FolderB64 != b64(folder) || it.NameB64 != b64("old\xff:2,") {
		t.Errorf("removed item %+v: want the exact bytes of %q, %q, %q", it, account, folder, "old\xff:2,")
	}
}
