package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/schema"
)

// Target is the API of an agent as a client sees it: a *client.Client in
// front of a real agent, or a *Fake.
type Target interface {
	Config(ctx context.Context) (*api.ConfigState, error)
	PutConfig(ctx context.Context, doc []byte, ifMatch, clientName string) (*api.ConfigState, error)
	Evaluate(ctx context.Context, doc []byte) (*api.Evaluation, error)
	Start(ctx context.Context, req api.OperationRequest) (*api.Operation, error)
	Operation(ctx context.Context, id string, wait time.Duration) (*api.Operation, error)
	Cancel(ctx context.Context, id string) (*api.Operation, error)
}

// NewTarget returns a new, unconfigured target, and a directory of the
// test's own under which the documents the cases send put their
// backup_path and mail store.
type NewTarget func(t *testing.T) (Target, string)

// Run runs every conformance case, each on a new target.
func Run(t *testing.T, newTarget NewTarget) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, tg Target, dir string)
	}{
		{"Unconfigured", unconfigured},
		{"FirstWrite", firstWrite},
		{"StaleWritesRefused", staleWrites},
		{"Revisions", revisions},
		{"LastApplied", lastApplied},
		{"BadDocuments", badDocuments},
		{"Evaluate", evaluate},
		{"OperationRefusals", operationRefusals},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg, dir := newTarget(t)
			c.run(t, tg, dir)
		})
	}
}

// Document returns a config document whose backup_path and mail store
// lie under dir, with some settings replaced. Nothing runs on its own
// under it: the realtime scanner and the SmartScan at startup are off.
func Document(t *testing.T, dir string, edits map[string]any) []byte {
	t.Helper()
	doc := map[string]any{
		"format_version":   1,
		"mail_store":       "maildir:" + filepath.Join(dir, "vmail") + "/%d/%n/Maildir",
		"backup_path":      filepath.Join(dir, "backup"),
		"reserved_space":   map[string]any{"backup_mb": 0, "metadata_mb": 0},
		"description":      "conformance",
		"realtime_scanner": false,
	}
	for k, v := range edits {
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonical returns a document as the agent stores it, and its ETag.
func canonical(t *testing.T, doc []byte) ([]byte, string) {
	t.Helper()
	d, err := schema.DecodeDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	return d.Canonical(), d.ETag()
}

// sameJSON reports whether two JSON texts are the same but for white
// space (the agent indents the documents it sends).
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// status returns the HTTP status of an API error, 0 for another error.
func status(err error) int {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// describe shows a last_applied without its document.
func describe(la *api.Applied) string {
	if la == nil {
		return "none"
	}
	return fmt.Sprintf("etag %s, client %q, at %s, %d bytes of document", la.ETag, la.Client, la.Time, len(la.Document))
}

// state shows a config state without its documents.
func state(cs *api.ConfigState) string {
	return fmt.Sprintf("revision %d, etag %s, updated_at %s, last_applied %s", cs.Revision, cs.ETag, cs.UpdatedAt, describe(cs.LastApplied))
}

// put writes a config and fails the test when it is refused.
func put(t *testing.T, tg Target, doc []byte, ifMatch, clientName string) *api.ConfigState {
	t.Helper()
	cs, err := tg.PutConfig(context.Background(), doc, ifMatch, clientName)
	if err != nil {
		t.Fatalf("PutConfig(If-Match %q, client %q): %v", ifMatch, clientName, err)
	}
	return cs
}

// read reads the live config and fails the test when it cannot.
func read(t *testing.T, tg Target) *api.ConfigState {
	t.Helper()
	cs, err := tg.Config(context.Background())
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	return cs
}

// unconfigured: an agent without config answers 404 to a read
// (client.ErrUnconfigured), refuses a write that names an ETag (409),
// and evaluates a candidate as creating everything.
func unconfigured(t *testing.T, tg Target, dir string) {
	ctx := context.Background()
	if _, err := tg.Config(ctx); !errors.Is(err, client.ErrUnconfigured) {
		t.Errorf("Config of an unconfigured agent: %v, want client.ErrUnconfigured", err)
	}
	doc := Document(t, dir, nil)
	if _, err := tg.PutConfig(ctx, doc, "some-etag", ""); !client.Conflict(err) {
		t.Errorf("a write with If-Match to an unconfigured agent: %v, want a 409 conflict", err)
	}
	if _, err := tg.Config(ctx); !errors.Is(err, client.ErrUnconfigured) {
		t.Errorf("after a refused write: %v, want client.ErrUnconfigured", err)
	}
	ev, err := tg.Evaluate(ctx, doc)
	if err != nil {
		t.Fatalf("Evaluate on an unconfigured agent: %v", err)
	}
	_, etag := canonical(t, doc)
	if ev.LiveETag != "" || ev.CandidateETag != etag || len(ev.Impacts) != 0 {
		t.Errorf("evaluation on an unconfigured agent: live %q candidate %q (want \"\" and %q), impacts %+v", ev.LiveETag, ev.CandidateETag, etag, ev.Impacts)
	}
}

// firstWrite: the first config is revision 1, stored canonical with its
// ETag, and reads back as written.
func firstWrite(t *testing.T, tg Target, dir string) {
	doc := Document(t, dir, nil)
	want, etag := canonical(t, doc)
	cs := put(t, tg, doc, "", "")
	if cs.Revision != 1 || cs.ETag != etag || cs.UpdatedAt.IsZero() || cs.LastApplied != nil {
		t.Errorf("first write: revision %d etag %q updated_at %s last_applied %s, want revision 1, etag %q, a time, none", cs.Revision, cs.ETag, cs.UpdatedAt, describe(cs.LastApplied), etag)
	}
	if !sameJSON(cs.Document, want) {
		t.Errorf("first write: document\n%s\nwant the canonical\n%s", cs.Document, want)
	}
	got := read(t, tg)
	if got.Revision != cs.Revision || got.ETag != cs.ETag || !sameJSON(got.Document, cs.Document) || !got.UpdatedAt.Equal(cs.UpdatedAt) {
		t.Errorf("read after the first write: %s, want %s", state(got), state(cs))
	}
}

// staleWrites: a configured agent refuses with 409 a write whose
// If-Match is not its ETag, and one without If-Match (the client then
// sends If-None-Match: *), and changes nothing.
func staleWrites(t *testing.T, tg Target, dir string) {
	ctx := context.Background()
	cs := put(t, tg, Document(t, dir, nil), "", "")
	doc2 := Document(t, dir, map[string]any{"description": "changed"})
	for _, ifMatch := range []string{"0000", ""} {
		if _, err := tg.PutConfig(ctx, doc2, ifMatch, "x"); !client.Conflict(err) || status(err) != http.StatusConflict {
			t.Errorf("write with If-Match %q over ETag %s: %v, want a 409 conflict", ifMatch, cs.ETag, err)
		}
	}
	if got := read(t, tg); got.ETag != cs.ETag || got.Revision != cs.Revision || got.LastApplied != nil {
		t.Errorf("refused writes changed the config: %s, was %s", state(got), state(cs))
	}
}

// revisions: a change moves the revision and the ETag; the same
// document again moves neither, nor updated_at.
func revisions(t *testing.T, tg Target, dir string) {
	cs1 := put(t, tg, Document(t, dir, nil), "", "")
	doc2 := Document(t, dir, map[string]any{"description": "changed"})
	_, etag2 := canonical(t, doc2)
	cs2 := put(t, tg, doc2, cs1.ETag, "")
	if cs2.Revision != cs1.Revision+1 || cs2.ETag != etag2 || cs2.ETag == cs1.ETag {
		t.Errorf("a change: revision %d etag %q, want %d and %q", cs2.Revision, cs2.ETag, cs1.Revision+1, etag2)
	}
	cs3 := put(t, tg, doc2, cs2.ETag, "")
	if cs3.Revision != cs2.Revision || cs3.ETag != cs2.ETag || !cs3.UpdatedAt.Equal(cs2.UpdatedAt) {
		t.Errorf("the same document again: %s, want it unchanged from %s", state(cs3), state(cs2))
	}
	if got := read(t, tg); got.Revision != cs2.Revision || got.ETag != cs2.ETag {
		t.Errorf("read: revision %d etag %q, want %d %q", got.Revision, got.ETag, cs2.Revision, cs2.ETag)
	}
}

// lastApplied: a write naming its client records last_applied with the
// document (also when the document is unchanged); a direct change
// leaves it alone, which is how plan tells drift.
func lastApplied(t *testing.T, tg Target, dir string) {
	doc := Document(t, dir, nil)
	want, _ := canonical(t, doc)
	cs := put(t, tg, doc, "", "mailkeep apply (conformance)")
	la := cs.LastApplied
	if la == nil || la.ETag != cs.ETag || la.Client != "mailkeep apply (conformance)" || !sameJSON(la.Document, want) || la.Time.IsZero() {
		t.Fatalf("last_applied after an apply: %s", describe(la))
	}
	again := put(t, tg, doc, cs.ETag, "mailkeep apply (again)")
	if again.Revision != cs.Revision || again.LastApplied == nil || again.LastApplied.Client != "mailkeep apply (again)" {
		t.Errorf("an apply of the same document: revision %d (want %d), last_applied %s", again.Revision, cs.Revision, describe(again.LastApplied))
	}
	direct := put(t, tg, Document(t, dir, map[string]any{"description": "by hand"}), again.ETag, "")
	if direct.LastApplied == nil || direct.LastApplied.ETag != again.ETag || direct.LastApplied.Client != "mailkeep apply (again)" || direct.ETag == again.ETag {
		t.Errorf("a direct change: etag %q, last_applied %s, want last_applied left at %s", direct.ETag, describe(direct.LastApplied), again.ETag)
	}
	if got := read(t, tg); got.LastApplied == nil || got.LastApplied.ETag != again.ETag || !sameJSON(got.LastApplied.Document, want) {
		t.Errorf("read after drift: last_applied %s", describe(got.LastApplied))
	}
}

// badDocuments: an invalid document is refused with 400, before any
// If-Match is looked at, and changes nothing; so is its evaluation.
func badDocuments(t *testing.T, tg Target, dir string) {
	ctx := context.Background()
	cs := put(t, tg, Document(t, dir, nil), "", "")
	bad := Document(t, dir, map[string]any{"purge": map[string]any{"schedule": "0 99 * * *"}})
	for _, ifMatch := range []string{cs.ETag, "stale"} {
		if _, err := tg.PutConfig(ctx, bad, ifMatch, ""); status(err) != http.StatusBadRequest {
			t.Errorf("an invalid document (If-Match %q): %v, want 400", ifMatch, err)
		}
	}
	if _, err := tg.Evaluate(ctx, bad); status(err) != http.StatusBadRequest {
		t.Errorf("evaluating an invalid document: %v, want 400", err)
	}
	if got := read(t, tg); got.ETag != cs.ETag || got.Revision != cs.Revision {
		t.Errorf("refused documents changed the config: %s", state(got))
	}
}

// evaluate: an evaluation compares with the live ETag, names the
// candidate's, applies nothing, and reports what the settings alone
// say is destructive.
func evaluate(t *testing.T, tg Target, dir string) {
	ctx := context.Background()
	cs := put(t, tg, Document(t, dir, nil), "", "")
	cand := Document(t, dir, map[string]any{"smartscan": map[string]any{"enabled": false}})
	_, etag := canonical(t, cand)
	ev, err := tg.Evaluate(ctx, cand)
	if err != nil {
		t.Fatal(err)
	}
	if ev.LiveETag != cs.ETag || ev.CandidateETag != etag || ev.EvaluatedAt.IsZero() {
		t.Errorf("evaluation: live %q candidate %q at %s, want %q, %q and a time", ev.LiveETag, ev.CandidateETag, ev.EvaluatedAt, cs.ETag, etag)
	}
	var found bool
	for _, imp := range ev.Impacts {
		if imp.Path == "smartscan.enabled" {
			found = imp.Destructive && imp.Reason != ""
		}
	}
	if !found {
		t.Errorf("turning scheduled SmartScans off: impacts %+v, want a destructive smartscan.enabled", ev.Impacts)
	}
	same, err := tg.Evaluate(ctx, Document(t, dir, nil))
	if err != nil {
		t.Errorf("evaluating the live document: %v, want no impact", err)
	} else if len(same.Impacts) != 0 {
		t.Errorf("evaluating the live document: impacts %+v, want none", same.Impacts)
	}
	if got := read(t, tg); got.ETag != cs.ETag || got.Revision != cs.Revision {
		t.Errorf("an evaluation changed the config: %s", state(got))
	}
}

// operationRefusals: an unknown operation type is refused with 400, and
// every kind with 409 while the agent is unconfigured (not as busy: no
// operation stands in the way); an operation the agent does not have is
// 404 to a read, a wait and a cancel.
func operationRefusals(t *testing.T, tg Target, dir string) {
	ctx := context.Background()
	if _, err := tg.Start(ctx, api.OperationRequest{Type: "defragment"}); status(err) != http.StatusBadRequest {
		t.Errorf("an unknown operation type: %v, want 400", err)
	}
	for _, kind := range api.Kinds {
		_, err := tg.Start(ctx, api.OperationRequest{Type: kind, RestoreRequest: api.RestoreRequest{Account: "ann@example.com", DryRun: true}})
		if status(err) != http.StatusConflict || client.Busy(err) {
			t.Errorf("%s on an unconfigured agent: %v, want a 409 that is not busy", kind, err)
		}
	}
	if _, err := tg.Operation(ctx, "0123456789abcdef", 0); status(err) != http.StatusNotFound {
		t.Errorf("reading an unknown operation: %v, want 404", err)
	}
	if _, err := tg.Operation(ctx, "0123456789abcdef", time.Second); status(err) != http.StatusNotFound {
		t.Errorf("waiting for an unknown operation: %v, want 404", err)
	}
	if _, err := tg.Cancel(ctx, "0123456789abcdef"); status(err) != http.StatusNotFound {
		t.Errorf("cancelling an unknown operation: %v, want 404", err)
	}
	put(t, tg, Document(t, dir, nil), "", "")
	if _, err := tg.Start(ctx, api.OperationRequest{Type: "defragment"}); status(err) != http.StatusBadRequest {
		t.Errorf("an unknown operation type on a configured agent: %v, want 400", err)
	}
}
