package agent

import (
	"encoding/json"
	"fmt"
)

// toAPI returns an engine's result (a *scan.Result, *purge.Result, ...)
// as its api type T, whose JSON form is the same field for field
// (TestAPIResultsMatchEngines fills every field of each pair and compares
// the two encodings byte for byte). A nil result stays nil, so that an
// operation shows "result": null as it did before.
//
// The agent converts rather than have the engines fill api types: the
// engines stay free of the wire format (and of one another's packages),
// and a result is converted once per operation or query, off the hot
// paths. The conversion goes through JSON because the engine types carry
// unexported fields and nested types of their own; flat types are
// converted by Go conversions instead (api.ExportSummary(s)).
func toAPI[T, S any](v *S) *T {
	if v == nil {
		return nil
	}
	var out T
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		// Only a divergence of the two types can fail, and the test
		// above catches it.
		panic(fmt.Sprintf("agent: %T does not convert to %T: %v", v, &out, err))
	}
	return &out
}
