package agent_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// backedUp configures an agent on the generated store and runs one
// SmartScan.
func backedUp(t *testing.T) *testAgent {
	t.Helper()
	ta := startAgent(t)
	if _, err := ta.c.PutConfig(context.Background(), ta.document(t, "backup", nil), "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	op, err := ta.c.Start(context.Background(), api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	if done := waitOp(t, ta.c, op.ID); done.State != api.StateSucceeded {
		t.Fatalf("SmartScan: %+v", done)
	}
	return ta
}

func TestSearchRoute(t *testing.T) {
	ta := backedUp(t)
	ctx := context.Background()
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("accounts: %+v, %v", list, err)
	}
	acct := list[0]
	all, err := ta.c.Search(ctx, api.SearchRequest{Account: acct.Name})
	if err != nil {
		t.Fatal(err)
	}
	if int64(all.Count) != acct.Items || len(all.Messages) != all.Count || all.Unindexed != 0 || all.Account != acct.Name {
		t.Fatalf("whole account: count %d of %d items, unindexed %d", all.Count, acct.Items, all.Unindexed)
	}
	for i, m := range all.Messages {
		if !m.Indexed || m.From == "" || m.MessageID == "" || m.Size == 0 || m.ID == 0 || m.Folder == "" || m.Deleted {
			t.Fatalf("message %d: %+v", i, m)
		}
		if i > 0 && m.Received.Before(all.Messages[i-1].Received) {
			t.Fatalf("messages not in received order at %d", i)
		}
	}
	// By Message-ID, sender and subject: the same message.
	want := all.Messages[len(all.Messages)/2]
	got, err := ta.c.Search(ctx, api.SearchRequest{Account: acct.Name, MessageID: "<" + want.MessageID + ">"})
	if err != nil || got.Count != 1 || got.Messages[0].ID != want.ID {
		t.Fatalf("by message-id %s: %+v, %v", want.MessageID, got, err)
	}
	got, err = ta.c.Search(ctx, api.SearchRequest{Account: acct.Name, Sender: strings.ToUpper(want.From), Subject: want.Subject,
		Folder: want.Folder, Since: want.Received.Format(time.RFC3339Nano), Before: want.Received.Add(time.Second).Format(time.RFC3339Nano)})
	if err != nil || got.Count == 0 || got.Messages[0].ID != want.ID {
		t.Fatalf("by sender, subject, folder and dates: %+v, %v", got, err)
	}
	// A day as IMAP SINCE/BEFORE: the message's own day in the agent's
	// zone contains it.
	day := want.Received.Local().Format(time.DateOnly)
	next := want.Received.Local().AddDate(0, 0, 1).Format(time.DateOnly)
	got, err = ta.c.Search(ctx, api.SearchRequest{Account: acct.Name, MessageID: want.MessageID, Since: day, Before: next})
	if err != nil || got.Count != 1 {
		t.Errorf("since %s before %s: %+v, %v", day, next, got, err)
	}
	got, err = ta.c.Search(ctx, api.SearchRequest{Account: acct.Name, MessageID: want.MessageID, Before: day})
	if err != nil || got.Count != 0 {
		t.Errorf("before its own day %s: %+v, %v", day, got, err)
	}
	// The account as b64:, -at last (present now), -deleted (nothing).
	b64 := "b64:" + base64.StdEncoding.EncodeToString([]byte(acct.Name))
	if got, err = ta.c.Search(ctx, api.SearchRequest{Account: b64, At: "last", Limit: 3}); err != nil || got.Count != 3 || !got.Truncated || got.At == nil {
		t.Errorf("b64 account, at last, limit 3: %+v, %v", got, err)
	}
	if got, err = ta.c.Search(ctx, api.SearchRequest{Account: acct.Name, Deleted: true}); err != nil || got.Count != 0 {
		t.Errorf("deleted: %+v, %v", got, err)
	}
	if st, err := ta.c.Status(ctx); err != nil || st.HeaderIndex.State != "done" || st.HeaderIndex.Total != 0 {
		t.Errorf("header_index status of a new repository: %+v, %v", st.HeaderIndex, err)
	}
}

func TestSearchBadInput(t *testing.T) {
	ta := backedUp(t)
	ctx := context.Background()
	list, _ := ta.c.Accounts(ctx, "")
	name := list[0].Name
	for _, tc := range []struct {
		req    api.SearchRequest
		status int
		msg    string
	}{
		{api.SearchRequest{Account: "nobody@example.org"}, http.StatusNotFound, "nobody@example.org"},
		{api.SearchRequest{Account: name, Since: "last tuesday"}, http.StatusBadRequest, "-since"},
		{api.SearchRequest{Account: name, Before: "2026-13-45"}, http.StatusBadRequest, "-before"},
		{api.SearchRequest{Account: name, Since: "2026-12-01", Before: "2026-11-01"}, http.StatusBadRequest, "not after -since"},
		{api.SearchRequest{Account: name, At: "2200-01-01"}, http.StatusBadRequest, "in the future"},
		{api.SearchRequest{Account: name, At: "2999-01-01"}, http.StatusBadRequest, "cannot be represented"},
		{api.SearchRequest{Account: name, At: "2001-01-01"}, http.StatusBadRequest, "before the backup history"},
		{api.SearchRequest{Account: "b64:!!"}, http.StatusBadRequest, "not valid base64"},
		{api.SearchRequest{Account: name, Limit: -1}, http.StatusBadRequest, "limit"},
	} {
		_, err := ta.c.Search(ctx, tc.req)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%+v: %v, want %d naming %q", tc.req, err, tc.status, tc.msg)
		}
	}
}

// A search only reads: it answers while a writer holds the repository's
// writer lock (a SmartScan, realtime batch or purge in progress).
func TestSearchWhileWriterHoldsTheLock(t *testing.T) {
	ta := backedUp(t)
	ctx := context.Background()
	list, _ := ta.c.Accounts(ctx, "")
	r := ta.a.RepoForTest()
	r.WriteMu.Lock()
	defer r.WriteMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := ta.c.Search(ctx, api.SearchRequest{Account: list[0].Name})
	if err != nil || int64(got.Count) != list[0].Items {
		t.Fatalf("search under the writer lock: %+v, %v", got, err)
	}
}

// An agent started on a repository whose blobs have no header rows (made
// by an older mailkeep) indexes them in the background, shows progress in
// status, and searches find them afterwards.
func TestHeaderIndexOnOldRepository(t *testing.T) {
	ta := backedUp(t)
	ctx := context.Background()
	list, _ := ta.c.Accounts(ctx, "")
	ta.srv.Close()
	if err := ta.a.Close(); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(filepath.Join(ta.dir, "backup", repo.CatalogFile), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var blobs int64
	cat.DB().QueryRow(`SELECT count(*) FROM blobs`).Scan(&blobs)
	if _, err := cat.DB().Exec(`DELETE FROM blob_headers`); err != nil {
		t.Fatal(err)
	}
	cat.Close()

	tb := restartAgent(t, ta)
	var st *api.Status
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err = tb.c.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if st.HeaderIndex.State != "running" || time.Now().After(deadline) {
			break
		}
	}
	if h := st.HeaderIndex; h.State != "done" || h.Total != blobs || h.Done != blobs {
		t.Fatalf("header_index %+v, want done with %d blobs", h, blobs)
	}
	got, err := tb.c.Search(ctx, api.SearchRequest{Account: list[0].Name, Sender: "@"})
	if err != nil || int64(got.Count) != list[0].Items || got.Unindexed != 0 {
		t.Errorf("search after the indexing: %d of %d, unindexed %d, %v", got.Count, list[0].Items, got.Unindexed, err)
	}
}

// restartAgent starts a new agent on the state directory of a closed one.
func restartAgent(t *testing.T, ta *testAgent) *testAgent {
	t.Helper()
	a, err := agent.New(agent.Config{StateDir: filepath.Join(ta.dir, "state"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(token))
	t.Cleanup(func() { srv.Close(); a.Close() })
	c, err := client.New(client.Target{URL: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return &testAgent{a: a, srv: srv, c: c, dir: ta.dir, generated: true}
}
