package reconcile

import (
	"bytes"
	"encoding/json"

	"github.com/mailkeep/mailkeep/schema"
)

// flatten returns a document's settings by path as JSON values.
func flatten(d *schema.Document) map[string]any {
	return flattenMap(d.Map())
}

// flattenMap returns the settings of a document in its JSON form (as
// Document.Map returns it, or decoded from JSON) by path.
func flattenMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(schema.Settings()))
	for _, st := range schema.Settings() {
		if b := st.Block(); b != "" {
			if sub, ok := m[b].(map[string]any); ok {
				out[st.Path] = sub[st.Attr()]
			}
			continue
		}
		out[st.Path] = m[st.Path]
	}
	return out
}

// redactValues returns a copy of flattened values with sensitive ones
// redacted.
func redactValues(vals map[string]any, sens *Sensitivity) map[string]any {
	out := make(map[string]any, len(vals))
	for p, v := range vals {
		out[p], _ = sens.Value(p, v)
	}
	return out
}

// nest turns flattened values back into a document's JSON shape, with
// format_version.
func nest(vals map[string]any) map[string]any {
	root := map[string]any{"format_version": schema.DocumentFormatVersion}
	for _, st := range schema.Settings() {
		v, ok := vals[st.Path]
		if !ok {
			continue
		}
		if b := st.Block(); b != "" {
			m, _ := root[b].(map[string]any)
			if m == nil {
				m = map[string]any{}
				root[b] = m
			}
			m[st.Attr()] = v
			continue
		}
		root[st.Path] = v
	}
	return root
}

// sameValue compares two JSON values by their encoding.
func sameValue(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// diffValues returns the changes from before to after, in settings order;
// before is nil for a create, and every setting is then a change. Values
// are redacted by sens.
func diffValues(before, after map[string]any, sens *Sensitivity) []Change {
	var out []Change
	for _, st := range schema.Settings() {
		a := after[st.Path]
		var b any
		if before != nil {
			b = before[st.Path]
			if sameValue(a, b) {
				continue
			}
		}
		c := Change{Path: st.Path, Inactive: !st.Active}
		var sa, sb bool
		c.After, sa = sens.Value(st.Path, a)
		c.Before, sb = sens.Value(st.Path, b)
		c.Sensitive = sa || sb
		out = append(out, c)
	}
	return out
}
