package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/internal/testkit"
	"github.com/mailkeep/mailkeep/reconcile"
	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/schema"
)

// The secrets of the plan tests: they must never appear in any output or
// plan file.
const (
	testToken     = "tok-3f9a7c1e5b2d"
	testEnvToken  = "envtok-8d2e6a4c9"
	testSensitive = "sensitive-bucket-value"
)

// fleetAgent is an in-process agent serving its API on loopback with a
// token.
type fleetAgent struct {
	name string
	a    *agent.Agent
	srv  *httptest.Server
	url  string
	c    *client.Client
}

// testFleet is a set of agents and the policy that names them.
type testFleet struct {
	dir, root string
	tokenFile string
	agents    map[string]*fleetAgent
	clock     *testkit.Clock
	// extra holds per-server HCL lines added to the server blocks.
	extra map[string]string
	// down are servers in the policy whose address answers nothing.
	down []string
	env  []string
}

// newTestFleet starts one in-process agent per name, all reading one
// generated mail store. Agents use clock when it is not nil.
func newTestFleet(t *testing.T, names []string, clock *testkit.Clock) *testFleet {
	t.Helper()
	dir := t.TempDir()
	f := &testFleet{dir: dir, root: filepath.Join(dir, "vmail"), tokenFile: filepath.Join(dir, "agent.token"),
		agents: map[string]*fleetAgent{}, clock: clock, extra: map[string]string{},
		env: []string{"USER=tester", "MK_TEST_TOKEN=" + testEnvToken}}
	if _, err := corpus.Generate(f.root, corpus.Options{Seed: 21, Accounts: 3, Messages: 120, MaxSize: 16 << 10}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		f.start(t, n)
	}
	return f
}

// start starts (or restarts) the agent of a server.
func (f *testFleet) start(t *testing.T, name string) *fleetAgent {
	t.Helper()
	cfg := agent.Config{StateDir: filepath.Join(f.dir, "state-"+name), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if f.clock != nil {
		cfg.Now = f.clock.Now
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	token := testToken
	if strings.HasSuffix(name, "-env") {
		token = testEnvToken
	}
	fa := &fleetAgent{name: name, a: a, srv: httptest.NewServer(a.Handler(token))}
	fa.url = fa.srv.URL
	if fa.c, err = client.New(client.Target{URL: fa.url, Token: token}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fa.stop)
	f.agents[name] = fa
	return fa
}

// stop stops an agent; its address then refuses connections.
func (fa *fleetAgent) stop() {
	fa.srv.Close()
	fa.a.Close()
}

// policy writes the policy into DIR/policy and returns its path. Servers
// whose name ends in "-env" take their token from MK_TEST_TOKEN.
func (f *testFleet) policy(t *testing.T) string {
	t.Helper()
	tmpl, err := os.ReadFile("testdata/plan/policy.hcl.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range f.agents {
		names = append(names, n)
	}
	names = append(names, f.down...)
	sort.Strings(names)
	var servers strings.Builder
	for _, n := range names {
		addr := "http://127.0.0.1:1"
		if fa, ok := f.agents[n]; ok {
			addr = fa.url
		}
		tok := fmt.Sprintf("token_file = %q", f.tokenFile)
		if strings.HasSuffix(n, "-env") {
			tok = `token_env = "MK_TEST_TOKEN"`
		}
		desc := fmt.Sprintf("  description = \"%s ${var.note}\"\n", n)
		if strings.Contains(f.extra[n], "description") {
			desc = ""
		}
		fmt.Fprintf(&servers, "\nserver %q {\n  address     = %q\n  %s\n  backup_path = %q\n%s%s}\n",
			n, addr, tok, filepath.Join(f.dir, "backup-"+n), desc, f.extra[n])
	}
	pol := strings.NewReplacer("{{ROOT}}", f.root, "{{SERVERS}}", servers.String()).Replace(string(tmpl))
	dir := filepath.Join(f.dir, "policy")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs mailkeep with the fleet's environment and checks that no secret
// shows in its output.
func (f *testFleet) run(t *testing.T, args ...string) result {
	t.Helper()
	r := mailkeep(t, f.env, args...)
	assertNoSecrets(t, strings.Join(args, " "), r.stdout+r.stderr)
	return r
}

// settle waits until no agent of the fleet is switching repositories (a
// first config opens one in the background).
func (f *testFleet) settle(t *testing.T) {
	t.Helper()
	for _, fa := range f.agents {
		for i := 0; ; i++ {
			st, err := fa.c.Status(context.Background())
			if err == nil && st.State != "switching" {
				break
			}
			if i == 400 {
				t.Fatalf("agent %s stays switching: %+v %v", fa.name, st, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// assertNoSecrets fails when a token or a sensitive value is in text.
func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{testToken, testEnvToken, testSensitive} {
		if strings.Contains(text, s) {
			t.Errorf("%s: the secret %q is in the output", what, s)
		}
	}
}

// closedAddress returns a loopback address that refuses connections.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// normalize replaces what varies between runs (paths, ports, ETags,
// times, the host name) so that outputs can be compared with golden files.
func (f *testFleet) normalize(s string) string {
	for n, fa := range f.agents {
		s = strings.ReplaceAll(s, fa.url, "http://"+n+".test")
		s = strings.ReplaceAll(s, strings.TrimPrefix(fa.url, "http://"), n+".test")
	}
	s = strings.ReplaceAll(s, f.dir, "$TMP")
	host, _ := os.Hostname()
	s = strings.ReplaceAll(s, "tester@"+host, "tester@HOST")
	s = regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(s, "<etag>")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`).ReplaceAllString(s, "<time>")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d [A-Z]+`).ReplaceAllString(s, "<time>")
	return s
}

// goldenPlan compares got with testdata/plan/golden/NAME, or rewrites it
// with -update.
func goldenPlan(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "plan", "golden", name), []byte(got))
}

// decodePlan decodes plan -format json output.
type planJSON struct {
	FormatVersion string `json:"format_version"`
	Summary       struct {
		Create, Update, Unreachable, Destructive, Drifted int
		NoOp                                              int `json:"no_op"`
	} `json:"summary"`
	Servers []struct {
		Name   string `json:"name"`
		Action string `json:"action"`
		Reason string `json:"reason"`
		Drift  *struct {
			Changes []struct {
				Path   string `json:"path"`
				Before any    `json:"before"`
				After  any    `json:"after"`
			} `json:"changes"`
		} `json:"drift"`
		Changes []struct {
			Path        string `json:"path"`
			Before      any    `json:"before"`
			After       any    `json:"after"`
			Destructive bool   `json:"destructive"`
			Reason      string `json:"reason"`
			Impact      *struct {
				Items    int64    `json:"items"`
				Bytes    int64    `json:"bytes"`
				Accounts []string `json:"accounts"`
			} `json:"impact"`
		} `json:"changes"`
	} `json:"servers"`
}

func decodePlan(t *testing.T, out string) planJSON {
	t.Helper()
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan -format json: %v\n%s", err, out)
	}
	return p
}

// TestPlanAndApply drives plan and apply against three real agents and one
// unreachable server: create, no-op, update, drift, -target/-exclude,
// -detailed-exitcode, confirmation, golden JSON and Markdown.
func TestPlanAndApply(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2", "mx3-env"}, nil)
	f.down = []string{"down"}
	pol := f.policy(t)

	// Everything to create; the unreachable server makes plan fail.
	r := f.run(t, "plan", pol)
	if r.code != exitError || !strings.Contains(r.stdout, "Plan: 3 to create, 0 to update, 0 unchanged, 1 unreachable.") ||
		!strings.Contains(r.stdout, `server "down" is unreachable`) || !strings.Contains(r.stdout, "connection refused") ||
		!strings.Contains(r.stderr, "1 server could not be planned: down") {
		t.Fatalf("first plan: %+v", r)
	}
	if !strings.Contains(r.stdout, "remote.bucket                = (sensitive)") {
		t.Errorf("the sensitive setting is not shown redacted:\n%s", r.stdout)
	}
	r = f.run(t, "plan", pol, "-exclude", "down", "-detailed-exitcode")
	if r.code != exitChanges {
		t.Fatalf("plan -detailed-exitcode with changes: %+v", r)
	}
	// No terminal and no -auto-approve: apply refuses.
	r = f.run(t, "apply", pol, "-exclude", "down")
	if r.code != exitError || !strings.Contains(r.stderr, "-auto-approve") {
		t.Fatalf("apply without confirmation: %+v", r)
	}
	if _, err := f.agents["mx1"].c.Config(context.Background()); err != client.ErrUnconfigured {
		t.Fatalf("apply without confirmation changed mx1: %v", err)
	}
	r = f.run(t, "apply", pol, "-exclude", "down", "-auto-approve")
	if r.code != exitOK || !strings.Contains(r.stdout, "Apply: 3 applied.") {
		t.Fatalf("apply: %+v", r)
	}
	f.settle(t)
	cs, err := f.agents["mx1"].c.Config(context.Background())
	if err != nil || cs.LastApplied == nil || !strings.HasPrefix(cs.LastApplied.Client, "mailkeep apply (tester@") || len(cs.LastApplied.Document) == 0 {
		t.Fatalf("last_applied after apply: %+v %v", cs, err)
	}
	// Applied twice: nothing to do.
	r = f.run(t, "plan", pol, "-exclude", "down", "-detailed-exitcode")
	if r.code != exitOK || !strings.Contains(r.stdout, "No changes: 3 servers are up to date.") {
		t.Fatalf("plan after apply: %+v", r)
	}
	r = f.run(t, "apply", pol, "-exclude", "down")
	if r.code != exitOK || !strings.Contains(r.stdout, "Apply: 0 applied, 3 unchanged.") {
		t.Fatalf("apply again: %+v", r)
	}

	// Drift: mx3-env changed on the agent directly (no client name).
	live, _ := f.agents["mx3-env"].c.Config(context.Background())
	var doc map[string]any
	json.Unmarshal(live.Document, &doc)
	doc["description"] = "edited on the server"
	doc["purge"].(map[string]any)["item_retention_days"] = 90
	b, _ := json.Marshal(doc)
	if _, err := f.agents["mx3-env"].c.PutConfig(context.Background(), b, live.ETag, ""); err != nil {
		t.Fatal(err)
	}
	// And the policy changes mx2's description and post_command.
	f.extra["mx2"] = "  restore {\n    post_command = [\"doveadm\", \"force-resync\", \"-u\", \"%u\", \"INBOX\"]\n  }\n"
	pol = f.policy(t)
	r = f.run(t, "plan", pol, "-var", "note=second", "-target", "mx*", "-format", "json")
	if r.code != exitOK {
		t.Fatalf("plan json: %+v", r)
	}
	p := decodePlan(t, r.stdout)
	if p.FormatVersion != "1.0" || p.Summary.Update != 3 || p.Summary.Drifted != 1 || len(p.Servers) != 3 {
		t.Fatalf("plan json summary: %+v", p)
	}
	mx3 := p.Servers[2]
	if mx3.Name != "mx3-env" || mx3.Drift == nil || len(mx3.Drift.Changes) != 2 || mx3.Drift.Changes[0].After != "edited on the server" {
		t.Errorf("drift of mx3-env: %+v", mx3)
	}
	goldenPlan(t, "update.json", f.normalize(r.stdout))
	r = f.run(t, "plan", pol, "-var", "note=second", "-exclude", "down", "-format", "markdown")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "<!-- mailkeep-plan -->\n") {
		t.Fatalf("plan markdown: %+v", r)
	}
	goldenPlan(t, "update.md", f.normalize(r.stdout))
	r = f.run(t, "plan", pol, "-var", "note=second", "-exclude", "down", "-no-color")
	if r.code != exitOK || strings.Contains(r.stdout, "\x1b[") || !strings.Contains(r.stdout, "Drift: changed on the agent since the last apply") {
		t.Fatalf("plan human: %+v", r)
	}
	goldenPlan(t, "update.txt", f.normalize(r.stdout))

	// Reverting the drift lowers mx3-env's retention: destructive.
	r = f.run(t, "apply", pol, "-var", "note=second", "-exclude", "down", "-auto-approve")
	if r.code != exitPartial || !strings.Contains(r.stdout, "Apply: 2 applied, 1 refused (destructive).") {
		t.Fatalf("apply of the update: %+v", r)
	}
	r = f.run(t, "apply", pol, "-var", "note=second", "-exclude", "down", "-auto-approve", "-allow-destructive")
	if r.code != exitOK || !strings.Contains(r.stdout, "Apply: 1 applied, 2 unchanged.") {
		t.Fatalf("apply of the update with -allow-destructive: %+v", r)
	}
	if r = f.run(t, "plan", pol, "-var", "note=second", "-exclude", "down", "-detailed-exitcode"); r.code != exitOK {
		t.Fatalf("plan after the update: %+v", r)
	}

	// Bad flags.
	for _, args := range [][]string{
		{"plan", pol, "-format", "yaml"},
		{"plan", pol, "-parallelism", "0"},
		{"plan", pol, "-target", "nothing*"},
		{"plan", pol, "-target", "[x"},
	} {
		if r := f.run(t, args...); r.code != exitError || r.stderr == "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// TestPlanMissingToken: a server whose token cannot be read is planned as
// unreachable with a message naming the server; the others are planned.
func TestPlanMissingToken(t *testing.T) {
	f := newTestFleet(t, []string{"mx1", "mx2-env"}, nil)
	pol := f.policy(t)
	r := mailkeep(t, []string{"USER=tester"}, "plan", pol, "-format", "json")
	p := decodePlan(t, r.stdout)
	if r.code != exitError || p.Servers[0].Action != "create" || p.Servers[1].Action != "unreachable" ||
		!strings.Contains(p.Servers[1].Reason, "server mx2-env") || !strings.Contains(p.Servers[1].Reason, "MK_TEST_TOKEN") {
		t.Errorf("plan without the token variable: %+v", r)
	}
	os.WriteFile(f.tokenFile, []byte("wrong-token-6b1f0d2a"), 0o600)
	r = f.run(t, "plan", pol, "-format", "json")
	p = decodePlan(t, r.stdout)
	if p.Servers[0].Action != "unreachable" || !strings.Contains(p.Servers[0].Reason, "token") {
		t.Errorf("plan with a wrong token: %+v", p.Servers[0])
	}
	assertNoSecrets(t, "wrong token", r.stdout+r.stderr)
	if strings.Contains(r.stdout+r.stderr, "wrong-token-6b1f0d2a") {
		t.Error("the (wrong) token is in the output")
	}
}

// BenchmarkPlan1000 times mailkeep plan (load the policy, contact every
// agent, diff, render) over 1,000 configured agents running in this
// process on loopback, each with its own state directory and backup_path,
// the realtime scanner off. "no-op" is the drift check of a fleet in step
// with its policy; "update" changes every server's description, so that
// each agent is also asked to evaluate its candidate; both with the
// default -parallelism (10), and the drift check again with 50; "apply"
// plans and writes a new description to every server. Not part of make
// test; run it with:
//
//	go test ./cmd/mailkeep -run '^$' -bench Plan1000 -benchtime 5x
func BenchmarkPlan1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	root := filepath.Join(dir, "vmail")
	if _, err := corpus.Generate(root, corpus.Options{Seed: 1, Accounts: 2, Messages: 20, MaxSize: 16 << 10}); err != nil {
		b.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(testToken), 0o600)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	agents := make([]*agent.Agent, n)
	var servers strings.Builder
	for i := range agents {
		a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, "state", fmt.Sprint(i)), Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler(testToken))
		b.Cleanup(func() { srv.Close(); a.Close() })
		agents[i] = a
		fmt.Fprintf(&servers, "server \"mx%04d\" {\n  address = %q\n  token_file = %q\n  backup_path = %q\n  description = \"mx%04d ${var.note}\"\n}\n",
			i, srv.URL, tokenFile, filepath.Join(dir, "backup", fmt.Sprint(i)), i)
	}
	tmpl, _ := os.ReadFile("testdata/plan/policy.hcl.tmpl")
	pol := filepath.Join(dir, "policy")
	os.MkdirAll(pol, 0o755)
	hcl := strings.NewReplacer("{{ROOT}}", root, "{{SERVERS}}", servers.String()).Replace(string(tmpl))
	hcl = strings.Replace(hcl, "    metadata_mb = 0\n  }", "    metadata_mb = 0\n  }\n\n  metadata {\n    flush_on_save = false\n  }", 1)
	os.WriteFile(filepath.Join(pol, "main.hcl"), []byte(hcl), 0o644)
	p, diags := schema.Load(pol, schema.LoadOptions{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	reconcile.Parallel(n, 8, func(i int) {
		if _, err := agents[i].PutConfig(schema.NewDocument(p.Servers[i]).Canonical(), "", "bench"); err != nil {
			b.Error(err)
		}
	})
	for _, a := range agents {
		for a.Status().State == "switching" {
			time.Sleep(time.Millisecond)
		}
	}
	modes := []struct {
		name string
		args []string
		code int
	}{
		{"no-op", nil, exitOK},
		{"update", []string{"-var", "note=changed"}, exitChanges},
		{"no-op-parallelism-50", []string{"-parallelism", "50"}, exitOK},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				var out, errb strings.Builder
				c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
				args := append([]string{"plan", pol, "-detailed-exitcode"}, mode.args...)
				if code := c.main(args); code != mode.code {
					b.Fatalf("plan: exit %d\n%s", code, errb.String())
				}
			}
		})
	}
	// apply: plan and write a new description to every server.
	b.Run("apply", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			var out, errb strings.Builder
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
			if code := c.main([]string{"apply", pol, "-auto-approve", "-var", fmt.Sprintf("note=run%d", i)}); code != exitOK || !strings.Contains(out.String(), "Apply: 1000 applied.") {
				b.Fatalf("apply: exit %d\n%s", code, errb.String())
			}
		}
	})
}
