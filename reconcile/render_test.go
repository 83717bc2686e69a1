package reconcile

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderHuman(t *testing.T) {
	plan, _, _ := testPlan(t)
	var buf bytes.Buffer
	RenderHuman(&buf, plan, HumanOptions{})
	out := buf.String()
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
	first, _, _ := strings.Cut(out, "\n")
	if first != plan.Summary().Line() || !strings.HasSuffix(out, plan.Summary().Line()+"\n") {
		t.Errorf("the summary is not first and last:\n%s", out)
	}
	golden(t, "plan.txt", out)

	buf.Reset()
	RenderHuman(&buf, plan, HumanOptions{Color: true})
	if !strings.Contains(buf.String(), ansiRed+"[destructive]"+ansiReset) {
		t.Error("no colour with Color")
	}
}

func TestRenderMarkdown(t *testing.T) {
	plan, _, _ := testPlan(t)
	var buf bytes.Buffer
	RenderMarkdown(&buf, plan)
	out := buf.String()
	if !strings.HasPrefix(out, MarkdownMarker+"\n") {
		t.Errorf("first line is not the marker:\n%s", out)
	}
	golden(t, "plan.md", out)
}

func TestRenderJSON(t *testing.T) {
	plan, _, _ := testPlan(t)
	var buf bytes.Buffer
	if err := RenderJSON(&buf, plan); err != nil {
		t.Fatal(err)
	}
	var back struct {
		FormatVersion string `json:"format_version"`
		Servers       []struct {
			Name    string `json:"name"`
			Action  string `json:"action"`
			Changes []struct {
				Path        string `json:"path"`
				Destructive bool   `json:"destructive"`
			} `json:"changes"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.FormatVersion != JSONFormatVersion || len(back.Servers) != 5 || back.Servers[0].Name != "changed" || back.Servers[0].Action != "update" {
		t.Errorf("decoded %+v", back)
	}
	golden(t, "plan.json", buf.String())
}

// TestSensitiveNeverShown renders the plan every way and saves it, and
// checks that no sensitive value (current or old) appears anywhere.
func TestSensitiveNeverShown(t *testing.T) {
	plan, _, _ := testPlan(t)
	var outs []string
	var buf bytes.Buffer
	RenderHuman(&buf, plan, HumanOptions{Color: true})
	outs = append(outs, buf.String())
	buf.Reset()
	RenderMarkdown(&buf, plan)
	outs = append(outs, buf.String())
	buf.Reset()
	RenderJSON(&buf, plan)
	outs = append(outs, buf.String())
	file := filepath.Join(t.TempDir(), "p.mkplan")
	if err := WritePlanFile(file, plan); err != nil {
		t.Fatal(err)
	}
	b, _ := readFile(file)
	outs = append(outs, b)
	for i, out := range outs {
		for _, secret := range []string{"acme-secret-bucket", "old-bucket-secret"} {
			if strings.Contains(out, secret) {
				t.Errorf("output %d shows the sensitive value %q", i, secret)
			}
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("output %d has no redaction marker", i)
		}
	}
}
