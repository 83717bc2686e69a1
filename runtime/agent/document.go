package agent

import (
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/schema"
)

// decodeDocument decodes a config document sent to the agent and checks
// what only the server itself can: that restore.post_command_user is a
// user here. A failure is a *BadRequestError.
func decodeDocument(body []byte) (*schema.Document, error) {
	doc, err := schema.DecodeDocument(body)
	if err != nil {
		return nil, &BadRequestError{err}
	}
	if _, err := restore.CommandUser(doc.Config().Restore.PostCommandUser); err != nil {
		return nil, &BadRequestError{err}
	}
	return doc, nil
}
