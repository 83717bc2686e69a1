package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix prefixes environment variables that set policy variables.
const EnvVarPrefix = "MAILKEEP_VAR_"

// AutoVarsFile is the variable file loaded automatically from the policy
// directory, before any *.auto.mkvars file.
const AutoVarsFile = "mailkeep" + VarsExt

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// literalContext evaluates expressions that may call functions but may not
// refer to variables: defaults and values in variable files.
var literalContext = &hcl.EvalContext{Functions: functions}

// decodeVariables decodes the variable blocks.
func (l *loader) decodeVariables(blocks []*hcl.Block) {
	l.variables = map[string]*Variable{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(b.LabelRanges[0], "Invalid variable name",
				"%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)
			continue
		}
		if prev, ok := l.variables[name]; ok {
			l.errorf(b.DefRange, "Duplicate variable", "The variable %q was already declared at %s.", name, rangeString(prev.DeclRange))
			continue
		}
		v := &Variable{Name: name, Type: cty.DynamicPseudoType, Default: cty.NilVal, DeclRange: b.DefRange}
		content, diags := b.Body.Content(variableSchema)
		l.diags = append(l.diags, diags...)
		if a, ok := content.Attributes["type"]; ok {
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			l.diags = append(l.diags, diags...)
			if !diags.HasErrors() {
				v.Type = ty
			}
		}
		if a, ok := content.Attributes["description"]; ok {
			l.decodeLiteral(a, cty.String, func(val cty.Value) { v.Description = val.AsString() })
		}
		if a, ok := content.Attributes["sensitive"]; ok {
			l.decodeLiteral(a, cty.Bool, func(val cty.Value) { v.Sensitive = val.True() })
		}
		if a, ok := content.Attributes["default"]; ok {
			val, diags := a.Expr.Value(literalContext)
			l.diags = append(l.diags, diags...)
			if !diags.HasErrors() {
				if cv, err := convert.Convert(val, v.Type); err != nil {
					l.errorf(a.Expr.Range(), "Invalid default value",
						"The default of variable %q does not match its type %s: %s.", name, typeexpr.TypeString(v.Type), err)
				} else {
					v.Default = cv
				}
			}
		}
		for _, vb := range content.Blocks {
			vc, diags := vb.Body.Content(validationSchema)
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			v.validations = append(v.validations, variableValidation{
				Condition: vc.Attributes["condition"].Expr, ErrorMessage: vc.Attributes["error_message"].Expr, DeclRange: vb.DefRange,
			})
		}
		l.variables[name] = v
	}
}

// decodeLiteral evaluates a literal attribute of type ty and hands it to set.
func (l *loader) decodeLiteral(a *hcl.Attribute, ty cty.Type, set func(cty.Value)) {
	val, diags := a.Expr.Value(literalContext)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	cv, err := convert.Convert(val, ty)
	if err != nil || cv.IsNull() {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type", "%s must be a %s.", a.Name, ty.FriendlyName())
		return
	}
	set(cv)
}

// assignment is one value given to a variable, before conversion.
type assignment struct {
	name   string
	source string
	// raw is set for -var and environment values; expr for files.
	raw   *string
	expr  hcl.Expression
	rng   *hcl.Range
	fatal bool // an undeclared name here is an error, not a warning
}

// assignVariables gives every variable its final value, by precedence:
// MAILKEEP_VAR_<name> < mailkeep.mkvars < *.auto.mkvars (lexical) <
// -var and -var-file in command-line order.
func (l *loader) assignVariables() {
	var as []assignment
	for _, kv := range l.opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvVarPrefix)
		if _, declared := l.variables[name]; !declared {
			continue // the environment is shared; ignore strangers
		}
		val := v
		as = append(as, assignment{name: name, source: "environment variable " + k, raw: &val})
	}
	sort.SliceStable(as, func(i, j int) bool { return as[i].name < as[j].name })

	if auto := filepath.Join(l.dir, AutoVarsFile); fileExists(auto) {
		as = append(as, l.varFile(auto)...)
	}
	matches, _ := filepath.Glob(filepath.Join(l.dir, "*.auto"+VarsExt))
	sort.Strings(matches)
	for _, m := range matches {
		as = append(as, l.varFile(m)...)
	}
	for _, a := range l.opts.Vars {
		if a.File != "" {
			if _, err := os.Stat(a.File); errors.Is(err, fs.ErrNotExist) {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variable file",
					Detail: fmt.Sprintf("-var-file %s: no such file.", a.File)})
				continue
			}
			as = append(as, l.varFile(a.File)...)
			continue
		}
		val := a.Value
		as = append(as, assignment{name: a.Name, source: "-var", raw: &val, fatal: true})
	}

	for _, a := range as {
		v, ok := l.variables[a.name]
		if !ok {
			detail := fmt.Sprintf("%s sets %q, but no variable block declares it.", a.source, a.name)
			if s := suggest(a.name, l.variableNames()); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable", Detail: detail, Subject: a.rng}
			if a.fatal {
				d.Severity = hcl.DiagError
			}
			l.diags = append(l.diags, d)
			continue
		}
		val, ok := l.assignmentValue(v, a)
		if !ok {
			// Reported; the unknown keeps the variable from being reported
			// missing too, and what depends on it from being checked.
			v.Value, v.Source = cty.UnknownVal(v.Type), a.source
			continue
		}
		if val.IsNull() && v.Default != cty.NilVal {
			val = v.Default
		}
		v.Value, v.Source = val, a.source
	}

	for _, v := range l.sortedVariables() {
		if v.Value != cty.NilVal {
			continue
		}
		if v.Default == cty.NilVal {
			l.errorf(v.DeclRange, "No value for required variable",
				"The variable %q has no default; set it with -var %s=VALUE, -var-file, a %s file or the environment variable %s%s.",
				v.Name, v.Name, VarsExt, EnvVarPrefix, v.Name)
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		v.Value, v.Source = v.Default, "default"
	}
	l.validateVariables()
}

// varFile reads a variable file's assignments.
func (l *loader) varFile(name string) []assignment {
	f, _ := l.parseFile(name, "variable")
	if f == nil {
		return nil
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	var out []assignment
	for _, a := range list {
		rng := a.NameRange
		out = append(out, assignment{name: a.Name, source: rangeString(a.Range), expr: a.Expr, rng: &rng})
	}
	return out
}

// assignmentValue evaluates and converts one assignment.
func (l *loader) assignmentValue(v *Variable, a assignment) (cty.Value, bool) {
	var val cty.Value
	subject := a.rng
	if a.raw != nil {
		if v.Type.IsPrimitiveType() || v.Type == cty.DynamicPseudoType {
			val = cty.StringVal(*a.raw)
		} else {
			fname := fmt.Sprintf("<value for var.%s>", v.Name)
			if d := checkNesting([]byte(*a.raw), fname); d != nil {
				d.Detail = fmt.Sprintf("The value of %q from %s: %s", v.Name, a.source, d.Detail)
				l.diags = append(l.diags, d)
				return cty.NilVal, false
			}
			expr, diags := hclsyntax.ParseExpression([]byte(*a.raw), fname, hcl.InitialPos)
			if diags.HasErrors() {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("The value of %q from %s is not a valid expression for type %s: %s.",
						v.Name, a.source, typeexpr.TypeString(v.Type), diags[0].Summary)})
				return cty.NilVal, false
			}
			var vdiags hcl.Diagnostics
			val, vdiags = expr.Value(literalContext)
			if vdiags.HasErrors() {
				l.diags = append(l.diags, vdiags...)
				return cty.NilVal, false
			}
		}
	} else {
		var diags hcl.Diagnostics
		val, diags = a.expr.Value(literalContext)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			return cty.NilVal, false
		}
		r := a.expr.Range()
		subject = &r
	}
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail:  fmt.Sprintf("The value of %q from %s does not match its type %s: %s.", v.Name, a.source, typeexpr.TypeString(v.Type), err),
			Subject: subject})
		return cty.NilVal, false
	}
	return cv, true
}

// validateVariables runs the validation blocks of every variable.
func (l *loader) validateVariables() {
	for _, v := range l.sortedVariables() {
		if !v.Value.IsWhollyKnown() {
			continue
		}
		val := v.Value
		if v.Sensitive {
			val = val.Mark(sensitiveMark)
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
			Functions: functions,
		}
		for _, vv := range v.validations {
			res, diags := vv.Condition.Value(ctx)
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			res, _ = res.Unmark()
			res, err := convert.Convert(res, cty.Bool)
			if err != nil || res.IsNull() {
				l.errorf(vv.Condition.Range(), "Invalid validation condition", "The condition must be true or false.")
				continue
			}
			if res.True() {
				continue
			}
			msg := "The value is not valid."
			if m, diags := vv.ErrorMessage.Value(ctx); !diags.HasErrors() {
				if m.IsMarked() {
					msg = "The value is not valid; the validation's error message is not shown because it contains a sensitive value."
				} else if m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
					msg = m.AsString()
				}
			}
			l.errorf(vv.Condition.Range(), "Invalid value for variable",
				"%s\n\nvar.%s was set by %s.", msg, v.Name, v.Source)
		}
	}
}

func (l *loader) sortedVariables() []*Variable {
	out := make([]*Variable, 0, len(l.variables))
	for _, v := range l.variables {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (l *loader) variableNames() []string {
	var names []string
	for n := range l.variables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func fileExists(name string) bool {
	st, err := os.Stat(name)
	return err == nil && !st.IsDir()
}
