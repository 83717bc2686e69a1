package impact

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/schema"
)

// fakeData is a repository and mail store for the rules, in memory.
type fakeData struct {
	current []Amount
	ended   []Amount
	deleted []Amount
	// stores are the accounts of each mail_store value.
	stores map[string][]string
	err    error
	// calls counts the reads, to tell a counted rule from a static one.
	calls int
}

func (d *fakeData) Current() ([]Amount, error) { d.calls++; return d.current, d.err }
func (d *fakeData) Ended(from, to int64) ([]Amount, error) {
	d.calls++
	return d.ended, d.err
}
func (d *fakeData) Deleted(from, to int64) ([]Amount, error) {
	d.calls++
	return d.deleted, d.err
}
func (d *fakeData) StoreAccounts(ms string) ([]string, error) {
	d.calls++
	accts, ok := d.stores[ms]
	if !ok {
		return nil, errors.New("no such store")
	}
	return accts, nil
}

// doc decodes a config document with some settings.
func doc(t *testing.T, settings map[string]any) *schema.Document {
	t.Helper()
	m := map[string]any{"format_version": 1, "mail_store": "maildir:/srv/vmail/%d/%n/Maildir", "backup_path": "/nonexistent/backup"}
	for k, v := range settings {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	d, err := schema.DecodeDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// find returns the impact on a setting.
func find(t *testing.T, imps []api.Impact, path string) api.Impact {
	t.Helper()
	for _, imp := range imps {
		if imp.Path == path {
			return imp
		}
	}
	t.Fatalf("no impact on %s in %+v", path, imps)
	return api.Impact{}
}

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestEvaluateCountsThroughData: with Data, a narrower selection is
// counted in the accounts Data says are backed up; without it (Static)
// the same change is destructive by the settings alone, uncounted.
func TestEvaluateCountsThroughData(t *testing.T) {
	live := doc(t, nil)
	cand := doc(t, map[string]any{"accounts": map[string]any{"exclude": []string{"bob@*"}}})
	data := &fakeData{current: []Amount{{Name: "ann@example.com", Items: 3, Bytes: 300}, {Name: "bob@example.com", Items: 5, Bytes: 500}}}
	imps, err := Evaluate(Input{Live: live, Cand: cand, Now: now, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	got := find(t, imps, "accounts.exclude")
	if !got.Destructive || !got.Counted || got.Items != 5 || got.Bytes != 500 || !slices.Equal(got.Accounts, []string{"bob@example.com"}) {
		t.Errorf("counted exclusion: %+v", got)
	}
	static := find(t, Static(live, cand, now), "accounts.exclude")
	if !static.Destructive || static.Counted || static.Items != 0 || len(static.Accounts) != 0 {
		t.Errorf("static exclusion: %+v", static)
	}
	if imps := Static(live, live, now); len(imps) != 0 {
		t.Errorf("no change: %+v", imps)
	}
}

// TestEvaluateMailStore: a new mail store loses the accounts backed up
// now that it does not hold; one that cannot be read says so.
func TestEvaluateMailStore(t *testing.T) {
	live := doc(t, nil)
	cand := doc(t, map[string]any{"mail_store": "maildir:/srv/other/%d/%n/Maildir"})
	data := &fakeData{current: []Amount{{Name: "ann@example.com", Items: 1, Bytes: 10}, {Name: "bob@example.com", Items: 2, Bytes: 20}},
		stores: map[string][]string{"maildir:/srv/other/%d/%n/Maildir": {"ann@example.com"}}}
	imps, err := Evaluate(Input{Live: live, Cand: cand, Now: now, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	got := find(t, imps, "mail_store")
	if !got.Destructive || !got.Counted || got.Items != 2 || !slices.Equal(got.Accounts, []string{"bob@example.com"}) {
		t.Errorf("new mail store: %+v", got)
	}
	data.stores = nil
	imps, err = Evaluate(Input{Live: live, Cand: cand, Now: now, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if got := find(t, imps, "mail_store"); !got.Destructive || got.Counted || !strings.Contains(got.Reason, "cannot be read here") {
		t.Errorf("unreadable mail store: %+v", got)
	}
}

// TestEvaluateDataError: an error of Data is Evaluate's, so that the
// agent can fall back to the settings alone.
func TestEvaluateDataError(t *testing.T) {
	live := doc(t, map[string]any{"legal_hold": map[string]any{"accounts": []string{"*@example.com"}}})
	cand := doc(t, map[string]any{"legal_hold": map[string]any{"accounts": []string{}}})
	data := &fakeData{err: errors.New("catalog unreadable")}
	if _, err := Evaluate(Input{Live: live, Cand: cand, Now: now, Data: data}); err == nil || data.calls == 0 {
		t.Errorf("Evaluate with a failing Data: %v after %d reads, want its error", err, data.calls)
	}
	if got := find(t, Static(live, cand, now), "legal_hold.accounts"); !got.Destructive || got.Counted {
		t.Errorf("static legal hold: %+v", got)
	}
}
