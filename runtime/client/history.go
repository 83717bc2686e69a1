package client

import (
	"context"
	"net/url"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// History returns an account's significant events from since on ("" for
// all), as the agent reads instants.
func (c *Client) History(ctx context.Context, account, since string) ([]api.Event, error) {
	path := "/backup/accounts/" + url.PathEscape(account) + "/history"
	if since != "" {
		path += "?" + url.Values{"since": {since}}.Encode()
	}
	var out api.History
	if _, err := c.do(ctx, "GET", path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

// Diff returns what changed in an account between two instants (to: ""
// for now).
func (c *Client) Diff(ctx context.Context, account, from, to string) (*api.Diff, error) {
	q := url.Values{"from": {from}}
	if to != "" {
		q.Set("to", to)
	}
	var out api.Diff
	if _, err := c.do(ctx, "GET", "/backup/accounts/"+url.PathEscape(account)+"/diff?"+q.Encode(), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
