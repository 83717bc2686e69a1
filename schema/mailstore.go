package schema

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/mailkeep/mailkeep/runtime/maildir/location"
)

// checkMailStore validates mail_store through the store's own parser.
func checkMailStore(v cty.Value) *hcl.Diagnostic {
	if _, err := location.Parse(v.AsString()); err != nil {
		return invalid("Invalid mail_store", "%s.", err)
	}
	return nil
}
