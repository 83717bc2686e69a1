package schema

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// jsonDecodeFunc is jsondecode, refusing JSON nested deeper than
// MaxNestingDepth: the decoder recurses once per level, and a string of
// megabytes of brackets would overflow the stack.
var jsonDecodeFunc = function.New(&function.Spec{
	Description: stdlib.JSONDecodeFunc.Description(),
	Params:      stdlib.JSONDecodeFunc.Params(),
	Type: func(args []cty.Value) (cty.Type, error) {
		if v := args[0]; v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			if err := checkJSONDepth(v.AsString()); err != nil {
				return cty.NilType, function.NewArgError(0, err)
			}
		}
		return stdlib.JSONDecodeFunc.ReturnTypeForValues(args)
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return stdlib.JSONDecodeFunc.Call(args)
	},
})

// checkJSONDepth reports JSON nested deeper than MaxNestingDepth.
func checkJSONDepth(s string) error {
	depth, inString := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > MaxNestingDepth {
				return fmt.Errorf("the JSON nests deeper than %d levels at byte %d; mailkeep reads no deeper", MaxNestingDepth, i)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}
