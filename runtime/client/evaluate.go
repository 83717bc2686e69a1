package client

import (
	"context"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// Evaluate asks the agent what replacing its live config by doc would do
// to the backup, without applying it (POST /v1/config/evaluate).
func (c *Client) Evaluate(ctx context.Context, doc []byte) (*api.Evaluation, error) {
	var ev api.Evaluation
	if _, err := c.do(ctx, "POST", "/config/evaluate", nil, doc, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// CloseIdleConnections closes the connections kept open for reuse; a
// client stays usable.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }
