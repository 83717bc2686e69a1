package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// lexerDepth is the nesting depth that checkNesting measures, computed
// from the HCL lexer's own tokens: the reference the one-pass scanner must
// match. ok is false when the tokens are not balanced (a syntax error the
// parser reports), where the two may differ.
func lexerDepth(src []byte) (max int, ok bool) {
	toks, _ := hclsyntax.LexConfig(src, "t.hcl", hcl.InitialPos)
	type level struct {
		body bool
		ops  int
	}
	type mode struct {
		levels []level
		ops    int
	}
	modes := []*mode{{levels: []level{{body: true}}}}
	depth := 0
	bump := func(n int) {
		depth += n
		if depth > max {
			max = depth
		}
	}
	top := func() *mode { return modes[len(modes)-1] }
	lvl := func() *level { m := top(); return &m.levels[len(m.levels)-1] }
	endElement := func() { depth -= lvl().ops; lvl().ops = 0 }
	value := false
	for i, t := range toks {
		wasValue := value
		value = false
		switch t.Type {
		case hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			modes = append(modes, &mode{})
			bump(1)
		case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			k := i + 1
			for k < len(toks) && (toks[k].Type == hclsyntax.TokenNewline || toks[k].Type == hclsyntax.TokenComment) {
				k++
			}
			if t.Type == hclsyntax.TokenTemplateControl && k < len(toks) {
				switch string(toks[k].Bytes) {
				case "if", "for":
					top().ops++
					bump(1)
				case "endif", "endfor":
					if top().ops > 0 {
						top().ops--
						depth--
					}
				}
			}
			modes = append(modes, &mode{levels: []level{{}}})
			bump(1)
		case hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(modes) == 1 {
				return max, false
			}
			m := top()
			n := 1 + m.ops
			for j, l := range m.levels {
				n += l.ops
				if j > 0 {
					n++
				}
			}
			depth -= n
			modes = modes[:len(modes)-1]
			value = true
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace:
			if t.Type == hclsyntax.TokenOBrack && wasValue {
				lvl().ops++
				bump(1)
			}
			top().levels = append(top().levels, level{body: t.Type == hclsyntax.TokenOBrace})
			bump(1)
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace:
			m := top()
			if len(m.levels) < 2 {
				return max, false
			}
			depth -= 1 + m.levels[len(m.levels)-1].ops
			m.levels = m.levels[:len(m.levels)-1]
			value = true
		case hclsyntax.TokenComma:
			endElement()
		case hclsyntax.TokenNewline:
			if lvl().body {
				endElement()
			}
		case hclsyntax.TokenComment:
			if bytes.HasSuffix(t.Bytes, []byte("\n")) && lvl().body {
				endElement()
			}
			if bytes.HasPrefix(t.Bytes, []byte("/*")) {
				value = wasValue
			}
		case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit:
			value = true
		case hclsyntax.TokenBang, hclsyntax.TokenQuestion, hclsyntax.TokenPlus, hclsyntax.TokenMinus,
			hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent, hclsyntax.TokenLessThan,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenEqualOp,
			hclsyntax.TokenNotEqual, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenBitwiseAnd, hclsyntax.TokenBitwiseOr, hclsyntax.TokenBitwiseXor, hclsyntax.TokenBitwiseNot:
			lvl().ops++
			bump(1)
		case hclsyntax.TokenDot:
			value = wasValue
		case hclsyntax.TokenInvalid, hclsyntax.TokenBadUTF8, hclsyntax.TokenNil:
			return max, false
		}
	}
	return max, len(modes) == 1 && len(modes[0].levels) == 1
}

// nestingSamples are inputs whose lexing takes every path of the scanner.
var nestingSamples = []string{
	``,
	`a = 1`,
	`a = ((1))`,
	`a = [[1], [2, [3]]]`,
	`a = { b = { c = 1 } }`,
	"server \"x\" {\n  a = 1 + 2 * 3 - 4\n  b = !true && false || a == b\n}\n",
	`a = x ? y ? 1 : 2 : 3`,
	`a = "plain"`,
	`a = "x${1 + (2)}y${"${z}"}"`,
	`a = "escaped \" quote ( [ {"`,
	`a = "$${not} %%{not} $ % ${ {a = 1}.a }"`,
	`a = "%{ if x }${y}%{ else }z%{ endif }"`,
	`a = "%{~ for v in xs ~}${v}%{~ endfor ~}"`,
	"a = \"%{/**/if x}%{\n if y}%{ # c\n if z}%{ // c\n for v in w}%{endfor}%{endif}%{endif}%{ endif }\"\n",
	"a = <<EOT\nline ${ (1) }\n  EOT\nb = [1]\n",
	"a = <<-EOT\n  ((( \"\n  EOT\n",
	"a = <<EOT\nEOT x\nEOT\n",
	"a = <<EOT\r\nx\r\nEOT\r\nb = (1)\r\n",
	"a = <<EOT\nx ${ <<INNER\n(\nINNER\n} y\nEOT\n",
	"# comment (((\n// another [[[\na = /* {{{ */ 1\n",
	"a = [\n  1,\n  2,\n]\n",
	"a = {\n  b = 1\n  c = [for k, v in m : v if k != \"x\"]\n  d = {for k, v in m : k => v...}\n}\n",
	`a = var.list[0][var.i][*].name`,
	`a = f(g(1), h(2, 3))`,
	`a = my-name - other-name`,
	`a = 1e-5 - 2E+3 - 1-2`,
	`a = 0E+ 1e- 2e 3.e5`,
	`a = -(-(!x))`,
	`a = 1 <= 2 >= 3 != 4`,
	"a = \"unterminated\nb = (((1)))\"\n",
}

// TestNestingMatchesLexer checks the one-pass scanner against the depth
// computed from the HCL lexer's tokens, on the samples and every fixture.
func TestNestingMatchesLexer(t *testing.T) {
	inputs := append([]string(nil), nestingSamples...)
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			inputs = append(inputs, string(b))
		}
	}
	for _, src := range inputs {
		checkNestingAgainstLexer(t, []byte(src), true)
	}
}

// checkNestingAgainstLexer checks that the scanner never finds src less
// deeply nested than the lexer does, which would let the parser recurse
// past the limit, and with exact that it finds the same depth: on odd
// bytes (a broken UTF-8 sequence the lexer takes into an identifier) it may
// count an operator the lexer does not see.
func checkNestingAgainstLexer(t *testing.T, src []byte, exact bool) {
	t.Helper()
	want, ok := lexerDepth(src)
	if !ok {
		return
	}
	if want > 0 {
		if _, within := nestingWithin(src, want-1); within {
			t.Errorf("scanner finds nesting shallower than the lexer's %d in %q", want, src)
		}
	}
	if _, within := nestingWithin(src, want); exact && !within {
		t.Errorf("scanner finds deeper nesting than the lexer's %d in %q", want, src)
	}
}

// FuzzNesting checks on arbitrary input that the scanner never finds less
// nesting than the lexer.
func FuzzNesting(f *testing.F) {
	for _, s := range nestingSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) { checkNestingAgainstLexer(t, src, false) })
}

// TestNestingTooDeep checks the diagnostic for each kind of nesting, at
// the first place it goes too deep, and that a policy this deep crashes
// neither Load nor Format.
func TestNestingTooDeep(t *testing.T) {
	n := 100_000
	cases := map[string]string{
		"parentheses":          "a = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"brackets":             "a = " + strings.Repeat("[", n) + strings.Repeat("]", n),
		"braces":               strings.Repeat("b {\n", n) + strings.Repeat("}\n", n),
		"templates":            "a = " + strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n),
		"not":                  "a = " + strings.Repeat("!", n) + "true",
		"minus chain":          "a = 1" + strings.Repeat(" - 1", n),
		"conditional":          "a = " + strings.Repeat("x ? 1 : ", n) + "2",
		"index chain":          "a = f()" + strings.Repeat("[x]", n),
		"directives":           "a = \"" + strings.Repeat("%{ if x }", n) + "\"",
		"commented directives": "a = \"" + strings.Repeat("%{/**/if x}", n) + "\"",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			src := "server \"mx1\" {\n  address = \"https://mx1:7443\"\n  mail_store = \"maildir:/v/%d/%n\"\n}\n" + body + "\n"
			dir := writePolicy(t, map[string]string{"main.hcl": src})
			_, diags := Load(dir, LoadOptions{})
			if len(diags) != 1 || diags[0].Summary != "Nesting too deep" || diags[0].Subject == nil || diags[0].Subject.Start.Line < 5 {
				t.Fatalf("want one nesting error from line 5 on, got:\n%s", details(diags))
			}
			if !strings.Contains(diags[0].Detail, filepath.Join(dir, "main.hcl")+" nests deeper than 500 levels") {
				t.Errorf("detail %q does not name the file and the limit", diags[0].Detail)
			}
			var out bytes.Buffer
			WriteDiagnostics(&out, diags, nil, false)
			if !strings.Contains(out.String(), "main.hcl line ") {
				t.Errorf("rendered diagnostic has no location:\n%.400s", out.String())
			}
			if _, diags := Format([]byte(src), "main.hcl"); len(diags) != 1 || diags[0].Summary != "Nesting too deep" {
				t.Errorf("Format: want the nesting error, got:\n%s", details(diags))
			}
		})
	}
}

// TestNestingWithinLimit checks that nesting up to the limit loads.
func TestNestingWithinLimit(t *testing.T) {
	d := MaxNestingDepth - 1 // the quotes of the string count a level
	src := "server \"mx1\" {\n  address = \"https://mx1:7443\"\n  mail_store = \"maildir:/v/%d/%n\"\n" +
		"  description = " + strings.Repeat("(", d-1) + `"x"` + strings.Repeat(")", d-1) + "\n}\n"
	if _, ok := nestingWithin([]byte(src), MaxNestingDepth); !ok {
		t.Fatalf("the sample nests deeper than %d", MaxNestingDepth)
	}
	if p, diags := Load(writePolicy(t, map[string]string{"main.hcl": src}), LoadOptions{}); p == nil {
		t.Fatalf("a policy nested %d deep does not load:\n%s", MaxNestingDepth, details(diags))
	}
}

// TestJSONDecodeTooDeep checks that jsondecode refuses JSON nested deeper
// than the limit, which overflowed the stack, and decodes it up to there.
func TestJSONDecodeTooDeep(t *testing.T) {
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{MaxNestingDepth, true}, {3_000_000, false}} {
		js := strings.Repeat("[", tc.depth) + strings.Repeat("]", tc.depth)
		src := smallPolicy + "locals {\n  x = jsondecode(\"" + js + "\")\n}\n"
		p, diags := Load(writePolicy(t, map[string]string{"main.hcl": src}), LoadOptions{})
		if tc.ok {
			if p == nil {
				t.Errorf("depth %d: %s", tc.depth, details(diags))
			}
			continue
		}
		if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 6 ||
			!strings.Contains(diags[0].Detail, "the JSON nests deeper than 500 levels at byte 500") {
			t.Errorf("depth %d: want one error on line 6, got:\n%s", tc.depth, details(diags))
		}
	}
}
