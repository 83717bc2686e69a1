package schema

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// local is one named value from a locals block.
type local struct {
	attr  *hcl.Attribute
	value cty.Value
	// vars are the variables and locals it was computed from.
	vars []string
}

// evalLocals evaluates the locals blocks in dependency order, reporting
// duplicates, unknown references and cycles.
func (l *loader) evalLocals(blocks []*hcl.Block) {
	l.locals = map[string]*local{}
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for name, a := range attrs {
			if prev, ok := l.locals[name]; ok {
				l.errorf(a.NameRange, "Duplicate local value", "The local %q was already defined at %s.", name, rangeString(prev.attr.Range))
				continue
			}
			l.locals[name] = &local{attr: a}
		}
	}
	names := make([]string, 0, len(l.locals))
	for n := range l.locals {
		names = append(names, n)
	}
	sort.Strings(names)

	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		lc := l.locals[name]
		switch state[name] {
		case done:
			return
		case visiting:
			l.errorf(lc.attr.Expr.Range(), "Cycle in local values",
				"local.%s refers to itself through %s.", name, strings.Join(append(path, "local."+name), " -> "))
			lc.value = cty.DynamicVal
			return
		}
		state[name] = visiting
		for _, dep := range localRefs(lc.attr.Expr) {
			if _, ok := l.locals[dep]; ok {
				visit(dep, append(path, "local."+name))
			}
		}
		if lc.value == cty.NilVal {
			l.ctx = nil
			val, diags := lc.attr.Expr.Value(l.evalContext())
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				val = cty.DynamicVal
			}
			lc.value = val
			lc.vars = l.references(lc.attr.Expr)
		}
		state[name] = done
		l.ctx = nil
	}
	for _, n := range names {
		visit(n, nil)
	}
}

// localRefs returns the names of the locals an expression refers to.
func localRefs(expr hcl.Expression) []string {
	var out []string
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok {
			out = append(out, a.Name)
		}
	}
	return out
}

// references returns the variables and locals an expression depends on,
// directly or through locals, as sorted "var.NAME" and "local.NAME" strings.
func (l *loader) references(expr hcl.Expression) []string {
	set := map[string]bool{}
	for _, t := range expr.Variables() {
		if len(t) < 2 {
			continue
		}
		a, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		switch t.RootName() {
		case "var":
			set["var."+a.Name] = true
		case "local":
			set["local."+a.Name] = true
			if lc, ok := l.locals[a.Name]; ok {
				for _, v := range lc.vars {
					set[v] = true
				}
			}
		case "each":
			set["each."+a.Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
