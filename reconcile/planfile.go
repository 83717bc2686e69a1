package reconcile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/schema"
)

// PlanFileExt is the extension of saved plan files.
const PlanFileExt = ".mkplan"

// planFileKind marks a saved plan file; docs/PLAN.md describes the format.
const planFileKind = "mailkeep-plan-file"

// planFile is a saved plan: the JSON plan plus, per server, what apply
// needs. It holds no secret: no token (only the references token_file and
// token_env), and no sensitive value (they are redacted; apply takes them
// from the policy again and checks them against desired_etag).
type planFile struct {
	Kind string `json:"kind"`
	jsonPlan
}

// fileApply is what apply needs of one server of a saved plan.
type fileApply struct {
	Target fileTarget `json:"target"`
	// LiveDocument is the live config at plan time (redacted), shown when
	// the config moved since; null for create and unreachable.
	LiveDocument map[string]any `json:"live_document"`
	// DesiredDocument is what apply sends, sensitive values redacted.
	DesiredDocument map[string]any `json:"desired_document"`
	// SensitivePaths are the settings redacted in DesiredDocument.
	SensitivePaths []string `json:"sensitive_paths"`
}

type fileTarget struct {
	Address   string   `json:"address"`
	TokenFile string   `json:"token_file,omitempty"`
	TokenEnv  string   `json:"token_env,omitempty"`
	CAFile    string   `json:"ca_file,omitempty"`
	Protect   bool     `json:"protect"`
	Sensitive []string `json:"sensitive,omitempty"`
}

// WritePlanFile saves a plan to path.
func WritePlanFile(path string, p *Plan) error {
	f := planFile{Kind: planFileKind, jsonPlan: *toJSON(p)}
	for i, sp := range p.Servers {
		fa := &fileApply{SensitivePaths: sp.Sensitivity.SortedPaths(),
			Target: fileTarget{Address: sp.Target.Shown("address"), TokenFile: sp.Target.Shown("token_file"),
				TokenEnv: sp.Target.Shown("token_env"), CAFile: sp.Target.Shown("ca_file"), Protect: sp.Target.Protect,
				Sensitive: sp.Target.Sensitive}}
		if fa.SensitivePaths == nil {
			fa.SensitivePaths = []string{}
		}
		if sp.Live != nil {
			fa.LiveDocument = nest(sp.Live.Values)
		}
		switch {
		case sp.Action == ActionUnreachable:
		case sp.Desired != nil:
			doc, err := schema.DecodeDocument(sp.Desired)
			if err != nil {
				return fmt.Errorf("server %s: %w", sp.Name, err)
			}
			fa.DesiredDocument = nest(redactValues(flatten(doc), sp.Sensitivity))
		case sp.desiredValues != nil:
			// A loaded plan not yet resolved against the policy: its
			// values are redacted already.
			fa.DesiredDocument = nest(sp.desiredValues)
		default:
			return fmt.Errorf("server %s: the plan has no desired document to save", sp.Name)
		}
		f.Servers[i].Apply = fa
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, f); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	return nil
}

// IsPlanFile reports whether path is a saved plan rather than a policy: a
// regular file named *.mkplan, or one whose content is a plan file.
func IsPlanFile(path string) bool {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return false
	}
	if strings.HasSuffix(path, PlanFileExt) {
		return true
	}
	if filepath.Ext(path) == schema.PolicyExt {
		return false
	}
	b, err := schema.ReadFile(path, MaxPlanFileBytes)
	if err != nil {
		return false
	}
	var head struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(b, &head) == nil && head.Kind == planFileKind
}

// MaxPlanFileBytes bounds a saved plan file; only regular files are read
// (docs/POLICY.md, "Limits").
const MaxPlanFileBytes = 1 << 30

// ReadPlanFile loads a saved plan. Servers whose documents hold no
// sensitive value are ready to apply; the others need Resolve.
func ReadPlanFile(path string) (*Plan, error) {
	b, err := schema.ReadFile(path, MaxPlanFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var f planFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s is not a mailkeep plan file: %v", path, err)
	}
	if f.Kind != planFileKind {
		return nil, fmt.Errorf("%s is not a mailkeep plan file (its kind is %q, want %q)", path, f.Kind, planFileKind)
	}
	if major, _, _ := strings.Cut(f.FormatVersion, "."); major != "1" {
		return nil, fmt.Errorf("%s has plan format %q; this mailkeep reads 1.x", path, f.FormatVersion)
	}
	p := fromJSON(&f.jsonPlan)
	for i, js := range f.Servers {
		sp := p.Servers[i]
		fa := js.Apply
		if fa == nil {
			return nil, fmt.Errorf("%s: server %s has no apply section", path, js.Name)
		}
		sp.Target = Target{Address: fa.Target.Address, TokenFile: fa.Target.TokenFile, TokenEnv: fa.Target.TokenEnv,
			CAFile: fa.Target.CAFile, Protect: fa.Target.Protect, Sensitive: fa.Target.Sensitive}
		sp.Sensitivity = &Sensitivity{Paths: map[string]bool{}}
		for _, sp2 := range fa.SensitivePaths {
			sp.Sensitivity.Paths[sp2] = true
		}
		if sp.Live != nil && fa.LiveDocument != nil {
			sp.Live.Values = flattenMap(fa.LiveDocument)
		}
		if sp.Action == ActionUnreachable {
			continue
		}
		if fa.DesiredDocument == nil {
			return nil, fmt.Errorf("%s: server %s has no desired document", path, js.Name)
		}
		sp.desiredValues = flattenMap(fa.DesiredDocument)
		if sp.needsPolicy() {
			continue
		}
		raw, _ := json.Marshal(fa.DesiredDocument)
		doc, err := schema.DecodeDocument(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: server %s: %w", path, js.Name, err)
		}
		if doc.ETag() != sp.DesiredETag {
			return nil, fmt.Errorf("%s: server %s: the desired document does not match its desired_etag; the plan file was altered", path, js.Name)
		}
		sp.Desired = doc.Canonical()
	}
	return p, nil
}

// needsPolicy reports whether a server of a loaded plan has sensitive
// values that apply must take from the policy.
func (sp *ServerPlan) needsPolicy() bool {
	return len(sp.Sensitivity.Paths) > 0 || len(sp.Target.Sensitive) > 0
}

// NeedsPolicy reports whether applying a loaded plan needs the policy:
// some server's document or address holds sensitive values, which plan
// files do not store.
func (p *Plan) NeedsPolicy() bool {
	for _, sp := range p.Servers {
		if sp.Action != ActionUnreachable && sp.Desired == nil && sp.needsPolicy() {
			return true
		}
	}
	return false
}

// Resolve completes a loaded plan from the policy: for each server with
// sensitive values, the redacted settings of its planned document (and its
// redacted client fields) are taken from the policy, and the server is
// blocked when the completed document is not the one planned (its ETag
// differs: the sensitive values changed since the plan). The other
// settings always come from the plan file, so variables given to plan
// with -var need not be given again, except sensitive ones.
func (p *Plan) Resolve(pol *schema.Policy) {
	secrets := PolicySecrets(pol)
	for _, sp := range p.Servers {
		if sp.Action == ActionUnreachable || sp.Desired != nil || !sp.needsPolicy() {
			continue
		}
		sp.Sensitivity.secrets = secrets
		s, ok := pol.Server(sp.Name)
		if !ok {
			sp.Blocked = fmt.Sprintf("server %s is no longer in the policy %s, which apply reads for its sensitive values; plan again", sp.Name, p.Policy)
			continue
		}
		now := flatten(schema.NewDocument(s))
		vals := make(map[string]any, len(sp.desiredValues))
		for k, v := range sp.desiredValues {
			vals[k] = v
		}
		for path := range sp.Sensitivity.Paths {
			vals[path] = now[path]
		}
		raw, _ := json.Marshal(nest(vals))
		doc, err := schema.DecodeDocument(raw)
		if err != nil || doc.ETag() != sp.DesiredETag {
			sp.Blocked = "the sensitive values the policy gives now are not those planned (plan files do not store sensitive values: apply takes them from the policy and its variables, which changed, or lack a -var given to plan); plan again"
			continue
		}
		t := TargetOf(s)
		for _, field := range sp.Target.Sensitive {
			switch field {
			case "address":
				sp.Target.Address = t.Address
			case "token_file":
				sp.Target.TokenFile = t.TokenFile
			case "token_env":
				sp.Target.TokenEnv = t.TokenEnv
			case "ca_file":
				sp.Target.CAFile = t.CAFile
			}
		}
		sp.Desired = doc.Canonical()
	}
}
