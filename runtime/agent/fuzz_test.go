package agent_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// FuzzAPI sends arbitrary bodies, account names and query strings to the
// API of a configured agent holding a small backup: every answer has a
// status below 500 (bad input is the client's error), every JSON answer
// is well formed, and nothing panics. Restores are made dry runs, so that the fuzzer
// never writes into the mail store.
func FuzzAPI(f *testing.F) {
	dir := f.TempDir()
	root := filepath.Join(dir, "vmail")
	st, err := corpus.Generate(root, corpus.Options{Seed: 3, Accounts: 2, Messages: 40, MaxSize: 32 << 10})
	if err != nil {
		f.Fatal(err)
	}
	a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, "state"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	h := a.Handler(token)
	doc, _ := json.Marshal(map[string]any{"format_version": 1, "mail_store": "maildir:" + root + "/%d/%n/Maildir",
		"backup_path": filepath.Join(dir, "backup"), "realtime_scanner": false,
		"reserved_space": map[string]any{"backup_mb": 0, "metadata_mb": 0}})
	serve := func(method, target string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		path, query, _ := strings.Cut(target, "?")
		u, err := url.Parse(path)
		if err != nil {
			f.Fatalf("bad target %q: %v", target, err)
		}
		u.RawQuery = query
		req.URL, req.RequestURI = u, u.RequestURI()
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve(http.MethodPut, "/v1/config", doc); rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		f.Fatalf("configuring the agent: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(http.MethodPost, "/v1/operations", []byte(`{"type":"smartscan"}`)); rec.Code != http.StatusAccepted {
		f.Fatalf("starting a SmartScan: %d %s", rec.Code, rec.Body)
	}
	for i := 0; ; i++ {
		rec := serve(http.MethodGet, "/v1/status", nil)
		var s api.Status
		if json.Unmarshal(rec.Body.Bytes(), &s) == nil && s.State == "idle" && s.SmartScan.LastRun != nil && s.SmartScan.LastRun.Outcome == "ok" {
			break
		}
		if i > 3000 {
			f.Fatal("the SmartScan did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	acct := st.PerAccount[0].Address
	f.Add(uint8(0), acct, "", []byte(`{"type":"restore","account":"`+acct+`","at":"2026-01-01","dry_run":true}`))
	f.Add(uint8(0), acct, "", []byte(`{"type":"restore-item","account":"`+acct+`","items":[1,2,-3]}`))
	f.Add(uint8(0), acct, "", []byte(`{"type":"restore-undelete","account":"b64:Y2Fm6Q==","from":"1600-01-01","to":"last"}`))
	f.Add(uint8(0), acct, "", []byte(`{"type":"restore","account":"`+acct+`","into_folder":"../x","at":"-5m"}`))
	f.Add(uint8(0), acct, "", []byte(`{"type":"verify","deep":1}`))
	f.Add(uint8(1), acct, "sender=a&since=2026-13-01&folder=INBOX", []byte(nil))
	f.Add(uint8(1), "b64:!!", "deleted=maybe&at=9999-99-99", []byte(nil))
	f.Add(uint8(2), acct, "since=0001-01-01", []byte(nil))
	f.Add(uint8(3), acct, "from=2026-01-02&to=2026-01-01", []byte(nil))
	f.Add(uint8(4), acct, "", []byte(`{"format_version":1,"mail_store":"maildir:/x/%u","purge":{"item_retention_days":-1}}`))
	f.Add(uint8(5), "%00", "", []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, account, query string, body []byte) {
		path := "/v1/backup/accounts/" + url.PathEscape(account)
		var rec *httptest.ResponseRecorder
		switch kind % 6 {
		case 0:
			var req map[string]any
			if json.Unmarshal(body, &req) == nil {
				if ty, _ := req["type"].(string); ty != "smartscan" && ty != "verify" {
					req["dry_run"] = true // never write into the mail store
					body, _ = json.Marshal(req)
				}
			}
			rec = serve(http.MethodPost, "/v1/operations", body)
		case 1:
			rec = serve(http.MethodGet, path+"/search?"+query, nil)
		case 2:
			rec = serve(http.MethodGet, path+"/history?"+query, nil)
		case 3:
			rec = serve(http.MethodGet, path+"/diff?"+query, nil)
		case 4:
			rec = serve(http.MethodPost, "/v1/config/evaluate", body)
		case 5:
			rec = serve(http.MethodGet, path+"?"+query, nil)
		}
		if rec.Code >= 500 {
			t.Fatalf("kind %d, account %q, query %q, body %q: status %d: %s", kind%6, account, query, body, rec.Code, rec.Body)
		}
		// The router's own answers (a redirect to a clean path, no such
		// route) are plain text; the API's are JSON.
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("kind %d: the answer is not JSON: %q", kind%6, rec.Body)
		}
	})
}
