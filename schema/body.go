package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// clientFields are the server-only attributes that say how to reach an
// agent; they never reach the agent's config document.
var clientFields = []hcl.AttributeSchema{
	{Name: "address"},
	{Name: "token_file"},
	{Name: "token_env"},
	{Name: "ca_file"},
	{Name: "protect"},
}

// settingsSchema returns the body schema of a global or server block.
func settingsSchema(extra ...hcl.AttributeSchema) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, st := range blockSettings("") {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: st.Path})
	}
	s.Attributes = append(s.Attributes, extra...)
	for _, b := range nestedBlocks {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: b})
	}
	return s
}

// nestedSchemas are the body schemas of the nested blocks, by block name.
var nestedSchemas = func() map[string]*hcl.BodySchema {
	m := map[string]*hcl.BodySchema{}
	for _, b := range nestedBlocks {
		s := &hcl.BodySchema{}
		for _, st := range blockSettings(b) {
			s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: st.Attr()})
		}
		m[b] = s
	}
	return m
}()

// decodeSettings evaluates the setting attributes of a global or server
// body. It returns the values that were set (null values count as unset)
// and the body's content, for the caller's own attributes.
func (l *loader) decodeSettings(content *hcl.BodyContent, ctx *hcl.EvalContext, kind OriginKind) map[string]Value {
	out := map[string]Value{}
	for _, st := range blockSettings("") {
		if a, ok := content.Attributes[st.Path]; ok {
			l.decodeSetting(st, a, ctx, kind, out)
		}
	}
	seen := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		if prev, ok := seen[b.Type]; ok {
			l.errorf(b.DefRange, "Duplicate "+b.Type+" block",
				"A %s block was already defined at %s; put all of its attributes in one block.", b.Type, rangeString(prev.DefRange))
			continue
		}
		seen[b.Type] = b
		inner, diags := b.Body.Content(nestedSchemas[b.Type])
		l.diags = append(l.diags, diags...)
		for _, st := range blockSettings(b.Type) {
			if a, ok := inner.Attributes[st.Attr()]; ok {
				l.decodeSetting(st, a, ctx, kind, out)
			}
		}
	}
	return out
}

// decodeSetting evaluates, converts and checks one setting attribute.
func (l *loader) decodeSetting(st *Setting, a *hcl.Attribute, ctx *hcl.EvalContext, kind OriginKind, out map[string]Value) {
	origin := Origin{Kind: kind, Range: a.Range, Vars: l.references(a.Expr)}
	// A value that was set but is invalid stays in out as an unknown, so
	// that merge neither inherits nor reports it missing: its error is
	// reported once, here or where the variable failed.
	failed := func() { out[st.Path] = Value{Setting: st, Val: cty.UnknownVal(st.Type), Origin: origin} }
	val, diags := a.Expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		failed()
		return
	}
	val, marks := val.UnmarkDeep()
	_, origin.Sensitive = marks[sensitiveMark]
	rng := a.Expr.Range()
	if !val.IsWhollyKnown() {
		// Only a failed variable or local leaves unknowns behind; it is
		// reported.
		failed()
		return
	}
	if val.IsNull() {
		return // null means "not set here": inherit
	}
	cv, err := convert.Convert(val, st.Type)
	if err != nil {
		l.errorf(rng, "Incorrect value type", "%s must be %s: %s.%s", st.Path, friendlyType(st.Type), err, l.viaDetail(origin))
		failed()
		return
	}
	if st.Type.IsListType() {
		for it := cv.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				l.errorf(rng, "Null list element", "%s must not contain null elements.%s", st.Path, l.viaDetail(origin))
				failed()
				return
			}
		}
	}
	for _, chk := range st.Checks {
		if d := chk(cv); d != nil {
			d.Subject = &rng
			if origin.Sensitive {
				d.Detail = fmt.Sprintf("The value of %s is not valid (%s); it comes from a sensitive variable, so it is not shown.", st.Path, strings.ToLower(d.Summary))
			}
			d.Detail += l.viaDetail(origin)
			l.diags = append(l.diags, d)
			failed()
			return
		}
	}
	out[st.Path] = Value{Setting: st, Val: cv, Origin: origin}
}

// viaDetail explains which variables a value came through, for messages.
func (l *loader) viaDetail(o Origin) string {
	var parts []string
	for _, ref := range o.Vars {
		name, ok := strings.CutPrefix(ref, "var.")
		if !ok {
			continue
		}
		if v, ok := l.variables[name]; ok && v.Source != "" {
			parts = append(parts, fmt.Sprintf("var.%s (set by %s)", name, v.Source))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " The value comes from " + strings.Join(parts, ", ") + "."
}

func friendlyType(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of " + strings.TrimPrefix(friendlyType(t.ElementType()), "a ") + "s"
	}
	return t.FriendlyName()
}
