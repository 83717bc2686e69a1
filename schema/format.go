package schema

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// maxFormatPasses bounds the passes Format makes to reach a layout that
// formatting no longer changes.
const maxFormatPasses = 5

// Format returns src, the contents of a policy or variable file named
// filename, in the canonical layout: hclwrite's indentation, spacing and
// alignment, LF line endings and, unless the file is empty, exactly one
// newline at the end. Formatting a formatted file changes nothing.
//
// When src does not parse, Format returns no output and the parser's
// diagnostics, which name filename and the line; so does a source nested
// deeper than MaxNestingDepth. It also refuses, with an
// error diagnostic, to return output that would parse to different tokens
// than src, so that a formatter bug can never change a policy's meaning.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if d := checkNesting(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	in := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	out, ok := formatFixedPoint(in)
	if !ok {
		return nil, append(diags, formatBug(filename, "formatting it again keeps changing it"))
	}
	if !sameTokens(in, out) {
		return nil, append(diags, formatBug(filename, "the formatted text would not mean the same"))
	}
	return out, diags
}

// formatFixedPoint formats src until another pass changes nothing. It
// reports false when that takes more than maxFormatPasses passes.
func formatFixedPoint(src []byte) ([]byte, bool) {
	out := formatOnce(src)
	for i := 1; i < maxFormatPasses; i++ {
		next := formatOnce(out)
		if bytes.Equal(next, out) {
			return out, true
		}
		out = next
	}
	return out, false
}

// formatOnce runs hclwrite's formatter and ends the result with exactly
// one newline, or none when nothing but white space is left.
func formatOnce(src []byte) []byte {
	out := bytes.TrimRight(hclwrite.Format(src), " \t\r\n")
	if len(out) == 0 {
		return []byte{}
	}
	return append(out, '\n')
}

// sameTokens reports whether a and b lex to the same tokens, apart from
// white space: newlines at the end of the file and trailing blanks of
// comments are not significant.
func sameTokens(a, b []byte) bool {
	ta, tb := significantTokens(a), significantTokens(b)
	if len(ta) != len(tb) {
		return false
	}
	for i := range ta {
		if ta[i] != tb[i] {
			return false
		}
	}
	return true
}

// significantTokens lexes src and returns each token as its type and its
// text, dropping the newlines before the end of the file.
func significantTokens(src []byte) []string {
	toks, _ := hclsyntax.LexConfig(src, "", hcl.InitialPos)
	var out []string
	for _, t := range toks {
		text := t.Bytes
		if t.Type == hclsyntax.TokenComment {
			text = bytes.TrimRight(text, " \t\r\n")
		}
		out = append(out, fmt.Sprintf("%s %q", t.Type, text))
	}
	return trimTrailingNewlines(out)
}

// trimTrailingNewlines drops the newline tokens directly before the final
// end-of-file token.
func trimTrailingNewlines(toks []string) []string {
	newline := fmt.Sprintf("%s %q", hclsyntax.TokenNewline, "\n")
	end := len(toks) - 1 // the EOF token
	for end > 0 && toks[end-1] == newline {
		end--
	}
	return append(toks[:end:end], toks[len(toks)-1])
}

// formatBug is the diagnostic for a file that Format refuses to rewrite
// because the formatter misbehaved.
func formatBug(filename, why string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cannot format file",
		Detail: fmt.Sprintf("mailkeep cannot format %s: %s. The file is left as it is; "+
			"please report this as a bug, with the file.", filename, why),
	}
}
