package reconcile

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/mailkeep/mailkeep/schema"
)

// Sensitivity says which values of a server's documents must never be
// shown: the settings whose policy value derives from a sensitive
// variable, and, as a second guard, any text that contains the value of a
// sensitive variable (a live document may still hold an old sensitive
// value at a path that is no longer sensitive).
type Sensitivity struct {
	// Paths are the sensitive setting paths.
	Paths map[string]bool
	// secrets are the sensitive variables' values, longest first. They
	// are never persisted.
	secrets []string
}

// minSecret is the shortest sensitive value scrubbed from free text;
// shorter ones would blank out unrelated words and numbers.
const minSecret = 3

// PolicySecrets returns the values of a policy's sensitive variables, as
// strings, longest first.
func PolicySecrets(p *schema.Policy) []string {
	var out []string
	for _, v := range p.Variables {
		if !v.Sensitive || v.Value == cty.NilVal || !v.Value.IsWhollyKnown() {
			continue
		}
		_ = cty.Walk(v.Value, func(_ cty.Path, val cty.Value) (bool, error) {
			if val.IsNull() || !val.Type().IsPrimitiveType() {
				return true, nil
			}
			if sv, err := convert.Convert(val, cty.String); err == nil && len(sv.AsString()) >= minSecret {
				q := strconv.Quote(sv.AsString())
				out = append(out, sv.AsString(), q[1:len(q)-1])
			}
			return true, nil
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// NewSensitivity returns the sensitivity of a server of the policy.
func NewSensitivity(s *schema.Server, secrets []string) *Sensitivity {
	sens := &Sensitivity{Paths: map[string]bool{}, secrets: secrets}
	for _, v := range s.Values() {
		if v.Origin.Sensitive {
			sens.Paths[v.Setting.Path] = true
		}
	}
	return sens
}

// SortedPaths returns the sensitive paths, sorted.
func (s *Sensitivity) SortedPaths() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.Paths))
	for p := range s.Paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Value returns v as outputs may show it at path: Redacted when the path
// is sensitive or the value holds a sensitive variable's value.
func (s *Sensitivity) Value(path string, v any) (any, bool) {
	if s == nil || v == nil {
		return v, false
	}
	if s.Paths[path] {
		return Redacted, true
	}
	if len(s.secrets) > 0 {
		b, _ := json.Marshal(v)
		if s.Scrub(string(b)) != string(b) {
			return Redacted, true
		}
	}
	return v, false
}

// Scrub replaces every sensitive variable's value in free text (reasons
// and error messages from agents).
func (s *Sensitivity) Scrub(text string) string {
	if s == nil {
		return text
	}
	for _, sec := range s.secrets {
		if strings.Contains(text, sec) {
			text = strings.ReplaceAll(text, sec, Redacted)
		}
	}
	return text
}
