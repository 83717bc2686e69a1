package agent_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// The kinds of instants of TestInstantEdges, by what the agent must say.
const (
	inRange   = "in range"
	unrepr    = "cannot be represented"
	before    = "before the backup history"
	future    = "in the future"
	badFormat = "RFC 3339"
	notPos    = "must be positive"
)

// TestInstantEdges: every request that takes an instant about an account
// refuses, with a message naming the instant and the range it would
// accept, each instant that cannot be represented (int64 nanoseconds:
// 1677-09-21 to 2262-04-11), lies before the account's first backup or
// in the future, or is not an instant at all; none is taken for another
// instant (year 1600 for today, year 1 for last). history -since is a
// filter: an instant before the history keeps all of it.
func TestInstantEdges(t *testing.T) {
	ta := backedUp(t)
	ctx := context.Background()
	list, err := ta.c.Accounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	account, first := list[0].Name, list[0].FirstBackup.Format(time.RFC3339Nano)
	nowArg := time.Now().UTC().Format(time.RFC3339Nano)
	later := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	start := func(req api.OperationRequest) error {
		op, err := ta.c.Start(ctx, req)
		if err == nil {
			waitOp(t, ta.c, op.ID)
		}
		return err
	}
	restore := func(r api.RestoreRequest) error {
		r.Account, r.DryRun = account, true
		return start(api.OperationRequest{Type: "restore", RestoreRequest: r})
	}
	undelete := func(from, until string) error {
		return start(api.OperationRequest{Type: "restore-undelete", RestoreRequest: api.RestoreRequest{Account: account, DryRun: true,
			GranularRequest: api.GranularRequest{From: from, Until: until}}})
	}
	ops := []struct {
		name string
		// sinceLike is a filter: an instant before the history is in range.
		sinceLike bool
		run       func(arg string) error
	}{
		{"restore -at", false, func(s string) error { return restore(api.RestoreRequest{At: s}) }},
		{"restore -into-folder -at", false, func(s string) error {
			return restore(api.RestoreRequest{At: s, GranularRequest: api.GranularRequest{IntoFolder: "Restored"}})
		}},
		{"export -at", false, func(s string) error {
			st, err := ta.c.Export(ctx, account, "", "mbox", s)
			if err == nil {
				_, err = st.Summary(ctx)
			}
			return err
		}},
		{"diff -from", false, func(s string) error { _, err := ta.c.Diff(ctx, account, s, ""); return err }},
		{"diff -to", false, func(s string) error { _, err := ta.c.Diff(ctx, account, first, s); return err }},
		{"undelete -from", false, func(s string) error { return undelete(s, later()) }},
		{"undelete -to", false, func(s string) error { return undelete(first, s) }},
		{"search -at", false, func(s string) error {
			_, err := ta.c.Search(ctx, api.SearchRequest{Account: account, At: s})
			return err
		}},
		{"history -since", true, func(s string) error { _, err := ta.c.History(ctx, account, s); return err }},
	}
	instants := []struct{ arg, kind string }{
		{"1600-01-01", unrepr},
		{"0001-01-01T00:00:00Z", unrepr}, // the zero time: never "last"
		{"1677-09-21T00:12:43Z", unrepr},
		{"1677-09-21T00:12:44Z", before},
		{"1969-12-31", before},
		{"1970-01-01T00:00:00Z", before},
		{"2d", before},
		{"106000d", before}, // 290 years ago
		{"106752d", unrepr}, // more than a time.Duration
		{"9223372037s", unrepr},
		{"2100-01-01T00:00:00Z", future},
		{"2262-04-11T23:47:16Z", future},
		{"2262-04-11T23:47:17Z", unrepr},
		{"9999-12-31T23:59:59Z", unrepr},
		{"10000-01-01", unrepr},
		{"+10000-01-01T00:00:00Z", unrepr},
		{"-0044-03-15", unrepr},
		{"NaNd", badFormat},
		{"Infd", badFormat},
		{"1e3d", badFormat},
		{"0x10d", badFormat},
		{"2026-02-30", badFormat},
		{"yesterday", badFormat},
		{"-2d", notPos},
		{"0s", notPos},
		{nowArg, inRange},
	}
	for _, in := range instants {
		for _, op := range ops {
			kind := in.kind
			if op.sinceLike && kind == before {
				kind = inRange
			}
			err := op.run(in.arg)
			if kind == inRange {
				if err != nil {
					t.Errorf("%s %q: %v; want it accepted", op.name, in.arg, err)
				}
				continue
			}
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
				t.Errorf("%s %q: %v; want 400 (%s)", op.name, in.arg, err, kind)
				continue
			}
			want := []string{in.arg, kind}
			switch kind {
			case unrepr:
				if !strings.HasSuffix(in.arg, "d") && !strings.HasSuffix(in.arg, "s") {
					want = append(want, "1677-09-21T00:12:43Z", "2262-04-11T23:47:16Z")
				}
			case before, future:
				if !op.sinceLike {
					want = append(want, "from "+first, "to now")
				}
			}
			for _, w := range want {
				if !strings.Contains(ae.Message, w) {
					t.Errorf("%s %q: %q; want it to say %q", op.name, in.arg, ae.Message, w)
				}
			}
		}
	}
}
