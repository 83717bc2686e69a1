package realtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// The realtime scanner records the search headers of what it backs up.
func TestRealtimeRecordsHeaders(t *testing.T) {
	g := newRig(t, 1, 20)
	g.eventually("the first pass", func() bool { return g.items() == 20 })
	a := g.firstAccount()
	msg := "From: Realtime Tester <rt@example.net>\nSubject: delivered while watched\nMessage-ID: <rt.1@example.net>\n\nhello\n"
	if err := os.WriteFile(filepath.Join(a.Root, "new", "1800000000.M1P1.rt"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	var found []catalog.Found
	g.eventually("the delivery searchable", func() bool {
		res, err := g.repo.Catalog.Search(a.Name, catalog.SearchQuery{MessageID: "rt.1@example.net"})
		if err != nil {
			return false
		}
		found = res.Messages
		return len(found) == 1
	})
	if h := found[0].Headers; h == nil || h.From != "Realtime Tester <rt@example.net>" || h.Subject != "delivered while watched" {
		t.Errorf("headers %+v", h)
	}
	if n, err := g.repo.Catalog.CountUnindexed(); n != 0 || err != nil {
		t.Errorf("%d blobs without headers (%v)", n, err)
	}
}
